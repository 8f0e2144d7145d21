"""Lines and claims under concurrency, with real threads on the real database (SQLite here; PostgreSQL with
DATABASE_URL): two approvals that together pass a line, exactly one succeeds; two officers claiming the same
demand, exactly one succeeds and the other gets a 409."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from twincity.core.errors import Conflict
from twincity.finance import services
from twincity.finance.models import Application, ApplicationEvent, BranchDecision
from twincity.finance.tests.cases import lined_product, officer
from twincity.testing import Cast


def run_together(*jobs):
    """Start every job at once; what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def runner(index, job):
        barrier.wait()
        try:
            outcomes[index] = job()
        except Exception as exc:  # noqa: BLE001 — the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def widen_the_race(monkeypatch):
    """Each approval pauses after its line check has locked, until the other has reached the check too (or
    1 s has passed): without the lock both would count the same used amount and both would pass."""
    both_checked = threading.Barrier(2, timeout=1)
    original = services._line_used

    def used_after_both_looked(*args, **kwargs):
        value = original(*args, **kwargs)
        try:
            both_checked.wait()
        except threading.BrokenBarrierError:
            pass  # the other approval is queued behind our lock, as it should be
        return value

    monkeypatch.setattr(services, "_line_used", used_after_both_looked)


def claimed_application(cast, product, actor, enterprise, amount):
    case = services.case_create(actor=actor, enterprise=enterprise, kind="application", product=product,
                                amount=amount, term_months=12, purpose="x", submit=True)
    return services.case_claim(actor=cast.bella, case=case)


def approve(cast, officer_user, case, amount):
    return lambda: services.case_decide(actor=officer_user, case=case, decision="approve", amount=amount,
                                        rate="0.035")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_cannot_pass_the_products_total_line(monkeypatch):
    cast = Cast.create()
    product = lined_product(cast)  # total 100万, 60万 per enterprise
    alice_case = claimed_application(cast, product, cast.alice, cast.alice_co, "600000")
    bob_case = claimed_application(cast, product, cast.bob, cast.bob_co, "600000")
    colleague = officer("bianca", cast.bank_a_branch)
    widen_the_race(monkeypatch)

    outcomes = run_together(approve(cast, cast.bella, alice_case, "600000"),
                            approve(cast, colleague, bob_case, "600000"))

    assert sorted(type(o).__name__ for o in outcomes) == ["Application", "Conflict"], outcomes
    refused = next(o for o in outcomes if isinstance(o, Conflict))
    assert refused.code == "product_line_exceeded"
    assert refused.extra["used"] == "600000.00" and refused.extra["line"] == "1000000.00"
    states = sorted(Application.objects.values_list("state", flat=True))
    assert states == ["approved", "claimed"]
    assert Application.objects.get(state="approved").approved_amount == Decimal("600000.00")
    assert BranchDecision.objects.count() == 1  # the refused decision was rolled back with its transaction
    assert ApplicationEvent.objects.filter(action="approve").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_cannot_pass_the_enterprises_line(monkeypatch):
    cast = Cast.create()
    product = lined_product(cast)
    first = claimed_application(cast, product, cast.alice, cast.alice_co, "400000")
    second = claimed_application(cast, product, cast.alice, cast.alice_co, "400000")
    colleague = officer("bianca", cast.bank_a_branch)
    widen_the_race(monkeypatch)

    outcomes = run_together(approve(cast, cast.bella, first, "400000"), approve(cast, colleague, second, "400000"))

    assert sorted(type(o).__name__ for o in outcomes) == ["Application", "Conflict"], outcomes
    assert next(o for o in outcomes if isinstance(o, Conflict)).code == "enterprise_line_exceeded"
    assert sorted(Application.objects.values_list("state", flat=True)) == ["approved", "claimed"]


@pytest.mark.django_db(transaction=True)
def test_two_officers_claiming_the_same_demand_exactly_one_wins():
    cast = Cast.create()
    case = services.case_create(actor=cast.alice, enterprise=cast.alice_co, kind="demand", amount="1000000",
                                term_months=12, purpose="流动资金", submit=True)
    rival = officer("carl", cast.bank_a_branch)

    outcomes = run_together(lambda: services.case_claim(actor=cast.bella, case=case),
                            lambda: services.case_claim(actor=rival, case=case))

    assert sorted(type(o).__name__ for o in outcomes) == ["Application", "Conflict"], outcomes
    loser = next(o for o in outcomes if isinstance(o, Conflict))
    assert (loser.status, loser.code) == (409, "illegal_transition")
    case = Application.objects.get(pk=case.pk)
    assert case.state == "claimed" and case.lead_institution == cast.bank_a_branch
    claims = list(ApplicationEvent.objects.filter(application=case, action="claim"))
    assert len(claims) == 1 and claims[0].actor in (cast.bella, rival)
