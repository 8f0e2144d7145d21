"""The home page: its registry figures are cached, every write that changes them shows on the next page, and each
persona's page costs a fixed number of queries."""

import random

import pytest

from twincity.demo.generator import make_credit_code
from twincity.enterprises.services import declaration_upsert, enterprise_create, enterprise_delete, enterprise_update

NEW_CODE = make_credit_code(random.Random(7), "500000", 2020)


def figures(client) -> dict:
    response = client.get("/")
    assert response.status_code == 200
    return response.context["figures"]


def clusters(result) -> dict[str, int]:
    return {c["key"]: c["count"] for c in result["clusters"] if c["count"]}


def test_the_figures_count_the_registry_by_city_and_cluster(client, cast):
    client.force_login(cast.bella)
    result = figures(client)
    assert (result["enterprise_total"], result["chongqing_total"], result["chengdu_total"]) == (2, 1, 1)
    assert clusters(result) == {"ic": 1, "ict": 1}


def test_the_figures_are_cached_until_a_write_commits(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.bella)
    figures(client)
    # Written around the services (no audit, no bump): the cached figures stay as they were.
    cast.bob_co.city = "chongqing"
    cast.bob_co.save()
    assert figures(client)["chongqing_total"] == 1
    # An audited write bumps the version when it commits: the next page counts again.
    with django_capture_on_commit_callbacks(execute=True):
        enterprise_update(actor=cast.olivia, enterprise=cast.alice_co, changes={"district": "沙坪坝区"})
    assert figures(client)["chongqing_total"] == 2


def test_registering_an_enterprise_changes_the_figures(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.bella)
    figures(client)
    with django_capture_on_commit_callbacks(execute=True):
        enterprise_create(actor=cast.olivia, credit_code=NEW_CODE, name="重庆新登记科技有限公司", city="chongqing",
                          industry_cluster="biomed")
    result = figures(client)
    assert (result["enterprise_total"], result["chongqing_total"], result["chengdu_total"]) == (3, 2, 1)
    assert clusters(result) == {"ic": 1, "ict": 1, "biomed": 1}


def test_moving_an_enterprise_changes_the_figures(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.olivia)
    figures(client)
    with django_capture_on_commit_callbacks(execute=True):
        enterprise_update(actor=cast.olivia, enterprise=cast.bob_co, changes={"city": "chongqing",
                                                                              "industry_cluster": "ic"})
    result = figures(client)
    assert (result["enterprise_total"], result["chongqing_total"], result["chengdu_total"]) == (2, 2, 0)
    assert clusters(result) == {"ic": 2}


def test_deleting_an_enterprise_changes_the_figures(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.bella)
    figures(client)
    with django_capture_on_commit_callbacks(execute=True):
        enterprise_delete(actor=cast.olivia, enterprise=cast.bob_co)
    result = figures(client)
    assert (result["enterprise_total"], result["chongqing_total"], result["chengdu_total"]) == (1, 1, 0)
    assert clusters(result) == {"ic": 1}


def test_a_flagged_declaration_changes_the_administrators_count(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.olivia)
    assert client.get("/").context["flagged_declarations"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        declaration_upsert(actor=cast.olivia, enterprise=cast.alice_co, fiscal_year=2024,
                           figures={"employees": 10, "rd_staff": 25})
    assert client.get("/").context["flagged_declarations"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        declaration_upsert(actor=cast.olivia, enterprise=cast.alice_co, fiscal_year=2024,
                           figures={"rd_staff": 5})
    assert client.get("/").context["flagged_declarations"] == 0


@pytest.mark.parametrize(("persona", "queries"), [("alice", 9), ("bella", 6), ("olivia", 8), ("charlie", 5)])
def test_each_home_page_costs_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries, persona,
                                                        queries):
    for fiscal_year in (2022, 2023, 2024):
        declaration_upsert(actor=cast.olivia, enterprise=cast.alice_co, fiscal_year=fiscal_year,
                           figures={"employees": 10, "rd_staff": 25})
    client.force_login(cast.personas[persona])
    client.get("/")  # the figures are cached from here on
    with django_assert_max_num_queries(queries):
        assert client.get("/").status_code == 200


def test_a_company_sees_the_qualifications_it_holds_today_once_each(client, cast):
    from datetime import timedelta

    from django.utils import timezone

    from twincity.enterprises.services import qualification_add

    today = timezone.localdate()
    cast.alice_co.qualifications.all().delete()
    qualification_add(actor=cast.olivia, enterprise=cast.alice_co, kind="tsme", certificate_no="T-OLD",
                      valid_from=today - timedelta(days=800), valid_until=today - timedelta(days=400))
    newest = qualification_add(actor=cast.olivia, enterprise=cast.alice_co, kind="tsme", certificate_no="T-NEW",
                               valid_from=today - timedelta(days=30), valid_until=today + timedelta(days=335))
    qualification_add(actor=cast.olivia, enterprise=cast.alice_co, kind="hnte", certificate_no="H-EXPIRED",
                      valid_from=today - timedelta(days=1200), valid_until=today - timedelta(days=1))
    client.force_login(cast.alice)
    assert client.get("/").context["qualifications"] == [newest]  # the expired ones are not held
