"""Accounts: plan, default key, consent."""
