"""Equity (股贷债保): rounds recorded on an enterprise by the enterprise or the investing fund (audited), read by
the matching as finance facts in both paths, so a loan that asks for a round (投贷联动) becomes eligible once one
is on file; a fund's mandate (an equity product) lists the enterprises that match it and consented."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

import finance_engine
from twincity.accounts.models import User
from twincity.core.errors import Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.demo.finance import DEMO_ROUNDS, demo_equity_load, demo_equity_products
from twincity.finance import selectors, services
from twincity.finance.models import EquityRound, FinancialProduct
from twincity.finance.tests.conftest import cast_organisations
from twincity.finance.tests.test_consent import grant
from twincity.testing import ALICE_CODE, BOB_CODE

ROUNDS = f"/api/finance/enterprises/{ALICE_CODE}/equity-rounds"
LINKED = "cqb-equity-linked-loan"
MANDATE = "kxc-fund-early-stage"


@pytest.fixture
def orgs(cast):
    from twincity.accounts.models import Organisation
    from twincity.demo.personas import ORGANISATIONS

    made = cast_organisations(cast)
    specs = {spec.key: spec for spec in ORGANISATIONS}
    for key in ("cqb", "cqb_kxc", "kxc_fund"):
        if key not in made:
            spec = specs[key]
            made[key] = Organisation.objects.create(name=spec.name, kind=spec.kind, city=spec.city,
                                                    parent=made.get(spec.parent))
    return made


@pytest.fixture
def equity_products(orgs):
    FinancialProduct.objects.bulk_create(demo_equity_products(orgs))
    return {p.product_id: p for p in FinancialProduct.objects.filter(product_id__in=[LINKED, MANDATE])}


@pytest.fixture
def fiona(orgs):
    """An officer of the Science City fund."""
    return User.objects.create_user("fiona", password="x", role=User.Role.FUND_MANAGER, organisation=orgs["kxc_fund"])


@pytest.fixture
def cecil(orgs):
    """An officer of the bank branch that sells the equity-linked loan."""
    return User.objects.create_user("cecil", password="x", role=User.Role.BANK_OFFICER, organisation=orgs["cqb_kxc"])


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_stages_are_the_engines():
    assert tuple(EquityRound.Stage.values) == finance_engine.EQUITY_STAGES


def test_alice_records_a_round_audited_and_the_fund_records_its_own(client, cast, orgs, fiona):
    client.force_login(cast.alice)
    r = post(client, ROUNDS, {"closed_on": "2025-09-26", "amount": "20000000", "stage": "a",
                              "investor_name": "某创投"})
    assert r.status_code == 201, r.content
    assert {k: r.json()[k] for k in ("credit_code", "closed_on", "amount", "stage", "investor_id", "investor")} == {
        "credit_code": ALICE_CODE, "closed_on": "2025-09-26", "amount": "20000000.00", "stage": "a",
        "investor_id": None, "investor": "某创投"}
    entry = AuditEntry.objects.get(object_type="finance.equityround")
    assert (entry.actor_id, entry.action, entry.changes["amount"]["after"]) == (cast.alice.pk, "create", "20000000.00")

    round_ = services.equity_round_record(actor=fiona, enterprise=cast.alice_co, closed_on=date(2026, 3, 1),
                                          amount=Decimal("5000000"), stage="a", investor=orgs["kxc_fund"])
    assert round_.recorded_by == fiona
    assert [(x["stage"], x["investor"]) for x in client.get(ROUNDS).json()] == [
        ("a", orgs["kxc_fund"].name), ("a", "某创投")]
    assert selectors.equity_facts(on=date(2026, 11, 29), enterprise_ids=[cast.alice_co.pk]) == {
        cast.alice_co.pk: {"equity_rounds": 2, "equity_last_round_days": 273, "equity_stage": "a"}}
    # on a date before the second round, only the first counts
    assert selectors.equity_facts(on=date(2026, 1, 1))[cast.alice_co.pk] == {
        "equity_rounds": 1, "equity_last_round_days": 97, "equity_stage": "a"}


def test_who_may_not_record_and_what_is_refused(client, cast, orgs, fiona):
    with pytest.raises(Forbidden):  # a fund naming another investor
        services.equity_round_record(actor=fiona, enterprise=cast.alice_co, closed_on=date(2026, 3, 1),
                                     amount=Decimal("1"), stage="a", investor=cast.bank_a)
    with pytest.raises(Forbidden):  # a bank officer
        services.equity_round_record(actor=cast.bruno, enterprise=cast.alice_co, closed_on=date(2026, 3, 1),
                                     amount=Decimal("1"), stage="a", investor_name="x")
    with pytest.raises(InvalidInput) as refused:
        services.equity_round_record(actor=cast.alice, enterprise=cast.alice_co,
                                     closed_on=timezone.localdate() + timedelta(days=1), amount=Decimal("0"),
                                     stage="z", investor=None, investor_name=" ")
    assert sorted(refused.value.extra["fields"]) == ["amount", "closed_on", "investor", "stage"]
    client.force_login(cast.bella)  # a bank sees alice's public profile, not her rounds, and records none
    assert post(client, ROUNDS, {"closed_on": "2025-01-01", "amount": "1", "stage": "a",
                                 "investor_name": "x"}).status_code == 403
    assert client.get(ROUNDS).status_code == 403
    client.force_login(cast.alice)
    assert post(client, ROUNDS, {"closed_on": "2025-01-01", "amount": "-1", "stage": "a",
                                 "investor_name": "x"}).status_code == 422
    assert not EquityRound.objects.exists() and not AuditEntry.objects.filter(object_type="finance.equityround").exists()


def test_a_round_unlocks_the_equity_linked_loan_in_both_paths(client, cast, equity_products, cecil,
                                                                django_capture_on_commit_callbacks):
    grant(cast, institution=None, institution_kind="bank")
    client.force_login(cast.alice)

    def verdict() -> str:
        offers = client.get("/api/finance/match").json()["offers"]
        return next(o for o in offers if o["product_id"] == LINKED)["verdict"]

    client.force_login(cecil)
    assert client.get(f"/api/finance/products/{LINKED}/whitelist").json()["items"] == []
    client.force_login(cast.alice)
    assert verdict() == "ineligible"
    with django_capture_on_commit_callbacks(execute=True):
        services.equity_round_record(actor=cast.alice, enterprise=cast.alice_co,
                                     closed_on=timezone.localdate() - timedelta(days=30), amount=Decimal("9000000"),
                                     stage="pre_a", investor_name="某创投")
    assert verdict() == "eligible"
    client.force_login(cecil)
    assert [i["credit_code"] for i in client.get(f"/api/finance/products/{LINKED}/whitelist").json()["items"]] == [
        ALICE_CODE]


def test_the_funds_mandate_lists_matching_enterprises_with_consent(client, cast, orgs, equity_products, fiona):
    """The mandate: no round yet or angel to A, IC / biomedicine / IT, Chongqing or Chengdu. alice (IC, Chongqing)
    and bob (IT, Chengdu) both match; only the one who consented to funds appears."""
    demo_equity_load(orgs)  # alice: angel then A (matches the stage); bob: pre-A
    assert EquityRound.objects.count() == len(DEMO_ROUNDS)
    client.force_login(fiona)
    url = f"/api/finance/products/{MANDATE}/whitelist"
    assert client.get(url).json()["items"] == []
    services.consent_grant(actor=cast.bob, enterprise=cast.bob_co, institution=None, institution_kind="fund",
                           purpose="equity", valid_until=timezone.now() + timedelta(days=10))
    data = client.get(url).json()
    assert ([i["credit_code"] for i in data["items"]], data["count"], data["consented"]) == ([BOB_CODE], 1, 1)
    page = client.get(f"/finance/products/{MANDATE}/whitelist/").content.decode()
    assert f'data-code="{BOB_CODE}"' in page and ALICE_CODE not in page
    client.force_login(cast.bella)  # a bank's officer cannot read the fund's list
    assert client.get(url).status_code == 403


def test_alices_cached_product_list_follows_a_round_and_a_new_run_at_once(client, cast, scored, equity_products,
                                                                         django_capture_on_commit_callbacks):
    """The offers are rendered once per registry version (alice's product list at scale): an audited write (a round
    recorded) or a finished scoring run shows at once."""
    from twincity.points.tests import scenario

    client.force_login(cast.alice)

    def verdicts() -> dict[str, str]:
        import re

        page = client.get("/finance/products/").content.decode()
        return dict(re.findall(r'data-product="([^"]+)" data-verdict="([^"]+)"', page))

    assert verdicts()[LINKED] == "ineligible"
    assert verdicts()[LINKED] == "ineligible"  # from the cache
    with django_capture_on_commit_callbacks(execute=True):
        services.equity_round_record(actor=cast.alice, enterprise=cast.alice_co,
                                     closed_on=timezone.localdate() - timedelta(days=1), amount=Decimal("1000000"),
                                     stage="seed", investor_name="某天使")
    assert verdicts()[LINKED] == "eligible"
    htmx = client.get("/finance/products/?amount=1000000&term_months=12", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="offer-counts"' in htmx and "<html" not in htmx and f'data-product="{LINKED}"' in htmx
    # a new scoring run (not audited result by result) makes a new key: its results are read at once
    from twincity.points.models import ScoringRun

    before = selectors.latest_finished_run()
    scenario.run(cast, "scp-v1")
    assert selectors.latest_finished_run() != before and ScoringRun.objects.count() >= 2


def test_the_registry_batch_and_one_enterprises_match_agree(cast, scored, products, orgs, equity_products):
    """The whitelist's batch facts (registry frames, latest points, equity rounds) are the per-enterprise facts:
    every product's eligibility agrees for every enterprise, with rounds on file and without."""
    on = timezone.localdate()
    demo_equity_load(orgs)
    every = list(FinancialProduct.objects.filter(status=FinancialProduct.Status.PUBLISHED))
    frame = selectors.registry_match(on=on, products=every)
    rows = {row["pk"]: row for row in frame.iter_rows(named=True)}
    checked = 0
    for enterprise in (cast.alice_co, cast.bob_co):
        for offer in selectors.enterprise_match(enterprise=enterprise, on=on, products=every):
            assert rows[enterprise.pk][f"eligible.{offer.product.product_id}"] == offer.match.eligible, (
                enterprise.credit_code, offer.product.product_id)
            checked += 1
    assert checked == 2 * len(every) == 16
    # alice's last round (series A, 2025-09-26) is within two years; bob's (pre-A, 2023-03-10) is not; both are in
    # the mandate's stages, clusters and cities
    assert [rows[e.pk][f"eligible.{LINKED}"] for e in (cast.alice_co, cast.bob_co)] == [True, False]
    assert [rows[e.pk][f"eligible.{MANDATE}"] for e in (cast.alice_co, cast.bob_co)] == [True, True]
