"""The demo's public services: items of both cities (the 8-area framework a filter), cases over the last year
through the services, every case's clock as the calendar computes it, ratings only on closed cases."""

from collections import Counter

import pytest

from twincity.accounts.models import Organisation
from twincity.core import workdays
from twincity.demo.govservices import ITEMS, demo_govservices_load
from twincity.demo.personas import ORGANISATIONS
from twincity.govservices import selectors
from twincity.govservices.models import CaseRating, ServiceCase, ServiceItem

pytestmark = pytest.mark.django_db


def test_demo_load(cast):
    orgs = {}
    for spec in ORGANISATIONS:
        orgs[spec.key], _ = Organisation.objects.get_or_create(kind=spec.kind, name=spec.name,
                                                               defaults={"city": spec.city})
    made = demo_govservices_load(orgs, cases=60, seed=7)
    assert made == ServiceCase.objects.count() > 50
    assert ServiceItem.objects.filter(status="published").count() == len(ITEMS) == 14
    assert Counter(ServiceItem.objects.values_list("city", flat=True)) == {"chongqing": 8, "chengdu": 6}
    assert selectors.catalogue(framework=True).count() == 11  # all but market, science (2 + 1)
    states = Counter(ServiceCase.objects.values_list("state", flat=True))
    assert states["closed"] > 20 and len(states) >= 5
    assert not CaseRating.objects.exclude(case__state="closed").exists()
    for case in ServiceCase.objects.filter(state="handling"):
        pauses = [(workdays.shanghai_date(p.started_at), workdays.shanghai_date(p.ended_at))
                  for p in case.pauses.all()]
        assert case.due_date == workdays.add_working_days_paused(
            workdays.shanghai_date(case.accepted_at), case.item.promised_limit_days, pauses)
    assert all(c.events.first().action == "intake" for c in ServiceCase.objects.all())
