"""Real concurrency, on SQLite (serialized IMMEDIATE transactions) and on PostgreSQL (the voucher's row lock; the
partial unique constraint of the claim registry): the balance never goes below zero and a job is claimed once."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from twincity.instruments.tests.test_concurrency import run_together
from twincity.testing import Cast
from twincity.vouchers import rules as voucher_rules
from twincity.vouchers import services
from twincity.vouchers.errors import AlreadyClaimed, VoucherRefused
from twincity.vouchers.models import Redemption, SubsidyClaim, Voucher
from twincity.vouchers.tests.conftest import NOW, make_batch

D = Decimal


def _job(cast, amount="600"):
    return voucher_rules.Job(payer_id=cast.alice_org.pk, provider_id=cast.institute.pk, provider_city="chongqing",
                             category_code="0106", on=date(2026, 12, 8), amount=D(amount))


def _widen(monkeypatch, module, name):
    """Each caller pauses after its read until the other has read too (or 1 s has passed, when the other is
    queued behind our lock, as it should be)."""
    both_read = threading.Barrier(2, timeout=1)
    original = getattr(module, name)

    def read_then_wait(*args, **kwargs):
        value = original(*args, **kwargs)
        try:
            both_read.wait()
        except threading.BrokenBarrierError:
            pass
        return value

    monkeypatch.setattr(module, name, read_then_wait)


@pytest.mark.django_db(transaction=True)
def test_two_redemptions_past_the_balance_exactly_one_succeeds(monkeypatch):
    cast = Cast.create()
    batch = make_batch(cast.olivia, amount="1000", copay="0")
    [voucher] = services.vouchers_issue(actor=cast.olivia, batch=batch, holders=[cast.alice_org], now=NOW)
    _widen(monkeypatch, voucher_rules, "check")

    def reserve(ref):
        return lambda: services.redemption_reserve(actor=cast.alice, voucher=voucher, job_kind="test.job",
                                                   job_ref=ref, job=_job(cast), wanted=D("600"))

    outcomes = run_together(reserve("a"), reserve("b"))

    won = [o for o in outcomes if isinstance(o, Redemption)]
    lost = [o for o in outcomes if isinstance(o, VoucherRefused)]
    assert (len(won), len(lost)) == (1, 1), outcomes
    assert [r["rule"] for r in lost[0].extra["refusals"]] == ["balance"]
    voucher = Voucher.objects.get()
    assert (voucher.reserved, voucher.used, voucher.balance) == (D("600.00"), D(0), D("400.00"))
    assert list(Redemption.objects.values_list("pk", flat=True)) == [won[0].pk]
    assert SubsidyClaim.objects.filter(active=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_voucher_and_a_test_subsidy_racing_for_one_job_only_one_is_claimed(monkeypatch):
    cast = Cast.create()
    batch = make_batch(cast.olivia, amount="1000", copay="0")
    [voucher] = services.vouchers_issue(actor=cast.olivia, batch=batch, holders=[cast.alice_org], now=NOW)
    _widen(monkeypatch, services, "_active_claim")

    outcomes = run_together(
        lambda: services.redemption_reserve(actor=cast.alice, voucher=voucher, job_kind="instruments.samplejob",
                                            job_ref="42", job=_job(cast)),
        lambda: services.subsidy_claim_register(actor=cast.olivia, kind="test_subsidy",
                                                job_kind="instruments.samplejob", job_ref="42",
                                                claimant=cast.alice_org, amount="300"),
    )

    assert sum(isinstance(o, (Redemption, SubsidyClaim)) for o in outcomes) == 1, outcomes
    [lost] = [o for o in outcomes if isinstance(o, AlreadyClaimed)]
    [claim] = SubsidyClaim.objects.filter(active=True)
    assert claim.job_key == "instruments.samplejob:42"
    assert lost.extra["claim"]["id"] == claim.pk
    voucher = Voucher.objects.get()
    # The voucher lost: nothing reserved, no redemption; or it won: its part reserved.
    assert voucher.reserved == (D("600.00") if claim.kind == "voucher" else D(0))
    assert Redemption.objects.count() == (1 if claim.kind == "voucher" else 0)


@pytest.mark.django_db
def test_the_database_refuses_a_second_active_claim_written_around_the_service(cast):
    services.subsidy_claim_register(actor=cast.olivia, kind="post_subsidy", job_kind="instruments.booking",
                                    job_ref="x", claimant=cast.alice_org, amount="1")
    with pytest.raises(IntegrityError, match="subsidy_claim_once_per_job|UNIQUE"), transaction.atomic():
        SubsidyClaim.objects.create(job_key="instruments.booking:x", kind="test_subsidy", claimant=cast.alice_org,
                                    amount=D(1))
    SubsidyClaim.objects.create(job_key="instruments.booking:x", kind="test_subsidy", claimant=cast.alice_org,
                                amount=D(1), active=False)
    assert SubsidyClaim.objects.count() == 2


@pytest.mark.django_db
def test_the_database_refuses_a_negative_balance_written_around_the_service(cast):
    batch = make_batch(cast.olivia, amount="1000")
    [voucher] = services.vouchers_issue(actor=cast.olivia, batch=batch, holders=[cast.alice_org], now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.filter(pk=voucher.pk).update(reserved=D("800"), used=D("300"))
    print(connection.vendor)
