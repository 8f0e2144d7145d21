"""Two people saving the same declaration at the same moment, with real threads on the real database."""

import threading

import pytest
from django.db import connection

from twincity.core.models import AuditEntry
from twincity.enterprises import services
from twincity.enterprises.models import AnnualDeclaration
from twincity.enterprises.services import declaration_upsert
from twincity.testing import Cast


def run_together(*jobs):
    """Start every job at once; return what each returned or raised."""
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


@pytest.mark.django_db(transaction=True)
def test_two_saves_of_the_same_year_both_land_as_one_declaration(monkeypatch):
    cast = Cast.create()
    # Widen the race: each save pauses after looking for the existing row, until the other save has looked
    # too (or 2 s have passed). Without the lock both would find nothing and both would insert.
    both_looked = threading.Barrier(2, timeout=2)
    original_merge = services.declaration_merge

    def merge_after_both_looked(*args, **kwargs):
        try:
            both_looked.wait()
        except threading.BrokenBarrierError:
            pass  # the other save is queued behind our lock, as it should be
        return original_merge(*args, **kwargs)

    monkeypatch.setattr(services, "declaration_merge", merge_after_both_looked)

    def save(employees):
        return lambda: declaration_upsert(
            actor=cast.alice, enterprise=cast.alice_co, fiscal_year=2025, figures={"employees": employees}
        )

    outcomes = run_together(save(100), save(120))

    assert all(isinstance(o, AnnualDeclaration) for o in outcomes), outcomes
    declaration = AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=2025)
    assert declaration.employees in (100, 120)
    entries = list(AuditEntry.objects.filter(object_type="enterprises.annualdeclaration").order_by("id"))
    assert [e.action for e in entries] == ["create", "update"]
    # The update's "before" is exactly what the create wrote: the second writer saw the first's row.
    assert entries[1].changes["employees"]["before"] == entries[0].changes["employees"]["after"]
    assert entries[1].changes["employees"]["after"] == declaration.employees
