"""The audit trail page at scale: keyset pages newest first, a cached count, a fixed number of queries."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from twincity.audit.views import PAGE_SIZE
from twincity.core.models import AuditEntry


@pytest.fixture
def trail(cast):
    now = timezone.now()
    # Pairs of entries at the same instant: the id breaks the tie.
    AuditEntry.objects.bulk_create([
        AuditEntry(at=now - timedelta(minutes=i // 2), actor=cast.olivia, action="update",
                   object_type="enterprises.enterprise", object_id=str(i), object_repr=f"#{i}",
                   changes={"district": {"before": "a", "after": "b"}})
        for i in range(2 * PAGE_SIZE + 9)
    ])
    return cast


def ids(response) -> list[int]:
    return [e.pk for e in response.context["page"].object_list]


def link(response, rel: str) -> str | None:
    match = re.search(rf'<a href="(\?[^"]*)" rel="{rel}"', response.content.decode())
    return match[1].replace("&amp;", "&") if match else None


def test_next_and_previous_walk_the_trail_newest_first(client, trail):
    client.force_login(trail.olivia)
    response = client.get("/audit/?action=update")
    pages = [ids(response)]
    while (url := link(response, "next")) is not None:
        assert "action=update" in url
        response = client.get(f"/audit/{url}")
        pages.append(ids(response))
    newest_first = list(AuditEntry.objects.filter(action="update").order_by("-at", "-id").values_list("pk", flat=True))
    assert [pk for page in pages for pk in page] == newest_first
    assert [len(page) for page in pages] == [PAGE_SIZE, PAGE_SIZE, 9]
    assert (response.context["page"].number, response.context["page"].num_pages) == (3, 3)
    response = client.get(f"/audit/{link(response, 'prev')}")
    assert (ids(response), response.context["page"].number) == (pages[1], 2)
    assert ids(client.get("/audit/?action=update&page=2")) == pages[1]


def test_the_trail_page_costs_a_fixed_number_of_queries(client, trail, django_assert_max_num_queries):
    client.force_login(trail.olivia)
    client.get("/audit/")
    with django_assert_max_num_queries(5):
        response = client.get("/audit/")
    assert response.context["page"].count == 2 * PAGE_SIZE + 9
