"""The rate-limit policy, loaded from policy.json (data, not code).

Two presets: ``endpoint`` (the per-endpoint table, always on) and ``credit_balance`` (optional:
a key's chat limits follow its account's credit balance band instead of the per-key row).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

Limiter = Literal["ip", "key", "account_key", "tool", "user", "user+ip", "user+session+ip"]
Stage = Literal["pre_auth", "post_auth"]
POLICY_FILE = Path(__file__).with_name("policy.json")


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: int


@dataclass(frozen=True)
class Rule:
    endpoint: str
    limiter: Limiter
    free: Window
    pro: Window
    stage: Stage = "post_auth"
    name: str = ""

    def window(self, plan: str) -> Window:
        return self.pro if plan == "pro" else self.free

    @property
    def rule_id(self) -> str:
        return self.name or f"{self.endpoint}:{self.limiter}"


@dataclass(frozen=True)
class BalanceBand:
    min_balance: int
    max_balance: int | None
    minute: int
    hour: int
    day: int

    def contains(self, balance: int) -> bool:
        return balance >= self.min_balance and (self.max_balance is None or balance <= self.max_balance)


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    balance_bands: tuple[BalanceBand, ...]
    balance_endpoint: str

    def rules_for(self, endpoint: str, stage: Stage | None = None) -> list[Rule]:
        return [r for r in self.rules if r.endpoint == endpoint and (stage is None or r.stage == stage)]

    def balance_rules(self, balance: int) -> list[Rule]:
        """Per-key chat rules of the credit-balance preset for an account holding ``balance`` credits."""
        band = next((b for b in self.balance_bands if b.contains(balance)), None)
        if band is None:  # no credits: the credit check refuses the request anyway
            band = self.balance_bands[0]
        spans = (("minute", 60, band.minute), ("hour", 3600, band.hour), ("day", 86400, band.day))
        return [
            Rule(
                self.balance_endpoint,
                "key",
                Window(n, s),
                Window(n, s),
                name=f"{self.balance_endpoint}:key:{label}",
            )
            for label, s, n in spans
        ]


def _window(data: dict[str, Any]) -> Window:
    return Window(limit=int(data["limit"]), seconds=int(data["window"]))


def parse_policy(document: dict[str, Any]) -> Policy:
    presets = document["presets"]
    rules = tuple(
        Rule(
            endpoint=row["endpoint"],
            limiter=row["limiter"],
            free=_window(row["free"]),
            pro=_window(row["pro"]),
            stage=row.get("stage", "post_auth"),
        )
        for row in presets["endpoint"]
    )
    balance = presets["credit_balance"]
    bands = tuple(
        BalanceBand(b["min_balance"], b["max_balance"], b["minute"], b["hour"], b["day"])
        for b in balance["bands"]
    )
    return Policy(rules=rules, balance_bands=bands, balance_endpoint=balance["endpoint"])


@lru_cache(maxsize=1)
def load_policy(path: Path = POLICY_FILE) -> Policy:
    return parse_policy(json.loads(path.read_text(encoding="utf-8")))
