"""Fixed-window buckets: which counters a request increments, and what the headers say.

A bucket's counter lives in the item ``<rule>#<limiter value>#<window start>``: the window is in
the key, so admission needs no prior read, and TTL removes idle counters. Exact for its window;
a client can spend a full window's limit at the end of one window and again at the start of the
next (docs/RATE_LIMITS.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared.limits.policy import Limiter, Rule


@dataclass(frozen=True)
class LimitFacts:
    """What a request is limited by. ``ip`` is API Gateway's sourceIp, never a client header."""

    ip: str
    key_id: str | None = None
    account_key_id: str | None = None
    tool_id: str | None = None
    user: str | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class Bucket:
    rule_id: str
    subject: str
    limit: int
    window_seconds: int

    def window_start(self, now: float) -> int:
        return int(now) - int(now) % self.window_seconds

    def reset_at(self, now: float) -> int:
        return self.window_start(now) + self.window_seconds

    def item_key(self, now: float) -> str:
        return f"{self.rule_id}#{self.subject}#{self.window_start(now)}"

    def previous_key(self, now: float) -> str:
        """The item key of the window before ``now``'s."""
        return self.item_key(now - self.window_seconds)


def _subject(limiter: Limiter, facts: LimitFacts) -> str | None:
    parts: dict[str, str | None] = {
        "ip": facts.ip,
        "key": facts.key_id,
        "account_key": facts.account_key_id,
        "tool": facts.tool_id,
        "user": facts.user,
        "session": facts.session_id,
    }
    values = [parts[name] for name in limiter.split("+")]
    if any(not v for v in values):
        return None
    # Hashed: the limits table should not hold IPs or user ids in the clear.
    return hashlib.sha256("|".join(v for v in values if v).encode()).hexdigest()[:32]


def buckets_for(rules: list[Rule], plan: str, facts: LimitFacts) -> list[Bucket]:
    """The buckets of ``rules`` for this request; a rule whose limiter facts are missing is a bug."""
    buckets = []
    for rule in rules:
        subject = _subject(rule.limiter, facts)
        if subject is None:
            raise ValueError(f"rule {rule.rule_id} needs {rule.limiter}, which the request does not have")
        window = rule.window(plan)
        buckets.append(Bucket(rule.rule_id, subject, window.limit, window.seconds))
    return buckets


@dataclass(frozen=True)
class LimitStatus:
    """The tightest bucket after admission, for the X-RateLimit-* headers."""

    limit: int
    remaining: int
    reset_at: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Reset": str(self.reset_at),
        }


def tightest(buckets: list[Bucket], counts: list[int], now: float) -> LimitStatus:
    """The bucket with the fewest requests left (ties: the one that resets last)."""
    statuses = [
        LimitStatus(b.limit, b.limit - c, b.reset_at(now)) for b, c in zip(buckets, counts, strict=True)
    ]
    return min(statuses, key=lambda s: (s.remaining, -s.reset_at))
