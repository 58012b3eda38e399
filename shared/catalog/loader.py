"""Load a catalog file (the repo's default, or an operator's own)."""

from __future__ import annotations

import json
from pathlib import Path

from shared.catalog.models import Catalog

DEFAULT_CATALOG_FILE = Path(__file__).with_name("default_catalog.json")


def load_catalog_file(path: Path | str = DEFAULT_CATALOG_FILE) -> Catalog:
    catalog = Catalog.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    ids = [m.id for m in catalog.models]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate model ids in {path}: {sorted(duplicates)}")
    return catalog
