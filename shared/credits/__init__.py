"""The credit ledger: lots with expiry, an exact balance, reservations settled idempotently."""
