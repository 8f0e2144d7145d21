"""The registry's endpoints, through the real URLs so config/api.py's error handlers run."""

import json

import pytest

from twincity.enterprises.models import AnnualDeclaration, Enterprise, Qualification
from twincity.testing import ALICE_CODE, BOB_CODE

YEAR = 2024
DECLARATION_URL = f"/api/enterprises/{ALICE_CODE}/declarations/{YEAR}"


def put(client, url, body):
    return client.put(url, json.dumps(body), content_type="application/json")


def test_olivia_lists_every_enterprise_with_a_count(client, cast):
    client.force_login(cast.olivia)
    response = client.get("/api/enterprises/")
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert [e["credit_code"] for e in response.json()["items"]] == [BOB_CODE, ALICE_CODE]  # by name


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=金凤", [ALICE_CODE]),
        (f"q={ALICE_CODE[:10].lower()}", [ALICE_CODE]),
        ("city=chengdu", [BOB_CODE]),
        ("industry_cluster=ic", [ALICE_CODE]),
        ("qualification=hnte", [ALICE_CODE]),
        ("ordering=-registered_on", [ALICE_CODE, BOB_CODE]),
        ("ordering=registered_on", [BOB_CODE, ALICE_CODE]),
        ("q=no-such-company", []),
    ],
)
def test_the_list_filters(client, cast, query, expected):
    Qualification.objects.create(enterprise=cast.alice_co, kind="hnte", certificate_no="GR202350001234",
                                 valid_from="2023-11-01")
    client.force_login(cast.bella)
    response = client.get(f"/api/enterprises/?{query}")
    assert response.status_code == 200
    assert [e["credit_code"] for e in response.json()["items"]] == expected
    assert response.json()["count"] == len(expected)


def test_an_unknown_ordering_is_refused_as_the_schema_says(client, cast):
    client.force_login(cast.bella)
    response = client.get("/api/enterprises/?ordering=password")
    assert response.status_code == 422
    assert response.json()["extra"]["errors"][0]["loc"] == ["query", "ordering"]


def test_the_list_paginates(client, cast):
    client.force_login(cast.olivia)
    response = client.get("/api/enterprises/?limit=1&offset=1")
    assert response.json()["count"] == 2
    assert [e["credit_code"] for e in response.json()["items"]] == [ALICE_CODE]


@pytest.mark.parametrize("query", ["limit=1001", "limit=0", "offset=-1", "limit=100000000000000000000000",
                                   "offset=100000000000000000000000"])
def test_out_of_range_pagination_is_a_422(client, cast, query):
    client.force_login(cast.olivia)
    response = client.get(f"/api/enterprises/?{query}")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


def test_alice_reads_her_profile_with_qualifications(client, cast):
    Qualification.objects.create(enterprise=cast.alice_co, kind="hnte", certificate_no="GR202350001234",
                                 valid_from="2023-11-01", valid_until="2026-10-31")
    client.force_login(cast.alice)
    response = client.get(f"/api/enterprises/{ALICE_CODE}")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["city"], body["ip_I_self"], body["ip_II"]) == ("重庆金凤微电子科技有限公司", "chongqing", 6, 14)
    [qualification] = body["qualifications"]
    assert qualification.pop("kind_label")  # translated
    assert qualification.pop("id") == Qualification.objects.get().pk
    assert qualification == {"kind": "hnte", "certificate_no": "GR202350001234", "valid_from": "2023-11-01",
                             "valid_until": "2026-10-31"}


def test_alice_patches_her_contact_and_declared_facts(client, cast):
    client.force_login(cast.alice)
    response = client.patch(f"/api/enterprises/{ALICE_CODE}",
                            json.dumps({"contact_email": "cfo@jinfeng.example", "ip_II": 15}),
                            content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["contact_email"], response.json()["ip_II"]) == ("cfo@jinfeng.example", 15)
    cast.alice_co.refresh_from_db()
    assert (cast.alice_co.contact_email, cast.alice_co.ip_II, cast.alice_co.name) == (
        "cfo@jinfeng.example", 15, "重庆金凤微电子科技有限公司")


def test_alice_may_not_change_her_registered_district(client, cast):
    client.force_login(cast.alice)
    response = client.patch(f"/api/enterprises/{ALICE_CODE}", json.dumps({"district": "九龙坡区"}),
                            content_type="application/json")
    assert response.status_code == 403
    assert response.json()["extra"]["fields"] == {"district": ["无权修改该字段 (you may not change this field)"]}
    cast.alice_co.refresh_from_db()
    assert cast.alice_co.district == "高新区"


@pytest.mark.parametrize(
    "body", [{"credit_code": BOB_CODE}, {"ip_II": -1}, {"industry_cluster": "bananas"}, {"name": ""}]
)
def test_a_bad_patch_changes_nothing(client, cast, body):
    client.force_login(cast.alice)
    before = Enterprise.objects.filter(pk=cast.alice_co.pk).values().get()
    response = client.patch(f"/api/enterprises/{ALICE_CODE}", json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert Enterprise.objects.filter(pk=cast.alice_co.pk).values().get() == before


def test_bella_reads_profiles_but_cannot_change_them(client, cast):
    client.force_login(cast.bella)
    assert client.get(f"/api/enterprises/{ALICE_CODE}").status_code == 200
    response = client.patch(f"/api/enterprises/{ALICE_CODE}", json.dumps({"name": "x"}),
                            content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert Enterprise.objects.get(pk=cast.alice_co.pk).name == "重庆金凤微电子科技有限公司"


def test_alice_files_a_declaration_and_reads_it_back(client, cast):
    client.force_login(cast.alice)
    body = {"figures": {"employees": 40, "rd_staff": 12, "sales": "1234.5", "rd": "88.25", "cost": "900"},
            "provenance": {"sales": {"source": "tax"}}}

    response = put(client, DECLARATION_URL, body)

    assert response.status_code == 200
    assert response.json()["credit_code"] == ALICE_CODE
    assert response.json()["fiscal_year"] == YEAR
    assert response.json()["employees"] == 40
    assert response.json()["flags"] == []
    stored = AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=YEAR)
    assert (stored.employees, str(stored.sales), str(stored.rd)) == (40, "1234.5000", "88.2500")
    assert stored.provenance == {"sales": {"source": "tax", "verified": False}}
    listed = client.get(f"/api/enterprises/{ALICE_CODE}/declarations").json()
    assert [(d["fiscal_year"], d["employees"]) for d in listed] == [(YEAR, 40)]
    assert client.get(DECLARATION_URL).json()["rd_staff"] == 12


def test_an_inconsistent_declaration_is_stored_and_flagged_not_refused(client, cast):
    client.force_login(cast.alice)
    body = {"figures": {"employees": 10, "rd_staff": 25, "rd": "300", "cost": "200", "tech_staff": -2,
                        "assets": "100", "liab": "150", "na": "20"}}

    response = put(client, DECLARATION_URL, body)

    assert response.status_code == 200
    flags = response.json()["flags"]
    assert [flag["code"] for flag in flags] == [
        "negative_headcount", "rd_staff_exceeds_employees", "rd_exceeds_cost", "net_assets_positive_but_insolvent",
    ]
    assert flags[1] == {"code": "rd_staff_exceeds_employees", "fields": ["rd_staff", "employees"],
                        "message_zh": "研发人员数大于职工总数", "message_en": "R&D staff exceed total employees"}
    assert flags[0]["message_zh"] == "科技人员数不能为负数"
    stored = AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=YEAR)
    assert (stored.rd_staff, stored.tech_staff, str(stored.na)) == (25, -2, "20.0000")
    assert [flag["code"] for flag in stored.flags] == [flag["code"] for flag in flags]
    assert client.get(DECLARATION_URL).json()["flags"] == flags


@pytest.mark.parametrize(
    "body",
    [
        {"figures": {"employees": "many"}},
        {"figures": {"sales": "1e400"}},
        {"figures": {"sales": "Infinity"}},
        {"figures": {"employees": 1}, "provenance": {"sales": {"source": "rumour"}}},
        {"figures": {"employees": 1}, "provenance": {"profit": {"source": "tax"}}},
        {"figures": {"employees": 1, "profit": 5}},
        {"figures": {"employees": 1}, "extra": True},
        {},
    ],
)
def test_a_malformed_declaration_is_refused_and_nothing_is_stored(client, cast, body):
    client.force_login(cast.alice)
    response = put(client, DECLARATION_URL, body)
    assert response.status_code == 422
    assert set(response.json()) == {"message", "code", "extra"}
    assert not AnnualDeclaration.objects.exists()


@pytest.mark.parametrize("year", [1979, 2101, 9999])
def test_an_implausible_year_is_refused(client, cast, year):
    client.force_login(cast.alice)
    response = put(client, f"/api/enterprises/{ALICE_CODE}/declarations/{year}", {"figures": {"employees": 1}})
    assert response.status_code == 422
    assert not AnnualDeclaration.objects.exists()


def test_alice_deletes_a_declaration(client, cast):
    client.force_login(cast.alice)
    put(client, DECLARATION_URL, {"figures": {"employees": 1}})
    response = client.delete(DECLARATION_URL)
    assert response.status_code == 204
    assert not AnnualDeclaration.objects.exists()
    assert client.get(DECLARATION_URL).status_code == 404


def test_only_olivia_deletes_an_enterprise(client, cast):
    client.force_login(cast.alice)
    assert client.delete(f"/api/enterprises/{ALICE_CODE}").status_code == 403
    assert Enterprise.objects.filter(credit_code=ALICE_CODE).exists()

    client.force_login(cast.olivia)
    assert client.delete(f"/api/enterprises/{ALICE_CODE}").status_code == 204
    assert not Enterprise.objects.filter(credit_code=ALICE_CODE).exists()
    assert client.get(f"/api/enterprises/{ALICE_CODE}").status_code == 404


def test_registering_needs_an_administrator(client, cast):
    client.force_login(cast.alice)
    body = {"credit_code": "914403001922038216", "name": "华为技术有限公司", "city": "shenzhen"}
    response = client.post("/api/enterprises/", json.dumps(body), content_type="application/json")
    assert response.status_code == 403
    assert not Enterprise.objects.filter(credit_code="914403001922038216").exists()


def test_the_history_endpoint_is_for_administrators(client, cast):
    client.force_login(cast.alice)
    response = client.get(f"/api/enterprises/{ALICE_CODE}/history")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_null_clears_a_text_field(client, cast):
    # Found by the fuzz run: null for a text column was a NOT NULL IntegrityError (500).
    client.force_login(cast.olivia)
    response = client.patch(f"/api/enterprises/{ALICE_CODE}",
                            json.dumps({"industry_code": None, "district": None, "size_class": None}),
                            content_type="application/json")
    assert response.status_code == 200
    cast.alice_co.refresh_from_db()
    assert (cast.alice_co.industry_code, cast.alice_co.district, cast.alice_co.size_class) == ("", "", "")


def test_null_clears_a_money_figure(client, cast):
    # Found by the contract fuzz: null for a money figure was refused as "not a number" (422).
    client.force_login(cast.alice)
    assert put(client, DECLARATION_URL, {"figures": {"employees": 40, "sales": "1234.5"}}).status_code == 200

    response = put(client, DECLARATION_URL, {"figures": {"sales": None}})

    assert response.status_code == 200, response.content
    assert response.json()["sales"] is None
    stored = AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=YEAR)
    assert (stored.employees, stored.sales) == (40, None)


@pytest.mark.parametrize("sales", ["1e3", " 12", "1_000", "1000000000000", "999999999999.99999", 999999999999.99999])
def test_money_as_text_is_digits_within_the_limit_as_documented(client, cast, sales):
    client.force_login(cast.alice)
    assert put(client, DECLARATION_URL, {"figures": {"sales": sales}}).status_code == 422
    assert not AnnualDeclaration.objects.filter(enterprise=cast.alice_co).exists()


def test_null_sets_the_default_cluster(client, cast):
    client.force_login(cast.olivia)
    response = client.patch(f"/api/enterprises/{ALICE_CODE}", json.dumps({"industry_cluster": None}),
                            content_type="application/json")
    assert response.status_code == 200
    assert response.json()["industry_cluster"] == "other"


@pytest.mark.parametrize("field", ["name", "city"])
def test_null_for_a_required_field_is_422(client, cast, field):
    client.force_login(cast.olivia)
    response = client.patch(f"/api/enterprises/{ALICE_CODE}", json.dumps({field: None}),
                            content_type="application/json")
    assert response.status_code == 422
    # The schema says so (the field is not nullable), so the schema check refuses it, naming the field.
    assert [error["loc"][-1] for error in response.json()["extra"]["errors"]] == [field]
    cast.alice_co.refresh_from_db()
    assert cast.alice_co.name == "重庆金凤微电子科技有限公司"
