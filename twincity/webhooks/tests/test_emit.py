"""webhook_emit(): which endpoints get a delivery (one each), only after the commit, never another bank's."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from twincity.core.errors import InvalidInput
from twincity.webhooks.models import Delivery, Endpoint
from twincity.webhooks.services import webhook_emit
from twincity.webhooks.tasks import webhook_delivery_task

pytestmark = pytest.mark.django_db


def _queued() -> list[int]:
    return sorted(row.args_kwargs["kwargs"]["delivery_id"]
                  for row in DBTaskResult.objects.filter(task_path=webhook_delivery_task.module_path))


def _endpoint(organisation, url="https://bank.example/hook", events=("*",), active=True) -> Endpoint:
    return Endpoint.objects.create(organisation=organisation, url=url, events=list(events), active=active)


def test_one_delivery_per_subscribed_active_endpoint(cast):
    a1 = _endpoint(cast.bank_a_branch, "https://a.example/1")
    a2 = _endpoint(cast.bank_a_branch, "https://a.example/2", events=["finance.demand.published"])
    _endpoint(cast.bank_a_branch, "https://a.example/3", events=["finance.loan.repaid"])
    _endpoint(cast.bank_a_branch, "https://a.example/4", active=False)
    deliveries = webhook_emit(cast.bank_a_branch, "finance.demand.published", {"demand_id": 7, "amount": "300.00"})
    assert [d.endpoint for d in deliveries] == [a1, a2]
    assert Delivery.objects.count() == 2
    assert len({d.event_id for d in deliveries}) == 1  # one event, the same id at every endpoint
    assert len({d.public_id for d in deliveries}) == 2
    for d in Delivery.objects.all():
        assert (d.event, d.payload, d.status, d.attempts, d.organisation) == (
            "finance.demand.published", {"demand_id": 7, "amount": "300.00"}, "pending", 0, cast.bank_a_branch)
    # a second event is a second delivery per endpoint, with its own event id
    again = webhook_emit(cast.bank_a_branch, "finance.demand.published", {"demand_id": 8})
    assert Delivery.objects.count() == 4 and again[0].event_id != deliveries[0].event_id


def test_deliveries_are_enqueued_only_when_the_transaction_commits(cast, django_capture_on_commit_callbacks):
    _endpoint(cast.bank_a_branch)
    with django_capture_on_commit_callbacks(execute=True):
        deliveries = webhook_emit(cast.bank_a_branch, "a.b", {})
    assert _queued() == [d.pk for d in deliveries]


def test_a_rolled_back_transaction_leaves_no_delivery_and_no_task(cast):
    _endpoint(cast.bank_a_branch)
    with pytest.raises(RuntimeError), transaction.atomic():
        webhook_emit(cast.bank_a_branch, "a.b", {})
        raise RuntimeError("the claim failed")
    assert not Delivery.objects.exists()
    assert _queued() == []


def test_bank_a_never_receives_bank_b_events(cast):
    _endpoint(cast.bank_a, "https://a-head.example/")
    a_branch = _endpoint(cast.bank_a_branch, "https://a.example/")
    b_branch = _endpoint(cast.bank_b_branch, "https://b.example/")
    deliveries = webhook_emit(cast.bank_b_branch, "finance.demand.published", {"demand_id": 1})
    assert [d.endpoint for d in deliveries] == [b_branch]
    assert not Delivery.objects.filter(endpoint__organisation__in=[cast.bank_a, cast.bank_a_branch]).exists()
    assert [d.endpoint for d in webhook_emit(cast.bank_a_branch, "x.y", {})] == [a_branch]


def test_a_branch_without_endpoints_for_the_event_uses_its_head_offices(cast):
    head = _endpoint(cast.bank_a, "https://a-head.example/")
    _endpoint(cast.bank_a_branch, "https://a.example/", events=["finance.loan.repaid"])
    assert [d.endpoint for d in webhook_emit(cast.bank_a_branch, "finance.demand.published", {})] == [head]
    # an event the branch subscribed to goes to the branch only
    assert [d.endpoint.url for d in webhook_emit(cast.bank_a_branch, "finance.loan.repaid", {})] == [
        "https://a.example/"]
    # a head office's own events never go to its branches
    assert [d.endpoint for d in webhook_emit(cast.bank_a, "finance.loan.repaid", {})] == [head]


def test_no_endpoint_no_delivery(cast):
    assert webhook_emit(cast.bank_b_branch, "a.b", {"x": 1}) == []
    assert not Delivery.objects.exists()


def test_it_refuses_a_bad_event_name_or_payload(cast):
    _endpoint(cast.bank_a_branch)
    with pytest.raises(InvalidInput):
        webhook_emit(cast.bank_a_branch, "Bad Name", {})
    with pytest.raises(InvalidInput):
        webhook_emit(cast.bank_a_branch, "a.b", {"x": object()})
    assert not Delivery.objects.exists()
