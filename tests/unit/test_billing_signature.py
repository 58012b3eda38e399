"""Webhook signatures: HMAC-SHA256 over ``<t>.<body>``, five-minute window, constant-time compare."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from shared.billing.signature import InvalidSignature, sign, signature_header, verify

SECRET = "whsec_unit"
BODY = b'{"id":"evt_1","type":"payment.succeeded"}'
T = 1_763_776_800


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert sign(SECRET, T, BODY) == expected
    assert signature_header(SECRET, T, BODY) == f"t={T},v1={expected}"


def test_a_good_signature_verifies_and_returns_its_timestamp() -> None:
    assert verify(SECRET, signature_header(SECRET, T, BODY), BODY, now=T + 10) == T


def test_any_one_of_several_v1_values_may_match_during_secret_rotation() -> None:
    header = f"t={T},v1={sign('old', T, BODY)},v1={sign(SECRET, T, BODY)}"

    assert verify(SECRET, header, BODY, now=T) == T


@pytest.mark.parametrize(
    "header",
    [None, "", "t=abc,v1=00", "t=³,v1=00", f"t={T}", "v1=00", f"t={T},v1={'0' * 64}", "x" * 2000],
)
def test_missing_malformed_or_wrong_signatures_are_refused(header) -> None:
    with pytest.raises(InvalidSignature) as raised:
        verify(SECRET, header, BODY, now=T)
    assert raised.value.status == 401


def test_a_changed_body_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        verify(SECRET, signature_header(SECRET, T, BODY), BODY + b" ", now=T)


@pytest.mark.parametrize(("skew", "ok"), [(-300, True), (300, True), (-301, False), (301, False)])
def test_the_tolerance_window_is_five_minutes_either_way(skew: int, ok: bool) -> None:
    header = signature_header(SECRET, T, BODY)
    if ok:
        assert verify(SECRET, header, BODY, now=T - skew) == T
    else:
        with pytest.raises(InvalidSignature, match="tolerance"):
            verify(SECRET, header, BODY, now=T - skew)
