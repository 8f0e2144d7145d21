"""Sending deliveries: the signature (a known vector), retries with backoff through the real worker and a local
HTTP server that fails first, the attempt log, failure after the last attempt, SSRF refusals, resend."""

import json
import socket
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from twincity.core.errors import Conflict, Forbidden
from twincity.testing import Cast
from twincity.webhooks import transport
from twincity.webhooks.models import Delivery, DeliveryAttempt, Endpoint
from twincity.webhooks.sending import delivery_attempt
from twincity.webhooks.services import delivery_resend, webhook_emit
from twincity.webhooks.signing import signature_compute, signature_header, signature_verify
from twincity.webhooks.tasks import webhook_delivery_task
from twincity.webhooks.tests.receiver import Receiver
from twincity.webhooks.transport import WebhookAttemptFailed

SECRET = "whsec_test-secret"
BODY = '{"event":"finance.demand.published","id":"3f1c"}'
# printf '%s' '1764417600.{"event":"finance.demand.published","id":"3f1c"}' | openssl dgst -sha256 -hmac whsec_test-secret
KNOWN_HEX = "5fa11c587c779754731d2fdf950343b74aeb431c5ef9d5ede7c90752e7025617"


@pytest.fixture(autouse=True)
def _local_endpoints(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1


# --- signing ---------------------------------------------------------------------------------------------------


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    assert signature_compute(SECRET, 1764417600, BODY) == KNOWN_HEX
    assert signature_compute(SECRET, "1764417600", BODY.encode()) == KNOWN_HEX
    assert signature_header(SECRET, 1764417600, BODY) == f"v1={KNOWN_HEX}"


def test_verify_accepts_the_genuine_request_and_nothing_else():
    header = f"v1={KNOWN_HEX}"
    assert signature_verify(SECRET, "1764417600", BODY, header, now=1764417600 + 299)
    assert signature_verify(SECRET, "1764417600", BODY, f"v1=00,{header}", now=1764417600)  # any entry may match
    assert not signature_verify(SECRET, "1764417600", BODY, header, now=1764417600 + 301)  # too old: a replay
    assert not signature_verify(SECRET, "1764417600", BODY, header, now=1764417600 - 301)
    assert not signature_verify(SECRET, "1764417601", BODY, header, now=1764417600)  # another timestamp
    assert not signature_verify(SECRET, "1764417600", BODY + " ", header, now=1764417600)  # another body
    assert not signature_verify("whsec_other", "1764417600", BODY, header, now=1764417600)
    assert not signature_verify(SECRET, "1764417600", BODY, f"v0={KNOWN_HEX}", now=1764417600)
    assert not signature_verify(SECRET, "soon", BODY, header, now=1764417600)


# --- through the worker ----------------------------------------------------------------------------------------


def _run_queue(worker_id: str) -> None:
    call_command("run_worker", "--batch", "--no-scheduler", "--worker-id", worker_id)


@pytest.mark.django_db(transaction=True)
def test_a_failing_endpoint_is_retried_with_backoff_and_every_attempt_is_validly_signed(settings):
    settings.TASKS_RETRY_BACKOFF_SECONDS = 30
    cast = Cast.create()
    with Receiver([500, 200]) as bank:
        endpoint = Endpoint.objects.create(organisation=cast.bank_a_branch, url=bank.url, events=["*"])
        [delivery] = webhook_emit(cast.bank_a_branch, "finance.demand.published", {"demand_id": 7, "amount": "300.00"})

        _run_queue("w1")
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
            "pending", 1, 500, "HTTP 500")
        task = DBTaskResult.objects.get(task_path=webhook_delivery_task.module_path)
        assert task.status == TaskResultStatus.READY  # waiting for its backoff
        waited = (task.run_after - timezone.now()).total_seconds()
        assert 25 < waited <= 30
        assert abs((delivery.next_attempt_at - task.run_after).total_seconds()) < 2

        _run_queue("w2")  # not due yet: nothing is sent
        assert len(bank.requests) == 1
        DBTaskResult.objects.filter(pk=task.pk).update(run_after=timezone.now())  # skip the backoff
        _run_queue("w3")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        "delivered", 2, 200, "")
    assert delivery.response_excerpt == '{"ok": true}' and delivery.delivered_at is not None
    assert len(bank.requests) == 2
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery))
    assert [(a.number, a.status_code, a.error) for a in attempts] == [(1, 500, "HTTP 500"), (2, 200, "")]
    for request, attempt in zip(bank.requests, attempts):
        headers = request.headers
        assert request.path == "/hooks/twincity"
        assert headers["X-Twincity-Event"] == "finance.demand.published"
        assert headers["X-Twincity-Delivery"] == str(delivery.public_id)
        assert headers["X-Twincity-Timestamp"] == str(attempt.timestamp)
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert signature_verify(endpoint.secret, headers["X-Twincity-Timestamp"], request.body,
                                headers["X-Twincity-Signature"])
    assert bank.requests[0].body == bank.requests[1].body  # the same event, byte for byte
    assert json.loads(bank.requests[1].body) == {
        "id": str(delivery.event_id), "event": "finance.demand.published",
        "created_at": delivery.created_at.isoformat(), "organisation_id": cast.bank_a_branch.pk,
        "data": {"demand_id": 7, "amount": "300.00"},
    }
    assert DBTaskResult.objects.get(pk=task.pk).status == TaskResultStatus.SUCCESSFUL


# --- one attempt at a time (the task's service) ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_last_attempt_fails_the_delivery_with_the_reason(cast):
    with Receiver([503]) as bank:
        Endpoint.objects.create(organisation=cast.bank_a_branch, url=bank.url, events=["*"])
        [delivery] = webhook_emit(cast.bank_a_branch, "a.b", {})
        with pytest.raises(WebhookAttemptFailed):
            delivery_attempt(delivery_id=delivery.pk, last_attempt=False, retry_in=60)
        delivery.refresh_from_db()
        assert delivery.status == "pending"
        assert 55 < (delivery.next_attempt_at - timezone.now()).total_seconds() <= 60
        assert delivery_attempt(delivery_id=delivery.pk, last_attempt=True) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error,
            delivery.next_attempt_at) == ("failed", 2, 503, "HTTP 503", None)
    assert delivery_attempt(delivery_id=delivery.pk, last_attempt=True) == "failed"  # nothing more is sent
    assert len(bank.requests) == 2


@pytest.mark.django_db
def test_a_network_error_is_an_attempt_without_a_status(cast):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    Endpoint.objects.create(organisation=cast.bank_a_branch, url=f"http://127.0.0.1:{port}/", events=["*"])
    [delivery] = webhook_emit(cast.bank_a_branch, "a.b", {})
    assert delivery_attempt(delivery_id=delivery.pk, last_attempt=True) == "failed"
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None and "refused" in attempt.error.lower()


@pytest.mark.django_db
def test_a_redirect_is_not_followed_and_not_delivered(cast):
    with Receiver([302]) as bank:
        Endpoint.objects.create(organisation=cast.bank_a_branch, url=bank.url, events=["*"])
        [delivery] = webhook_emit(cast.bank_a_branch, "a.b", {})
        assert delivery_attempt(delivery_id=delivery.pk, last_attempt=True) == "failed"
    assert Delivery.objects.get().last_status_code == 302 and len(bank.requests) == 1


@pytest.mark.django_db
def test_a_disabled_endpoint_gets_nothing_more(cast):
    with Receiver([200]) as bank:
        endpoint = Endpoint.objects.create(organisation=cast.bank_a_branch, url=bank.url, events=["*"])
        [delivery] = webhook_emit(cast.bank_a_branch, "a.b", {})
        Endpoint.objects.filter(pk=endpoint.pk).update(active=False)
        assert delivery_attempt(delivery_id=delivery.pk, last_attempt=False) == "failed"
    assert bank.requests == []
    assert "disabled" in Delivery.objects.get().last_error


@pytest.mark.django_db
def test_private_addresses_are_refused_unless_allowed(cast, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    for url in ("http://127.0.0.1:9/", "http://10.1.2.3/", "http://169.254.169.254/latest", "http://localhost/",
                "http://[::1]/", "ftp://bank.example/", "http://user:pw@bank.example/"):
        assert transport.url_refusal(url, resolve=False), url
    assert transport.url_refusal("https://bank.example/hook", resolve=False) is None
    assert transport.url_refusal("http://8.8.8.8/", resolve=True) is None
    # at sending time the name is resolved and every address checked: one that cannot be resolved is refused
    Endpoint.objects.create(organisation=cast.bank_a_branch, url="http://localtest.invalid/", events=["*"])
    [delivery] = webhook_emit(cast.bank_a_branch, "a.b", {})
    assert delivery_attempt(delivery_id=delivery.pk, last_attempt=True) == "failed"
    assert DeliveryAttempt.objects.get().status_code is None


@pytest.mark.django_db
def test_resend_sends_the_same_event_again_with_a_fresh_signature(cast, django_capture_on_commit_callbacks):
    with Receiver([500, 200]) as bank:
        endpoint = Endpoint.objects.create(organisation=cast.bank_a_branch, url=bank.url, events=["*"])
        [delivery] = webhook_emit(cast.bank_a_branch, "a.b", {"n": 1})
        delivery_attempt(delivery_id=delivery.pk, last_attempt=True)
        delivery.refresh_from_db()
        assert delivery.status == "failed"
        with pytest.raises(Forbidden):
            delivery_resend(actor=cast.bruno, delivery=delivery)  # another bank's officer
        with django_capture_on_commit_callbacks(execute=False):
            delivery_resend(actor=cast.bella, delivery=delivery)
        delivery.refresh_from_db()
        assert delivery.status == "pending"
        with pytest.raises(Conflict):  # already on its way
            delivery_resend(actor=cast.bella, delivery=delivery)
        assert delivery_attempt(delivery_id=delivery.pk, last_attempt=False) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert bank.requests[0].body == bank.requests[1].body
    last = bank.requests[1].headers
    assert signature_verify(endpoint.secret, last["X-Twincity-Timestamp"], bank.requests[1].body,
                            last["X-Twincity-Signature"])


def test_the_receiver_times_out_rather_than_hang(settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.WEBHOOK_ALLOW_PRIVATE = True
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        started = timezone.now()
        result = transport.post(f"http://127.0.0.1:{silent.getsockname()[1]}/", b"{}", {})
        assert timezone.now() - started < timedelta(seconds=5)
    assert result.status_code is None and "timed out" in result.error.lower()


@pytest.mark.django_db
def test_a_pending_delivery_whose_task_was_lost_is_failed_by_the_recovery_sweep(cast, capsys):
    Endpoint.objects.create(organisation=cast.bank_a_branch, url="https://a.example/", events=["*"])
    lost, queued = webhook_emit(cast.bank_a_branch, "a.b", {}) + webhook_emit(cast.bank_a_branch, "a.b", {})
    Delivery.objects.update(updated_at=timezone.now() - timedelta(minutes=5))
    DBTaskResult.objects.filter(args_kwargs__kwargs__delivery_id=lost.pk).delete()  # the queue lost it
    call_command("recover_interrupted")
    lost.refresh_from_db()
    queued.refresh_from_db()
    assert (lost.status, queued.status) == ("failed", "pending")
    assert "interrupted" in lost.last_error
    assert "1 webhook delivery(ies)" in capsys.readouterr().out


def test_the_python_snippet_in_the_docs_verifies_what_the_platform_signs():
    import re
    import time
    from pathlib import Path

    from django.conf import settings

    text = (Path(settings.BASE_DIR) / "docs" / "webhooks.md").read_text(encoding="utf-8")
    namespace: dict = {}
    exec(re.search(r"```python\n(import hashlib.*?)\n# Django", text, re.S)[1], namespace)
    now = int(time.time())
    body = b'{"data":{"amount":"300.00"},"event":"a.b"}'
    assert namespace["signature_verify"](SECRET, str(now), body, signature_header(SECRET, now, body))
    assert not namespace["signature_verify"](SECRET, str(now), body + b" ", signature_header(SECRET, now, body))
