"""First-start data for the local stack: the catalog, a demo Pro account with credits and a key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.accounts.models import Account, Consent
from shared.adapters import account_store, catalog_store, key_store
from shared.catalog.loader import DEFAULT_CATALOG_FILE, load_catalog_file
from shared.keys.secrets import key_hash
from shared.keys.service import issue_key, now_iso

DEMO_ACCOUNT = "acct_demo"
DEMO_CREDITS = 10_000


@dataclass(frozen=True)
class Seeded:
    raw_key: str
    account_id: str
    new_key: bool


def seed_catalog(catalog_file: Path | None) -> int:
    """Load the catalog file when the table is empty, or always when a file is named explicitly."""
    if catalog_file is None and catalog_store.read_catalog().models:
        return 0
    catalog = load_catalog_file(catalog_file or DEFAULT_CATALOG_FILE)
    catalog_store.write_catalog(catalog)
    return len(catalog.models)


def seed_demo_account(known_key: str | None) -> Seeded:
    """The demo account and its key; reuses ``known_key`` when it is still valid."""
    created = account_store.create_account(
        Account(
            account_id=DEMO_ACCOUNT,
            email="demo@sluice.local",
            plan="pro",
            consent=Consent(
                terms_version="local",
                privacy_version="local",
                responsible_ai_version="local",
                accepted_at=now_iso(),
            ),
            created_at=now_iso(),
        )
    )
    if created:
        from shared.credits.ledger import grant_credits

        grant_credits(
            DEMO_ACCOUNT, DEMO_CREDITS, source="admin", reference="local-demo-seed", expires_at=None
        )
    if known_key:
        record = key_store.get_key_by_hash(key_hash(known_key))
        if record is not None and record.status == "active" and record.account_id == DEMO_ACCOUNT:
            return Seeded(raw_key=known_key, account_id=DEMO_ACCOUNT, new_key=False)
    issued = issue_key(DEMO_ACCOUNT, "demo")
    return Seeded(raw_key=issued.raw_key, account_id=DEMO_ACCOUNT, new_key=True)
