"""The registry's pages: the list with its filters, the detail page, and "my enterprise"."""

import re

import pytest

from twincity.enterprises.services import declaration_upsert
from twincity.testing import ALICE_CODE, BOB_CODE

YEAR = 2024


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def listed(response) -> list[str]:
    return [e.credit_code for e in response.context["page"].object_list]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [BOB_CODE, ALICE_CODE]),
        ("q=天府", [BOB_CODE]),
        (f"q={ALICE_CODE[:8]}", [ALICE_CODE]),
        ("city=chongqing", [ALICE_CODE]),
        ("industry_cluster=ict", [BOB_CODE]),
        ("ordering=-name", [ALICE_CODE, BOB_CODE]),
    ],
)
def test_the_list_page_filters_for_a_bank_officer(client, cast, query, expected):
    client.force_login(cast.bella)
    response = client.get(f"/enterprises/?{query}")
    assert response.status_code == 200
    assert listed(response) == expected


def test_the_list_page_answers_htmx_with_the_results_only(client, cast):
    client.force_login(cast.olivia)
    full = client.get("/enterprises/")
    partial = client.get("/enterprises/", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert listed(partial) == listed(full)
    assert "<html" in full.content.decode()
    assert "<html" not in partial.content.decode()


def test_alice_sees_only_her_company_in_the_list(client, cast):
    client.force_login(cast.alice)
    assert listed(client.get("/enterprises/")) == [ALICE_CODE]


def test_my_enterprise_takes_alice_to_her_company(client, cast):
    client.force_login(cast.alice)
    response = client.get("/enterprises/mine/")
    assert response.status_code == 302
    assert response["Location"] == f"/enterprises/{ALICE_CODE}/"


def test_alice_sees_her_declarations_and_their_flags(client, cast):
    declaration_upsert(actor=cast.olivia, enterprise=cast.alice_co, fiscal_year=YEAR,
                       figures={"employees": 10, "rd_staff": 25, "sales": "1000"},
                       provenance={"sales": {"source": "tax", "verified": True}})
    client.force_login(cast.alice)

    response = client.get(f"/enterprises/{ALICE_CODE}/")

    assert response.status_code == 200
    assert response.context["can_view_declarations"] is True
    assert [d.fiscal_year for d in response.context["declarations"]] == [YEAR]
    assert response.context["flags"][0][0] == YEAR
    assert response.context["flags"][0][1]["code"] == "rd_staff_exceeds_employees"
    content = response.content.decode()
    assert 'data-code="rd_staff_exceeds_employees"' in content
    assert "研发人员数大于职工总数" in content
    rows = {row["spec"].name: row["cells"][0] for row in response.context["figure_rows"]}
    assert rows["sales"]["verified"] is True
    assert rows["rd_staff"]["flagged"] is True
    assert rows["sales"]["flagged"] is False


def _without_tokens(page: str) -> str:
    return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1-", page)


def test_the_declarations_table_follows_every_change(client, cast, django_capture_on_commit_callbacks):
    """The table is rendered once per registry version (twincity.core.caching): a change of a declaration,
    audited, shows at once; the page read from the cache is the page rendered afresh."""
    from django.core.cache import cache

    declaration_upsert(actor=cast.olivia, enterprise=cast.alice_co, fiscal_year=YEAR,
                       figures={"employees": 10, "rd_staff": 5, "sales": "1000"})
    client.force_login(cast.alice)
    url = f"/enterprises/{ALICE_CODE}/"
    cache.clear()
    first = client.get(url).content.decode()
    assert first.count('data-code="rd_staff_exceeds_employees"') == 0
    assert _without_tokens(client.get(url).content.decode()) == _without_tokens(first)

    with django_capture_on_commit_callbacks(execute=True):  # the write commits: the version moves on
        declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR,
                           figures={"employees": 10, "rd_staff": 25, "sales": "1234.5"})
    page = client.get(url).content.decode()
    assert 'data-code="rd_staff_exceeds_employees"' in page
    assert ">1234.5000<" in page and ">1000.0000<" not in page


def test_bella_sees_the_profile_but_not_the_declarations(client, cast):
    declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR,
                       figures={"employees": 10, "rd_staff": 25})
    client.force_login(cast.bella)

    response = client.get(f"/enterprises/{ALICE_CODE}/")

    assert response.status_code == 200
    assert response.context["can_view_declarations"] is False
    assert response.context["declarations_html"] is None
    assert "研发人员数大于职工总数" not in response.content.decode()
    assert response.context["history"] is None


def test_an_unknown_code_is_404(client, cast):
    client.force_login(cast.olivia)
    assert client.get("/enterprises/914403001922038216/").status_code == 404


def test_the_registry_needs_a_login(client, cast):
    for url in ("/enterprises/", f"/enterprises/{ALICE_CODE}/", "/enterprises/mine/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_the_navigation_offers_only_pages_the_person_may_open(client, cast):
    def labels(user):
        client.force_login(user)
        return [item.url for item in client.get("/").context["navigation"]]

    assert "/audit/" in labels(cast.olivia)
    assert "/accounts/tokens/" in labels(cast.olivia)
    assert "/audit/" not in labels(cast.alice)
    assert "/enterprises/mine/" in labels(cast.alice)
    assert "/enterprises/" in labels(cast.bella)
    # published rules, published financial products and the instrument catalogue only
    assert labels(cast.charlie) == ["/", "/points/standards/", "/finance/products/", "/instruments/", "/govservices/",
                                    "/govservices/cases/mine/", "/licences/", "/api/docs"]
