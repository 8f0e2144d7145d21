"""Every transition is announced from one place (services._transition_announce): in-app notifications to the
enterprise's users and the routed institutions' officers (administrators too on an escalation), and a signed
webhook to each routed institution's systems; never to another bank."""

from datetime import UTC, datetime

from twincity.finance import services
from twincity.notifications.models import Notification
from twincity.webhooks.models import Delivery, Endpoint


def test_each_transition_notifies_the_company_and_the_bank_and_calls_the_banks_webhook(cast):
    bella_hook = Endpoint.objects.create(organisation=cast.bank_a_branch, url="https://bank-a.example/hook",
                                         events=["finance.demand.claimed", "finance.demand.approved"])
    bruno_hook = Endpoint.objects.create(organisation=cast.bank_b_branch, url="https://bank-b.example/hook",
                                         events=["*"])
    case = services.case_create(actor=cast.alice, enterprise=cast.alice_co, kind="demand", amount="1000000",
                                term_months=12, purpose="流动资金", submit=True)
    published = Notification.objects.filter(event="finance.demand.published")
    assert sorted(n.recipient.username for n in published) == ["alice", "bella"]  # bruno's city is not offered
    assert published.get(recipient=cast.alice).link == f"/finance/cases/{case.pk}/"
    case = services.case_claim(actor=cast.bella, case=case)
    services.case_decide(actor=cast.bella, case=case, decision="approve", amount="900000", rate="0.04")
    alice_events = list(Notification.objects.filter(recipient=cast.alice).order_by("pk").values_list("event", flat=True))
    assert alice_events == ["finance.demand.published", "finance.demand.claimed", "finance.demand.approved"]
    title = Notification.objects.get(recipient=cast.alice, event="finance.demand.approved").title
    assert title == f"融资需求 #{case.pk}（{cast.alice_co.name}）已批准 / Financing demand #{case.pk} approved"
    deliveries = list(Delivery.objects.order_by("pk").values_list("endpoint_id", "event"))
    assert deliveries == [(bella_hook.pk, "finance.demand.claimed"), (bella_hook.pk, "finance.demand.approved")]
    payload = Delivery.objects.get(event="finance.demand.approved").payload
    assert (payload["case_id"], payload["state"], payload["data"]["share_amount"]) == (case.pk, "approved",
                                                                                        "900000.00")
    assert not Delivery.objects.filter(endpoint=bruno_hook).exists()
    assert not Notification.objects.filter(recipient=cast.bruno).exists()


def test_an_escalation_is_announced_to_both_cities_and_the_administrators(cast):
    case = services.case_create(actor=cast.alice, enterprise=cast.alice_co, kind="demand", amount="1000000",
                                term_months=12, purpose="x", submit=True, at=datetime(2025, 9, 30, 2, tzinfo=UTC))
    assert services.demands_escalate(now=datetime(2025, 10, 12, 1, tzinfo=UTC)) == [case.pk]
    told = sorted(Notification.objects.filter(event="finance.demand.escalated").values_list("recipient__username",
                                                                                             flat=True))
    assert told == ["alice", "bella", "bruno", "olivia"]
