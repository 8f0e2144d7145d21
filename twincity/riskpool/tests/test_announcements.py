"""Every step of a claim, and a recorded recovery, is announced from one place (services._claim_announce): in-app
to each party of the guarantee (the lending bank, the guarantor, the re-guarantor, the pool's operator), and a
signed webhook "riskpool.claim.<step>" to the lending bank's systems, inside the step's transaction. A repaid loan
releases its guarantee (finance's case_repaid_register hook), which then takes no claim."""

from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction

from twincity.accounts.models import User
from twincity.core.errors import Conflict
from twincity.core.models import AuditEntry
from twincity.finance import services as finance_services
from twincity.finance.models import ApplicationState
from twincity.notifications.models import Notification
from twincity.riskpool import services
from twincity.riskpool.models import Claim, Guarantee, RiskPool
from twincity.webhooks.models import Delivery, Endpoint

from .conftest import default, make_loan


@pytest.fixture
def guaranteed(cast, pool, reguarantor):
    loan = make_loan(cast, amount="1500000.00")
    return services.guarantee_attach(actor=cast.gary, pool=pool, application=loan, guarantor=cast.guarantor,
                                     reguarantor=reguarantor, fee_rate="0.01")


@pytest.fixture
def rita(reguarantor):
    """The re-guarantor's officer."""
    return User.objects.create_user("rita", password="x", role=User.Role.GUARANTEE_OFFICER, organisation=reguarantor)


@pytest.fixture
def hooks(cast):
    bank = Endpoint.objects.create(organisation=cast.bank_a_branch, url="https://bank-a.example/hook", events=["*"])
    guarantor = Endpoint.objects.create(organisation=cast.guarantor, url="https://gty.example/hook", events=["*"])
    return bank, guarantor


PARTIES = ["bella", "gary", "olivia", "operator", "rita"]  # bank, guarantor, pool operator (x2), re-guarantor


def told(event: str) -> Counter:
    return Counter(Notification.objects.filter(event=event).values_list("recipient__username", flat=True))


def test_each_claim_step_notifies_exactly_the_parties_and_calls_the_banks_webhook(cast, guaranteed, rita,
                                                                                  operator, hooks):
    bank_hook, guarantor_hook = hooks
    g = guaranteed
    default(g.application)
    claim = services.claim_file(actor=cast.bella, guarantee=g, amount="1000000.00", description="逾期90天")
    for action in ("review", "approve", "pay"):
        claim = services.claim_transition(actor=cast.olivia, claim=claim, action=action)
    services.recovery_record(actor=cast.bella, claim=claim, amount="200000.00", note="处置抵押物")

    everyone = {"bella": 1, "gary": 1, "olivia": 1, "oscar": 1, "rita": 1}
    for step in ("filed", "under_review", "approved", "paid", "recovered"):
        assert told(f"riskpool.claim.{step}") == everyone, step
    assert Notification.objects.filter(event__startswith="riskpool.").count() == 25
    # nobody else: not the other bank, not the borrower
    assert not Notification.objects.filter(recipient__in=[cast.bruno, cast.alice], event__startswith="riskpool.")
    paid = Notification.objects.get(recipient=cast.gary, event="riskpool.claim.paid")
    assert paid.title == f"代偿申请 #{claim.pk}（{cast.alice_co.name}）已代偿 / Claim #{claim.pk} paid"
    assert paid.link == f"/riskpool/guarantees/{g.pk}/"
    assert paid.actor == cast.olivia

    deliveries = list(Delivery.objects.order_by("pk").values_list("endpoint_id", "event"))
    assert deliveries == [(bank_hook.pk, f"riskpool.claim.{step}")
                          for step in ("filed", "under_review", "approved", "paid", "recovered")]
    assert not Delivery.objects.filter(endpoint=guarantor_hook).exists()
    payload = Delivery.objects.get(event="riskpool.claim.paid").payload
    assert (payload["claim_id"], payload["guarantee_id"], payload["case_id"], payload["status"], payload["amount"]) == (
        claim.pk, g.pk, g.application_id, "paid", "1000000.00")
    assert payload["allocation"]["borne"]["pool"] == "100000.00"
    recovered = Delivery.objects.get(event="riskpool.claim.recovered").payload
    assert recovered["recovery"]["amount"] == "200000.00"


def test_a_rejection_is_announced_with_its_reason_and_no_reguarantor_means_three_parties(cast, pool, hooks):
    bank_hook, _ = hooks
    RiskPool.objects.filter(pk=pool.pk).update(default_shares={"guarantor": 8, "bank": 2})
    loan = make_loan(cast, amount="1000000.00")
    g = services.guarantee_attach(actor=cast.gary, pool=pool, application=loan, guarantor=cast.guarantor,
                                  fee_rate="0")
    assert g.reguarantor is None
    default(loan)
    claim = services.claim_file(actor=cast.bella, guarantee=g, amount="500000.00")
    services.claim_transition(actor=cast.gary, claim=claim, action="reject", reason="材料不全")
    assert told("riskpool.claim.rejected") == {"bella": 1, "gary": 1, "olivia": 1}
    assert Notification.objects.get(recipient=cast.bella, event="riskpool.claim.rejected").body == "材料不全"
    assert list(Delivery.objects.order_by("pk").values_list("event", flat=True)) == [
        "riskpool.claim.filed", "riskpool.claim.rejected"]


def test_nothing_is_announced_when_the_step_fails_or_rolls_back(cast, guaranteed, rita, hooks):
    g = guaranteed
    default(g.application)
    claim = services.claim_file(actor=cast.bella, guarantee=g, amount="1000000.00")
    notifications, deliveries = Notification.objects.count(), Delivery.objects.count()
    with pytest.raises(Conflict):  # a filed claim cannot be paid
        services.claim_transition(actor=cast.olivia, claim=claim, action="pay")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.claim_transition(actor=cast.olivia, claim=claim, action="review")
        raise RuntimeError("rolled back")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.FILED
    assert (Notification.objects.count(), Delivery.objects.count()) == (notifications, deliveries)
    assert not Notification.objects.filter(event__in=["riskpool.claim.under_review", "riskpool.claim.paid"])


def test_repaying_the_loan_releases_its_guarantee_which_then_takes_no_claim(cast, guaranteed, hooks):
    g = guaranteed
    loan = finance_services.case_repay(actor=cast.bella, case=g.application)
    assert loan.state == ApplicationState.REPAID
    g.refresh_from_db()
    assert g.status == Guarantee.Status.RELEASED
    entry = AuditEntry.objects.get(object_type="riskpool.guarantee", object_id=str(g.pk),
                                   action=AuditEntry.Action.UPDATE)
    assert (entry.changes, entry.actor, entry.context) == (
        {"status": {"before": "active", "after": "released"}}, cast.bella, "released: loan repaid")

    notifications, deliveries, audits = Notification.objects.count(), Delivery.objects.count(), AuditEntry.objects.count()
    with pytest.raises(Conflict) as err:
        services.claim_file(actor=cast.bella, guarantee=g, amount="1000.00")
    assert err.value.code == "guarantee_released"
    g.refresh_from_db()
    assert g.status == Guarantee.Status.RELEASED and not Claim.objects.exists()
    assert (Notification.objects.count(), Delivery.objects.count(), AuditEntry.objects.count()) == (
        notifications, deliveries, audits)


def test_a_part_repayment_or_a_rolled_back_repayment_releases_nothing(cast, guaranteed):
    g = guaranteed
    finance_services.case_repay(actor=cast.bella, case=g.application, amount="500000.00")
    g.refresh_from_db()
    assert g.status == Guarantee.Status.ACTIVE
    with pytest.raises(RuntimeError), transaction.atomic():
        finance_services.case_repay(actor=cast.bella, case=g.application)
        raise RuntimeError("rolled back")
    g.refresh_from_db()
    assert g.status == Guarantee.Status.ACTIVE
    assert not AuditEntry.objects.filter(object_type="riskpool.guarantee", action=AuditEntry.Action.UPDATE).exists()


def test_a_claim_on_a_released_guarantee_answers_409_over_the_api(cast, guaranteed, client):
    g = guaranteed
    finance_services.case_repay(actor=cast.bella, case=g.application)
    client.force_login(cast.bella)
    response = client.post(f"/api/riskpool/guarantees/{g.pk}/claims", {"amount": "1000.00"},
                           content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "guarantee_released"
    assert Decimal(Guarantee.objects.get(pk=g.pk).covered_amount) == Decimal("1500000.00")
    assert not Claim.objects.exists()


def test_the_released_guarantees_page_says_so_and_offers_no_claim(cast, guaranteed, client):
    g = guaranteed
    finance_services.case_repay(actor=cast.bella, case=g.application)
    client.force_login(cast.bella)
    page = client.get(f"/riskpool/guarantees/{g.pk}/").content.decode()
    assert '<span class="badge">已解除（贷款已结清）</span>' in page
    assert 'id="file-claim"' not in page
    response = client.post(f"/riskpool/guarantees/{g.pk}/claims", {"amount": "1000.00"})
    assert response.status_code == 302 and not Claim.objects.exists()
