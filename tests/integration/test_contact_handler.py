"""The contact function (Mangum) and its notifier (SQS) through events/contact, events/contact_notifier."""

from __future__ import annotations

import json

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from dashboard_support import FakeContext, call_mangum, event_for, sqs_event

from sluice.local.resources import LocalResources

KEY = "7c9e6679-7425-40de-944b-e07fc1f90ae7"  # the Idempotency-Key of the sample event


def contact(name: str = "contact", **kwargs):
    from functions.contact.app import handler

    return call_mangum(handler, event_for("contact", name, **kwargs))


def stored(aws: LocalResources) -> list[dict]:
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=aws.names["ContactTable"])[
        "Items"
    ]
    return [{k: next(iter(v.values())) for k, v in item.items()} for item in items]


def queued(aws: LocalResources) -> list[dict]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    found = []
    while batch := sqs.receive_message(QueueUrl=aws.names["ContactQueue"], MaxNumberOfMessages=10).get(
        "Messages"
    ):
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=aws.names["ContactQueue"], ReceiptHandle=message["ReceiptHandle"])
    return found


def notify(bodies: list[dict]) -> PartialItemFailureResponse:
    from functions.contact_notifier.app import handler

    return handler(sqs_event("contact_notifier", "notice_batch", bodies), FakeContext())


def test_the_sample_message_is_accepted_stored_and_queued(aws: LocalResources) -> None:
    status, headers, body = contact()

    assert status == 202
    assert (
        body["object"] == "contact_message" and body["status"] == "received" and body["id"].startswith("cm_")
    )
    assert headers["x-ratelimit-limit"] == "8" and headers["x-ratelimit-remaining"] == "7"
    [item] = stored(aws)
    assert (
        item["contact_id"] == body["id"] and item["email"] == "ada@example.com" and item["topic"] == "sales"
    )
    assert item["status"] == "received" and "website" not in item
    assert queued(aws) == [{"contact_id": body["id"]}], "only the id travels on the queue"


def test_a_retry_with_the_same_idempotency_key_returns_the_same_answer_and_stores_once(
    aws: LocalResources,
) -> None:
    first = contact()
    second = contact()

    assert first[0] == second[0] == 202 and first[2] == second[2]
    assert "idempotent-replayed" not in first[1] and second[1]["idempotent-replayed"] == "true"
    assert len(stored(aws)) == 1 and len(queued(aws)) == 1


def test_a_browser_may_read_that_an_answer_is_a_replay(aws: LocalResources) -> None:
    """CORS: a header the page's script may read must be listed in Access-Control-Expose-Headers."""
    from_a_page = {"Origin": "https://app.example"}
    contact(headers=from_a_page)

    _, headers, _ = contact(headers=from_a_page)

    assert headers["idempotent-replayed"] == "true"
    exposed = {name.strip().lower() for name in headers["access-control-expose-headers"].split(",")}
    assert "idempotent-replayed" in exposed


def test_the_same_key_with_another_message_is_422_and_a_new_key_is_a_new_message(aws: LocalResources) -> None:
    contact()
    form = json.loads(event_for("contact", "contact")["body"])

    reused = contact(body={**form, "message": "A completely different message this time."})
    fresh = contact(headers={"Idempotency-Key": "0f8fad5b-d9cb-469f-a165-70867728950e"})
    no_key = contact(headers={"Idempotency-Key": ""})

    assert reused[0] == 422 and reused[2]["error"]["code"] == "idempotency_key_reused"
    assert fresh[0] == 202 and fresh[2]["id"] != contact()[2]["id"]
    assert no_key[0] == 400 and no_key[2]["error"]["param"] == "Idempotency-Key"
    assert len(stored(aws)) == 2


def test_a_filled_honeypot_is_answered_like_success_but_nothing_is_stored_or_sent(
    aws: LocalResources,
) -> None:
    status, _, body = contact("contact_honeypot")

    assert status == 202 and set(body) == {"object", "id", "status"} and body["status"] == "received"
    assert stored(aws) == [] and queued(aws) == []


def test_a_honeypot_retry_is_answered_as_a_real_ones_is(aws: LocalResources) -> None:
    """A bot could tell a dropped message by its retry: a new id each time and no replay header."""
    key, real_key = ({"Idempotency-Key": k} for k in ("3b241101-e2bb-4255", "9a0364b9-e99b-45f0"))
    spam = json.loads(event_for("contact", "contact_honeypot")["body"])
    form = {**spam, "website": ""}  # the same request from a person
    other = "Another message entirely, not the first."

    spam_answers = [contact("contact_honeypot", headers=key) for _ in range(2)]
    spam_reused = contact("contact_honeypot", headers=key, body={**spam, "message": other})
    real_answers = [contact("contact_honeypot", headers=real_key, body=form) for _ in range(2)]
    real_reused = contact("contact_honeypot", headers=real_key, body={**form, "message": other})

    first, second = spam_answers
    assert first[0] == second[0] == 202 and first[2] == second[2], "the same id"
    assert "idempotent-replayed" not in first[1] and second[1]["idempotent-replayed"] == "true"
    for spam_answer, real_answer in zip(spam_answers, real_answers, strict=True):
        assert set(spam_answer[1]) == set(real_answer[1]), "the same headers"
    assert spam_reused[0] == real_reused[0] == 422
    assert spam_reused[2]["error"] == real_reused[2]["error"]
    real_id = real_answers[0][2]["id"]
    assert [item["contact_id"] for item in stored(aws)] == [real_id], "the honeypot stored nothing"
    assert queued(aws) == [{"contact_id": real_id}], "and sent nothing"


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"name": ""}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"name": "Ana\u0000\nSubject: hi"}, "name"),  # a control character: the notice's lines
        ({"name": "\u200b"}, "name"),  # nothing visible
        ({"message": "short"}, "message"),
        ({"message": "m" * 5001}, "message"),
        ({"topic": "lottery"}, "topic"),
        ({"extra": "field"}, "extra"),
    ],
)
def test_invalid_forms_are_400_naming_the_field(aws: LocalResources, change: dict, param: str) -> None:
    form = {**json.loads(event_for("contact", "contact")["body"]), **change}

    status, _, body = contact(body=form, headers={"Idempotency-Key": f"key-{param}-{len(str(change))}"})

    assert status == 400 and body["error"]["param"] == param
    assert stored(aws) == []


def test_a_null_honeypot_is_an_empty_one_and_the_message_is_stored(aws: LocalResources) -> None:
    form = {**json.loads(event_for("contact", "contact")["body"]), "website": None}

    status, _, body = contact(body=form)

    assert status == 202, body
    [item] = stored(aws)
    assert item["contact_id"] == body["id"] and queued(aws) == [{"contact_id": body["id"]}]


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "<a@example.com>"])
def test_an_invalid_email_is_told_in_words_not_as_a_pattern(aws: LocalResources, email: str) -> None:
    form = {**json.loads(event_for("contact", "contact")["body"]), "email": email}

    status, _, body = contact(body=form)

    assert status == 400 and body["error"]["param"] == "email"
    assert (
        body["error"]["message"] == "email: Input should be a valid email address, such as name@example.com"
    )


@pytest.mark.parametrize("body", ["", "not json", "[]", "{" * 5000, json.dumps({"x": "y" * 20_000})])
def test_garbage_bodies_are_4xx_never_500(aws: LocalResources, body: str) -> None:
    status, _, response = contact(body=body if body else " ", headers={"Idempotency-Key": "garbage-key-1"})

    assert status in (400, 413) and "error" in response


@pytest.mark.parametrize("plan_label", ["free", "pro"])
def test_the_ninth_message_a_minute_from_one_ip_is_429(aws: LocalResources, plan_label: str) -> None:
    # The contact row is IP-only (8/min on every plan): there is no signed-in user to have a plan.
    from dashboard_support import fresh_window

    fresh_window()
    answers = [contact(headers={"Idempotency-Key": f"{plan_label}-message-{i:02d}"}) for i in range(9)]

    assert [a[0] for a in answers[:8]] == [202] * 8
    assert [a[1]["x-ratelimit-remaining"] for a in answers[:8]] == [str(7 - i) for i in range(8)]
    status, headers, body = answers[8]
    assert status == 429 and body["error"]["code"] == "rate_limit_exceeded"
    assert headers["x-ratelimit-limit"] == "8" and headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(headers["retry-after"]) <= 60
    assert contact(ip="203.0.113.200", headers={"Idempotency-Key": f"{plan_label}-other-ip"})[0] == 202
    assert len(stored(aws)) == 9


def test_without_a_notify_address_the_notifier_marks_messages_stored_only(aws: LocalResources) -> None:
    _, _, body = contact()

    result = notify(queued(aws))

    assert result == {"batchItemFailures": []}
    [item] = stored(aws)
    assert item["status"] == "stored_only" and item["notified_at"]
    assert notify([{"contact_id": body["id"]}]) == {"batchItemFailures": []}, "redelivery changes nothing"


def test_the_sample_notice_of_an_unknown_message_is_not_a_failure(aws: LocalResources) -> None:
    from dashboard_support import load_event

    from functions.contact_notifier.app import handler

    assert handler(load_event("contact_notifier", "notice_batch"), FakeContext()) == {"batchItemFailures": []}


def test_with_a_notify_address_ses_sends_once_and_failures_are_reported_per_message(
    aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.settings import get_settings

    ses = boto3.client("ses", region_name="us-east-1")
    monkeypatch.setenv("SLUICE_CONTACT_NOTIFY_EMAIL", "ops@example.com")
    get_settings.cache_clear()
    ok = contact()[2]["id"]
    queued(aws)

    unverified = notify(
        [{"contact_id": ok}, {"contact_id": "cm_missing"}]
    )  # SES refuses an unverified sender
    ses.verify_email_identity(EmailAddress="ops@example.com")
    sent_before = ses.get_send_quota()["SentLast24Hours"]
    delivered = notify([{"contact_id": ok}, {"contact_id": "cm_missing"}, {"not": "a notice"}])
    again = notify([{"contact_id": ok}])

    assert [f["itemIdentifier"] for f in unverified["batchItemFailures"]] == ["msg-0"]
    assert [f["itemIdentifier"] for f in delivered["batchItemFailures"]] == ["msg-2"], (
        "only the malformed one"
    )
    assert again == {"batchItemFailures": []}
    assert ses.get_send_quota()["SentLast24Hours"] == sent_before + 1, "one email, however often delivered"
    [item] = stored(aws)
    assert item["status"] == "notified"
    get_settings.cache_clear()
