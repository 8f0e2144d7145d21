"""The registry's services: access, validation, consistency flags and the audit entry of every write."""

from decimal import Decimal

import pytest

from twincity.core.errors import Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.enterprises.models import AnnualDeclaration, Enterprise
from twincity.enterprises.services import (
    declaration_delete,
    declaration_upsert,
    enterprise_create,
    enterprise_delete,
    enterprise_update,
)

YEAR = 2024


def test_alice_updates_her_contact_and_declared_facts(cast):
    enterprise_update(actor=cast.alice, enterprise=cast.alice_co, changes={"contact_person": "王小明", "ip_II": 20})
    cast.alice_co.refresh_from_db()
    assert (cast.alice_co.contact_person, cast.alice_co.ip_II) == ("王小明", 20)


@pytest.mark.parametrize(("field", "value"), [("name", "=HYPERLINK(\"http://evil.example\",\"点我\")"),
                                              ("district", "沙坪坝区"), ("industry_cluster", "ev")])
def test_alice_may_not_change_her_registered_identity(cast, field, value):
    with pytest.raises(Forbidden):
        enterprise_update(actor=cast.alice, enterprise=cast.alice_co, changes={field: value})
    stored = Enterprise.objects.get(pk=cast.alice_co.pk)
    assert (stored.name, stored.district, stored.industry_cluster) == ("重庆金凤微电子科技有限公司", "高新区", "ic")
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("who", ["bob", "bella", "clara", "charlie"])
def test_others_cannot_update_alice_profile(cast, who):
    with pytest.raises(Forbidden):
        enterprise_update(actor=getattr(cast, who), enterprise=cast.alice_co, changes={"name": "x"})
    assert Enterprise.objects.get(pk=cast.alice_co.pk).name == "重庆金凤微电子科技有限公司"
    assert not AuditEntry.objects.exists()


def test_the_credit_code_cannot_be_changed(cast):
    with pytest.raises(InvalidInput) as raised:
        enterprise_update(actor=cast.olivia, enterprise=cast.alice_co, changes={"credit_code": "91110000802100433B"})
    assert raised.value.extra == {"fields": {"credit_code": ["该字段不能修改 (this field cannot be changed)"]}}
    assert Enterprise.objects.get(pk=cast.alice_co.pk).credit_code == cast.alice_co.credit_code


def test_an_invalid_profile_value_is_refused_with_the_field(cast):
    with pytest.raises(InvalidInput) as raised:
        enterprise_update(actor=cast.olivia, enterprise=cast.alice_co, changes={"industry_cluster": "bananas"})
    assert list(raised.value.extra["fields"]) == ["industry_cluster"]
    assert Enterprise.objects.get(pk=cast.alice_co.pk).industry_cluster == "ic"


@pytest.mark.parametrize("who", ["alice", "bella", "charlie"])
def test_only_administrators_register_or_delete_enterprises(cast, who):
    actor = getattr(cast, who)
    with pytest.raises(Forbidden):
        enterprise_create(actor=actor, credit_code="914403001922038216", name="华为技术有限公司", city="shenzhen")
    with pytest.raises(Forbidden):
        enterprise_delete(actor=actor, enterprise=cast.alice_co)
    assert Enterprise.objects.count() == 2


def test_create_refuses_unknown_profile_fields(cast):
    with pytest.raises(InvalidInput) as raised:
        enterprise_create(actor=cast.olivia, credit_code="914403001922038216", name="华为", city="shenzhen",
                          colour="red")
    assert raised.value.extra == {"fields": {"colour": ["未知字段 (unknown field)"]}}
    assert not Enterprise.objects.filter(credit_code="914403001922038216").exists()


def test_declaration_upsert_creates_then_updates_one_year(cast):
    first = declaration_upsert(actor=cast.olivia, enterprise=cast.alice_co, fiscal_year=YEAR,
                               figures={"employees": 40, "sales": "1000.5"},
                               provenance={"sales": {"source": "tax", "verified": True}})
    second = declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR,
                                figures={"rd": "80"})

    assert first.pk == second.pk
    stored = AnnualDeclaration.objects.get()
    assert (stored.employees, stored.sales, stored.rd) == (40, Decimal("1000.5000"), Decimal("80.0000"))
    assert stored.provenance == {"sales": {"source": "tax", "verified": True}}
    assert stored.source_of("rd") == {"source": "self_declared", "verified": False}
    assert stored.submitted_by == cast.alice  # the last one to save it


def test_declaration_upsert_with_replace_clears_missing_figures(cast):
    declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR,
                       figures={"employees": 40, "sales": "1000"}, provenance={"sales": {"source": "tax"}})
    declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR, figures={"rd": "5"},
                       replace=True)
    stored = AnnualDeclaration.objects.get()
    assert (stored.employees, stored.sales, stored.rd) == (None, None, Decimal("5.0000"))
    assert stored.provenance == {}


def test_an_inconsistent_declaration_is_stored_with_its_flags(cast):
    declaration = declaration_upsert(
        actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR,
        figures={"employees": 10, "rd_staff": 25, "rd": "300", "cost": "200", "tech_staff": -1,
                 "assets": "100", "liab": "150", "na": "20"},
    )
    stored = AnnualDeclaration.objects.get(pk=declaration.pk)
    assert stored.rd_staff == 25 and stored.tech_staff == -1
    assert [flag["code"] for flag in stored.flags] == [
        "negative_headcount", "rd_staff_exceeds_employees", "rd_exceeds_cost", "net_assets_positive_but_insolvent",
    ]
    assert all(flag["message_zh"] and flag["message_en"] for flag in stored.flags)


def test_flags_are_recomputed_when_the_figures_are_corrected(cast):
    declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR,
                       figures={"employees": 10, "rd_staff": 25})
    declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR, figures={"employees": 30})
    assert AnnualDeclaration.objects.get().flags == []


@pytest.mark.parametrize(
    ("figures", "field"),
    [({"employees": "3.5"}, "employees"), ({"sales": "lots"}, "sales"), ({"sales": "NaN"}, "sales"),
     ({"profit_margin": 3}, "profit_margin")],
)
def test_invalid_figures_are_refused_and_nothing_is_stored(cast, figures, field):
    with pytest.raises(InvalidInput) as raised:
        declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR, figures=figures)
    assert list(raised.value.extra["fields"]) == [field]
    assert not AnnualDeclaration.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("year", [1979, 2100])
def test_an_implausible_fiscal_year_is_refused(cast, year):
    with pytest.raises(InvalidInput):
        declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=year, figures={"employees": 1})
    assert not AnnualDeclaration.objects.exists()


def test_an_unknown_source_is_refused(cast):
    with pytest.raises(InvalidInput) as raised:
        declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR,
                           figures={"sales": "1"}, provenance={"sales": {"source": "rumour"}})
    assert raised.value.extra == {"fields": {"sales": [
        "未知的数据来源，可选：self_declared, tax, social_security, ip_office, audit_report "
        "(unknown source; one of: self_declared, tax, social_security, ip_office, audit_report)"]}}


@pytest.mark.parametrize("who", ["bob", "bella", "clara", "charlie"])
def test_only_the_company_and_administrators_file_declarations(cast, who):
    with pytest.raises(Forbidden):
        declaration_upsert(actor=getattr(cast, who), enterprise=cast.alice_co, fiscal_year=YEAR,
                           figures={"employees": 1})
    assert not AnnualDeclaration.objects.exists()


def test_bob_cannot_delete_alice_declaration(cast):
    declaration = declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR,
                                     figures={"employees": 1})
    with pytest.raises(Forbidden):
        declaration_delete(actor=cast.bob, declaration=declaration)
    assert AnnualDeclaration.objects.filter(pk=declaration.pk).exists()


def test_deleting_an_enterprise_records_its_declarations_deletion(cast):
    declaration = declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR,
                                     figures={"employees": 40})
    enterprise_pk = cast.alice_co.pk

    enterprise_delete(actor=cast.olivia, enterprise=cast.alice_co)

    assert not Enterprise.objects.filter(pk=enterprise_pk).exists()
    assert not AnnualDeclaration.objects.exists()
    deletions = AuditEntry.objects.filter(action="delete").order_by("id")
    assert [(e.object_type, e.object_id) for e in deletions] == [
        ("enterprises.annualdeclaration", str(declaration.pk)),
        ("enterprises.enterprise", str(enterprise_pk)),
    ]
    assert deletions[0].changes["employees"] == {"before": 40, "after": None}
    assert deletions[1].changes["credit_code"] == {"before": "91500107MA5YP4QX2A", "after": None}


def test_a_certificate_is_in_force_from_its_first_to_its_last_day_in_python_and_in_sql(cast):
    from datetime import date, timedelta

    from twincity.enterprises.models import Qualification, in_force
    from twincity.enterprises.services import qualification_add

    first, last = date(2024, 3, 1), date(2027, 2, 28)
    bounded = qualification_add(actor=cast.olivia, enterprise=cast.alice_co, kind="innov", certificate_no="B-1",
                                valid_from=first, valid_until=last)
    open_ended = qualification_add(actor=cast.olivia, enterprise=cast.alice_co, kind="srdi", certificate_no="O-1",
                                   valid_from=first)
    one = timedelta(days=1)
    for day, expected in [(first - one, False), (first, True), (last, True), (last + one, False)]:
        assert in_force(first, last, day) is expected
        assert bounded.is_valid_on(day) is expected
        assert Qualification.objects.valid_on(day).filter(pk=bounded.pk).exists() is expected
    assert in_force(first, None, date(2099, 1, 1)) is True
    assert Qualification.objects.valid_on(date(2099, 1, 1)).filter(pk=open_ended.pk).exists()
    assert not Qualification.objects.valid_on(first - one).filter(pk=open_ended.pk).exists()
