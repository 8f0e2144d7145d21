"""Products: one write path (publish, new version, withdraw), versioning, validation by finance_engine,
access (an institution's officers manage only their own institution's products) and the audit trail."""

import copy
from decimal import Decimal

import pytest

from twincity.core.errors import Conflict, Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.demo.finance import DEMO_PRODUCTS
from twincity.finance import access, selectors, services
from twincity.finance.models import FinancialProduct

POINTS_LOAN = copy.deepcopy(next(d for _key, pid, d in DEMO_PRODUCTS if pid == "crcb-points-loan"))


@pytest.fixture
def loan(cast):
    return services.product_create(actor=cast.bella, institution=cast.bank_a_branch, product_id="kxc-loan",
                                   definition=POINTS_LOAN, note="first")


def test_an_officer_publishes_a_product_of_her_institution_as_version_1(cast, loan):
    assert (loan.product_id, loan.version, loan.status) == ("kxc-loan", 1, "published")
    loan.refresh_from_db()
    assert (loan.kind, loan.name_zh, loan.rate, loan.interest_subsidy) == (
        "points_loan", "知识价值信用贷（创新积分贷）", Decimal("0.0345"), Decimal("0.015"))
    assert (loan.min_amount, loan.max_amount, loan.min_term_months, loan.max_term_months) == (100000, 5000000, 6, 36)
    # The stored definition is the engine's, with the id, version and institution the platform set.
    assert loan.definition["id"] == "kxc-loan" and loan.definition["version"] == "1"
    assert loan.definition["institution"] == f"org-{cast.bank_a_branch.pk}"
    entry = AuditEntry.objects.get(object_type="finance.financialproduct", object_id=str(loan.pk))
    assert entry.actor == cast.bella and entry.action == "create"
    assert entry.changes["product_id"]["after"] == "kxc-loan"


def test_a_change_is_a_new_version_and_the_old_one_is_kept(cast, loan):
    changed = {**POINTS_LOAN, "pricing": {"rate": "0.0330", "interest_subsidy": "0.015"}}
    v2 = services.product_version_create(actor=cast.bella, product=loan, definition=changed, note="rate cut")
    loan.refresh_from_db()
    assert (v2.version, v2.status, v2.derived_from_id, v2.rate) == (2, "published", loan.pk, Decimal("0.033"))
    assert (loan.version, loan.status, loan.rate) == (1, "superseded", Decimal("0.0345"))
    assert [(p.version, p.status) for p in selectors.product_versions(product_id="kxc-loan")] == [
        (2, "published"), (1, "superseded")]
    assert list(selectors.products_published().filter(product_id="kxc-loan")) == [v2]
    assert loan.definition["pricing"]["rate"] == "0.0345"  # the old version's definition is untouched
    assert AuditEntry.objects.filter(object_type="finance.financialproduct").count() == 3  # create, supersede, create


def test_withdrawal_keeps_every_version_and_refuses_further_changes(cast, loan):
    services.product_withdraw(actor=cast.olivia, product=loan, note="programme ended")
    loan.refresh_from_db()
    assert loan.status == "withdrawn" and loan.withdrawn_at is not None
    assert not selectors.products_published().filter(product_id="kxc-loan").exists()
    with pytest.raises(Conflict):
        services.product_version_create(actor=cast.bella, product=loan, definition=POINTS_LOAN)
    with pytest.raises(Conflict):
        services.product_withdraw(actor=cast.bella, product=loan)
    assert FinancialProduct.objects.filter(product_id="kxc-loan").count() == 1
    # A withdrawn product is seen by its institution and administrators only.
    assert access.can_view_product(cast.bella, loan) and access.can_view_product(cast.olivia, loan)
    assert not access.can_view_product(cast.alice, loan) and not access.can_view_product(cast.bruno, loan)


def test_bruno_cannot_publish_change_or_withdraw_bellas_banks_products(cast, loan):
    with pytest.raises(Forbidden):
        services.product_version_create(actor=cast.bruno, product=loan, definition=POINTS_LOAN)
    with pytest.raises(Forbidden):
        services.product_withdraw(actor=cast.bruno, product=loan)
    with pytest.raises(Forbidden):
        services.product_create(actor=cast.bruno, institution=cast.bank_a_branch, product_id="sneaky",
                                definition=POINTS_LOAN)
    for persona in ("alice", "gary", "charlie", "clara"):
        with pytest.raises(Forbidden):
            services.product_withdraw(actor=getattr(cast, persona), product=loan)
    loan.refresh_from_db()
    assert (loan.status, FinancialProduct.objects.count()) == ("published", 1)
    # The bank's head office and its other branches are one institution; bruno's bank is another.
    assert access.can_manage_products(cast.bella, cast.bank_a)
    assert not access.can_manage_products(cast.bella, cast.bank_b_branch)
    assert set(access.institutions_managed(cast.bruno)) == {cast.bank_b, cast.bank_b_branch}


def test_the_engine_validates_the_definition_and_the_limits(cast):
    bad = {**POINTS_LOAN, "conditions": [{"id": "x", "name_zh": "x", "name_en": "x", "expr": "no_such_fact > 1"}],
           "pricing": {"rate": 0.03}, "limits": {"min_amount": "500", "max_amount": "100", "max_term_months": 0}}
    with pytest.raises(InvalidInput) as caught:
        services.product_create(actor=cast.bella, institution=cast.bank_a_branch, product_id="bad", definition=bad)
    errors = caught.value.extra["errors"]
    assert any("no_such_fact" in e for e in errors)
    assert any(e.startswith("pricing.rate") for e in errors)
    assert any(e.startswith("limits.max_term_months") for e in errors)
    assert any("min_amount is above max_amount" in e for e in errors)
    assert not FinancialProduct.objects.exists()


def test_a_product_id_is_taken_once_and_only_institutions_publish(cast, loan):
    with pytest.raises(Conflict):
        services.product_create(actor=cast.olivia, institution=cast.bank_a_branch, product_id="kxc-loan",
                                definition=POINTS_LOAN)
    with pytest.raises(InvalidInput):
        services.product_create(actor=cast.olivia, institution=cast.institute, product_id="lab-loan",
                                definition=POINTS_LOAN)
    with pytest.raises(InvalidInput):
        services.product_create(actor=cast.olivia, institution=cast.bank_a, product_id="Bad Id",
                                definition=POINTS_LOAN)


def test_the_product_page_offers_withdrawal_to_its_institution_only(client, cast, loan):
    for persona in ("alice", "bruno"):
        client.force_login(getattr(cast, persona))
        assert 'id="withdraw"' not in client.get("/finance/products/kxc-loan/").content.decode()
    assert client.post("/finance/products/kxc-loan/withdraw").status_code == 403  # bruno
    loan.refresh_from_db()
    assert loan.status == "published"
    client.force_login(cast.bella)
    assert 'id="withdraw"' in client.get("/finance/products/kxc-loan/").content.decode()
    assert client.post("/finance/products/kxc-loan/withdraw", {"note": "sold out"}).status_code == 302
    loan.refresh_from_db()
    assert loan.status == "withdrawn"
    page = client.get("/finance/products/kxc-loan/").content.decode()
    assert "已撤下" in page and 'id="withdraw"' not in page
    client.force_login(cast.alice)
    assert client.get("/finance/products/kxc-loan/").status_code == 404  # withdrawn: its institution's only


def test_the_products_write_api(client, cast, loan):
    import json

    def post(url, body):
        return client.post(url, json.dumps(body), content_type="application/json")

    client.force_login(cast.bruno)
    assert post("/api/finance/products/kxc-loan/versions", {"definition": POINTS_LOAN}).status_code == 403
    r = post("/api/finance/products", {"product_id": "cdb-new", "institution_id": cast.bank_a_branch.pk,
                                       "definition": POINTS_LOAN})
    assert r.status_code == 403
    r = post("/api/finance/products", {"product_id": "cdb-new", "institution_id": cast.bank_b_branch.pk,
                                       "definition": POINTS_LOAN})
    assert r.status_code == 201 and r.json()["version"] == 1
    client.force_login(cast.bella)
    r = post("/api/finance/products/kxc-loan/versions",
             {"definition": {**POINTS_LOAN, "pricing": {"rate": "0.031"}}, "note": "cheaper"})
    assert r.status_code == 201
    assert (r.json()["version"], r.json()["rate"], [v["status"] for v in r.json()["versions"]]) == (
        2, "0.031000", ["published", "superseded"])
    r = post("/api/finance/products/kxc-loan/versions", {"definition": {"kind": "nope"}})
    assert r.status_code == 422 and r.json()["code"] == "invalid_product" and r.json()["extra"]["errors"]
    old = client.get("/api/finance/products/kxc-loan/versions/1").json()
    assert (old["version"], old["status"], old["rate"], old["definition"]["pricing"]["rate"]) == (
        1, "superseded", "0.034500", "0.0345")
    assert client.get("/api/finance/products/kxc-loan/versions/3").status_code == 404
    assert post("/api/finance/products/kxc-loan/withdraw", {}).status_code == 200
    assert post("/api/finance/products/kxc-loan/withdraw", {}).status_code == 409


def test_the_product_kinds_are_the_engines():
    """The kinds are defined once, by the engine; the model's choices only give them translated labels."""
    import finance_engine
    from twincity.finance.models import ProductKind

    assert list(ProductKind.values) == list(finance_engine.PRODUCT_KINDS)
