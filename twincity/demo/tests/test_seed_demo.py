from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from stdnum.cn import uscc

from twincity.accounts.models import Organisation, User
from twincity.demo import generator, personas, services
from twincity.enterprises.consistency import declaration_flags
from twincity.enterprises.fields import FIGURE_NAMES
from twincity.enterprises.models import AnnualDeclaration, Enterprise, Qualification


def _fingerprint(data: generator.DemoData) -> list[tuple]:
    return (
        [(e["credit_code"], e["name"], e["city"], e["registered_on"]) for e in data.enterprises]
        + [(i, d["fiscal_year"], *(d[name] for name in FIGURE_NAMES)) for i, d in data.declarations]
        + [(i, q["kind"], q["certificate_no"], q["valid_from"]) for i, q in data.qualifications]
    )


@pytest.fixture(scope="module")
def data500() -> generator.DemoData:
    return generator.generate(500, generator.DEFAULT_SEED)


# --- the pure generator


def test_same_seed_same_data_other_seed_other_data():
    first, again, other = generator.generate(50, 7), generator.generate(50, 7), generator.generate(50, 8)
    assert _fingerprint(first) == _fingerprint(again)
    assert [e["credit_code"] for e in first.enterprises[:-2]] != [e["credit_code"] for e in other.enterprises[:-2]]
    assert [e["name"] for e in first.enterprises[:-2]] != [e["name"] for e in other.enterprises[:-2]]


def test_chunks_concatenate_to_the_whole_and_a_larger_run_extends_a_smaller_one():
    whole = generator.generate(40, 3)
    pieces = list(generator.iter_chunks(40, 3, chunk_size=7))
    assert len(pieces) == 6
    assert [e for p in pieces for e in p.enterprises] == whole.enterprises
    larger = generator.generate(60, 3)
    assert larger.enterprises[:38] == whole.enterprises[:38]  # the persona companies come last


def test_credit_codes_are_valid_and_unique(data500):
    codes = [e["credit_code"] for e in data500.enterprises]
    assert all(uscc.is_valid(code) for code in codes)
    assert len(set(codes)) == len(codes) == 500
    assert all(generator.uscc_check(code[:17]) == uscc.calc_check_digit(code[:17]) for code in codes)
    # The organisation-code part carries its own GB 11714 check character.
    assert all(generator.org_code_check(code[8:16]) == code[16] for code in codes[:-2])
    assert generator.org_code_check("60003734") == "1"  # 91110000600037341L, a real code


def test_names_are_unique_and_plausible(data500):
    names = [e["name"] for e in data500.enterprises]
    assert len(set(names)) == len(names)
    assert all(name.endswith("公司") and ("重庆" in name or "成都" in name) for name in names)


def test_both_cities_all_clusters_and_plausible_profiles(data500):
    cities = Counter(e["city"] for e in data500.enterprises)
    assert 0.5 < cities["chongqing"] / 500 < 0.7 and cities["chengdu"] > 150
    assert set(e["industry_cluster"] for e in data500.enterprises) == {
        "ic", "ev", "ict", "materials", "biomed", "equipment", "energy", "other"}
    for e in data500.enterprises:
        assert e["credit_code"][2:4] == ("50" if e["city"] == "chongqing" else "51")
        assert e["district"] in {d for d, _w, _c in generator.DISTRICTS[e["city"]]}
        if e["ip_I_self"] is not None:
            assert e["ip_I_hv"] <= e["ip_I_self"]


def test_declarations_are_consistent_except_the_deliberate_mistakes(data500):
    declarations = [row for _i, row in data500.declarations]
    assert 1300 < len(declarations) <= 1500  # three years, fewer for companies registered since 2023
    assert {row["fiscal_year"] for row in declarations} == {2023, 2024, 2025}
    flagged = [row for row in declarations if row["flags"]]
    assert 0.005 < len(flagged) / len(declarations) < 0.06
    by_key = {(i, row["fiscal_year"]): row for i, row in data500.declarations}
    for i, row in data500.declarations:
        # The flags are the registry's own, year-over-year jumps included (the one validation computed them).
        previous = by_key.get((i, row["fiscal_year"] - 1))
        assert row["flags"] == [f.as_dict() for f in declaration_flags(row, previous_year=previous)]
        if row["flags"]:
            continue
        assert Decimal(row["na"]) == Decimal(row["assets"]) - Decimal(row["liab"])
        assert row["rd_staff"] <= (row["tech_staff"] if row["tech_staff"] is not None else row["employees"])
        assert Decimal(row["total_income"]) >= Decimal(row["sales"])
        assert set(row["provenance"]) <= set(FIGURE_NAMES)
    employees = sorted(row["employees"] for row in declarations if row["fiscal_year"] == 2025)
    assert 20 <= employees[len(employees) // 2] <= 100  # median around 45


def test_qualification_dates_are_consistent(data500):
    kinds = Counter()
    for _index, q in data500.qualifications:
        assert q["valid_until"] is None or q["valid_until"] > q["valid_from"]
        kinds[q["kind"]] += 1
    holders = {kind: len({i for i, q in data500.qualifications if q["kind"] == kind}) for kind in kinds}
    assert 0.12 < holders["hnte"] / 500 < 0.4
    assert 0.3 < holders["tsme"] / 500 < 0.7
    assert 0.03 < holders["srdi"] / 500 < 0.2


# --- the database


def _counts() -> tuple[int, int, int, int, int]:
    return (Enterprise.objects.count(), AnnualDeclaration.objects.count(), Qualification.objects.count(),
            Organisation.objects.count(), User.objects.count())


@pytest.mark.django_db
def test_seed_demo_loads_personas_with_their_organisations():
    out = StringIO()
    call_command("seed_demo", enterprises=60, seed=5, stdout=out)
    assert "60 enterprises" in out.getvalue() and "alice" in out.getvalue()

    users = {u.username: u for u in User.objects.select_related("organisation", "organisation__parent")}
    expected = {
        "alice": ("enterprise_user", "重庆金凤微电子科技有限公司"), "bob": ("enterprise_user", "成都天府星云软件有限公司"),
        "bella": ("bank_officer", "重庆农村商业银行科学城支行"), "bruno": ("bank_officer", "成都银行高新支行"),
        "gary": ("guarantee_officer", "重庆科学城融资担保有限公司"), "owen": ("instrument_owner", "重庆大学分析测试中心"),
        "clara": ("clerk", "重庆高新区政务服务中心"), "olivia": ("administrator", "西部(重庆)科学城管委会"),
    }
    for username, (role, organisation) in expected.items():
        assert users[username].role == role
        assert users[username].organisation.name == organisation
        assert not users[username].is_staff and not users[username].is_superuser
    assert users["charlie"].role == "" and users["charlie"].organisation is None
    assert users["olivia"].is_platform_admin
    assert users["alice"].check_password(personas.DEMO_PASSWORD)
    assert users["bella"].organisation.parent.name == "重庆农村商业银行"
    assert users["bruno"].organisation.root_id != users["bella"].organisation.root_id
    kinds = Counter(Organisation.objects.values_list("kind", flat=True))
    assert kinds["bank"] >= 8 and kinds["guarantor"] >= 2 and kinds["fund"] >= 1 and kinds["institute"] >= 4
    assert Organisation.objects.filter(name="金凤实验室", kind="institute").exists()

    alice_co = Enterprise.objects.get(organisation=users["alice"].organisation)
    bob_co = Enterprise.objects.get(organisation=users["bob"].organisation)
    assert (alice_co.city, alice_co.district, alice_co.industry_cluster) == ("chongqing", "高新区", "ic")
    assert bob_co.city == "chengdu"
    for company, owner in ((alice_co, users["alice"]), (bob_co, users["bob"])):
        declarations = list(company.declarations.all())
        assert [d.fiscal_year for d in declarations] == [2025, 2024, 2023]
        assert all(d.submitted_by_id == owner.pk and d.flags == [] for d in declarations)
    assert {"hnte", "tsme"} <= set(alice_co.qualifications.values_list("kind", flat=True))
    latest = alice_co.declarations.get(fiscal_year=2025)
    assert latest.sales == Decimal("3985.2700") and latest.na == latest.assets - latest.liab
    assert latest.source_of("sales") == {"source": "tax", "verified": True}


@pytest.mark.django_db
def test_database_rows_equal_the_generated_rows():
    services.seed(enterprises=40, seed=11)
    data = generator.generate(40, 11)
    stored = {e.credit_code: e for e in Enterprise.objects.all()}
    assert set(stored) == {e["credit_code"] for e in data.enterprises}
    index, row = next((i, r) for i, r in data.declarations if r["flags"] or i == 0)
    declaration = AnnualDeclaration.objects.get(
        enterprise__credit_code=data.enterprises[index]["credit_code"], fiscal_year=row["fiscal_year"])
    for name in FIGURE_NAMES:
        expected = row[name]
        assert getattr(declaration, name) == (Decimal(expected) if isinstance(expected, str) else expected), name
    assert declaration.provenance == row["provenance"] and declaration.flags == row["flags"]
    assert Qualification.objects.count() == len(data.qualifications)


@pytest.mark.django_db
def test_second_run_changes_nothing_and_reset_reloads():
    call_command("seed_demo", enterprises=30, seed=2, stdout=StringIO())
    before = _counts()
    codes = set(Enterprise.objects.values_list("credit_code", flat=True))
    out = StringIO()
    call_command("seed_demo", enterprises=30, seed=2, stdout=out)
    assert "nothing to do" in out.getvalue()
    assert _counts() == before

    call_command("seed_demo", enterprises=30, seed=2, reset=True, stdout=StringIO())
    assert _counts() == before
    assert set(Enterprise.objects.values_list("credit_code", flat=True)) == codes


@pytest.mark.django_db
def test_existing_users_or_enterprises_mean_already_seeded():
    User.objects.create_user("alice")
    assert not services.seed(enterprises=10, seed=1).seeded
    assert Enterprise.objects.count() == 0


@pytest.mark.django_db
def test_background_generation_gives_the_same_rows():
    result = services.seed(enterprises=25, seed=9, background=True, batch_size=10)
    assert result.enterprises == 25
    expected = generator.generate(25, 9)
    assert sorted(Enterprise.objects.values_list("credit_code", "name")) == sorted(
        (e["credit_code"], e["name"]) for e in expected.enterprises)
    assert AnnualDeclaration.objects.count() == len(expected.declarations) == result.declarations


@pytest.mark.django_db
def test_flagged_declarations_show_up_for_500():
    result = services.seed(enterprises=500, seed=generator.DEFAULT_SEED)
    assert result.flagged == AnnualDeclaration.objects.exclude(flags=[]).count() > 5
    assert Counter(Enterprise.objects.values_list("city", flat=True))["chengdu"] > 150


@pytest.mark.django_db
def test_the_talent_card_holders_of_the_cast():
    from twincity.core.verification import code_url
    from twincity.talent.models import CardApplication, ServiceRequest, TalentCard
    from twincity.talent.services import card_code

    result = services.seed(enterprises=10, seed=3)
    assert result.talent_cards == 2
    ruby = TalentCard.objects.get(holder__username="ruby")
    felix = TalentCard.objects.get(holder__username="felix")
    assert (ruby.scheme.code, ruby.tier, ruby.application.channel, ruby.application.submitted_by.username) == (
        "jinxiongmao", "B", "employer", "bob")
    assert (felix.scheme.code, felix.tier) == ("jinfenghuang", "II")
    assert sorted(ServiceRequest.objects.values_list("service_code", "granted")) == [
        ("medical_green", True), ("talent_apartment", False)]
    assert CardApplication.objects.get(status="submitted").applicant.username == "alice"
    assert all(v.demo for v in ruby.scheme.versions.all())
    from django.test import Client

    page = Client().get(code_url(card_code(ruby)))
    assert page.status_code == 200 and "Ruby" in page.content.decode()
