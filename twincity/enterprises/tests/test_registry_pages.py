"""The registry list at scale: keyset pages (next and previous by cursor, `?page=N` still read), a cached count,
and a fixed number of queries per page."""

import random
import re
from datetime import date, timedelta

import pytest

from twincity.demo.generator import make_credit_code
from twincity.enterprises.models import Enterprise, Qualification
from twincity.enterprises.selectors import SORTS
from twincity.enterprises.services import enterprise_create
from twincity.enterprises.views import PAGE_SIZE

MANY = 2 * PAGE_SIZE + 7  # three pages with the cast's two


@pytest.fixture
def registry(cast):
    rng = random.Random(11)
    codes = set()
    while len(codes) < MANY - 2:
        codes.add(make_credit_code(rng, "500000", 2020))
    Enterprise.objects.bulk_create([
        Enterprise(credit_code=code, name=f"重庆{i % 9}号科技有限公司", city=("chongqing", "chengdu")[i % 2],
                   industry_cluster=("ic", "ev", "ict")[i % 3],
                   registered_on=None if i % 5 == 0 else date(2010, 1, 1) + timedelta(days=37 * (i % 13)))
        for i, code in enumerate(sorted(codes))
    ])
    return cast


def expected(ordering: str, **filters) -> list[str]:
    """The list's order: the field (nulls last either way), then the primary key."""
    rows = list(Enterprise.objects.filter(**filters).values_list("credit_code", ordering.lstrip("-"), "pk"))
    present = sorted((r for r in rows if r[1] is not None), key=lambda r: r[2])
    present.sort(key=lambda r: r[1], reverse=ordering.startswith("-"))
    return [r[0] for r in present] + [r[0] for r in sorted((r for r in rows if r[1] is None), key=lambda r: r[2])]


def listed(response) -> list[str]:
    return [e.credit_code for e in response.context["page"].object_list]


def link(response, rel: str) -> str | None:
    match = re.search(rf'<a href="(\?[^"]*)"[^>]*rel="{rel}"', response.content.decode())
    return match[1].replace("&amp;", "&") if match else None


@pytest.mark.parametrize("ordering", SORTS)
def test_next_and_previous_walk_the_whole_list_in_order(client, registry, ordering):
    client.force_login(registry.bella)
    response = client.get(f"/enterprises/?ordering={ordering}")
    pages = [listed(response)]
    numbers = [response.context["page"].number]
    while (url := link(response, "next")) is not None:
        response = client.get(f"/enterprises/{url}")
        pages.append(listed(response))
        numbers.append(response.context["page"].number)
    assert [code for page in pages for code in page] == expected(ordering)
    assert [len(page) for page in pages] == [PAGE_SIZE, PAGE_SIZE, 7]
    assert numbers == [1, 2, 3]
    assert response.context["page"].num_pages == 3
    back = []
    while (url := link(response, "prev")) is not None:
        response = client.get(f"/enterprises/{url}")
        back.append((listed(response), response.context["page"].number))
    assert back == [(pages[1], 2), (pages[0], 1)]


def test_a_page_number_alone_is_still_read(client, registry):
    client.force_login(registry.olivia)
    order = expected("-registered_on")
    assert listed(client.get("/enterprises/?ordering=-registered_on&page=2")) == order[PAGE_SIZE:2 * PAGE_SIZE]
    response = client.get("/enterprises/?ordering=-registered_on&page=99")  # past the end: the last page
    assert (listed(response), response.context["page"].number) == (order[2 * PAGE_SIZE:], 3)
    following = client.get(f"/enterprises/{link(client.get('/enterprises/?ordering=-registered_on&page=2'), 'next')}")
    assert listed(following) == order[2 * PAGE_SIZE:]


@pytest.mark.parametrize("cursor", ["after=nonsense", "before=e30", "after=eyJvIjpbIm5hbWUiXSwidiI6WzFdfQ",
                                    "after=eyJvIjogWyItcmVnaXN0ZXJlZF9vbiIsICJwayJdLCAidiI6IFsiYWJjIiwgMV19", "before=eyJvIjogWyItcmVnaXN0ZXJlZF9vbiIsICJwayJdLCAidiI6IFt7ImQiOiAiMjAyMC0xMy00NSJ9LCAieCJdfQ"])
def test_a_bad_cursor_gives_the_first_page(client, registry, cursor):
    client.force_login(registry.bella)
    response = client.get(f"/enterprises/?ordering=-registered_on&{cursor}")
    assert response.status_code == 200
    assert listed(response) == expected("-registered_on")[:PAGE_SIZE]
    assert response.context["page"].number == 1


def test_filters_are_kept_across_pages(client, registry):
    client.force_login(registry.bella)
    response = client.get("/enterprises/?city=chongqing&ordering=name")
    codes = listed(response)
    while (url := link(response, "next")) is not None:
        assert "city=chongqing" in url
        response = client.get(f"/enterprises/{url}")
        codes += listed(response)
    assert codes == expected("name", city="chongqing")
    assert response.context["page"].count == len(codes)


def test_the_count_is_cached_until_a_write_changes_the_registry(client, registry, django_capture_on_commit_callbacks):
    client.force_login(registry.bella)
    assert client.get("/enterprises/?city=chengdu").context["page"].count == 1 + (MANY - 2) // 2
    Enterprise.objects.filter(city="chengdu").update(city="chongqing")  # around the services: not yet seen
    assert client.get("/enterprises/?city=chengdu").context["page"].count == 1 + (MANY - 2) // 2
    with django_capture_on_commit_callbacks(execute=True):
        enterprise_create(actor=registry.olivia, credit_code=make_credit_code(random.Random(99), "510100", 2021),
                          name="成都新登记有限公司", city="chengdu")
    assert client.get("/enterprises/?city=chengdu").context["page"].count == 1


def test_a_company_user_counts_only_her_company(client, registry):
    client.force_login(registry.alice)
    assert client.get("/enterprises/").context["page"].count == 1


@pytest.mark.parametrize("query", ["", "q=科技", "q=91500", "city=chongqing&industry_cluster=ic&ordering=-registered_on",
                                   "qualification=hnte", "ordering=city&page=2"])
def test_each_list_page_costs_a_fixed_number_of_queries(client, registry, django_assert_max_num_queries, query):
    Qualification.objects.create(enterprise=registry.alice_co, kind="hnte", certificate_no="GR1",
                                 valid_from=date(2024, 1, 1))
    client.force_login(registry.bella)
    client.get(f"/enterprises/?{query}")  # the count is cached from here on
    with django_assert_max_num_queries(5):
        assert client.get(f"/enterprises/?{query}").status_code == 200


def test_the_api_count_is_cached_until_a_write_changes_the_registry(client, registry,
                                                                    django_capture_on_commit_callbacks):
    client.force_login(registry.bella)
    assert client.get("/api/enterprises/?city=chengdu&limit=1").json()["count"] == 1 + (MANY - 2) // 2
    Enterprise.objects.filter(city="chengdu").update(city="chongqing")  # around the services: not yet seen
    assert client.get("/api/enterprises/?city=chengdu&limit=1").json()["count"] == 1 + (MANY - 2) // 2
    with django_capture_on_commit_callbacks(execute=True):
        enterprise_create(actor=registry.olivia, credit_code=make_credit_code(random.Random(99), "510100", 2021),
                          name="成都新登记有限公司", city="chengdu")
    body = client.get("/api/enterprises/?city=chengdu&limit=1").json()
    assert (body["count"], [e["name"] for e in body["items"]]) == (1, ["成都新登记有限公司"])
