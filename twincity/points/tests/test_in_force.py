"""The rules in force today (issue "Rules in force today"): the version of a kind of evaluation chosen by the
evaluation date, in a run, on the pages and from the command line; renewals by configuration; the 科技和创新型 tier;
the evaluation inputs the registry cannot derive."""

import io
import json
from datetime import date

import pytest
from django.core.management import call_command

from twincity.core.errors import Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.enterprises.models import Qualification
from twincity.points import selectors, services, tasks
from twincity.points.facts import registry_facts
from twincity.points.models import EvaluationInput, ScoringRun
from twincity.points.tests import scenario
from twincity.testing import ALICE_CODE

BEFORE, FROM = date(2026, 3, 31), date(2026, 4, 1)


@pytest.fixture(autouse=True)
def _runs_inline(settings):
    settings.POINTS_RUN_INLINE = True


def _version(standard) -> str:
    return f"{standard.standard_id} v{standard.version}"


@pytest.mark.django_db
def test_the_version_in_force_follows_the_evaluation_date():
    assert _version(selectors.standard_in_force(kind="srdi", on=BEFORE)) == "srdi-2022 v1"
    assert _version(selectors.standard_in_force(kind="srdi", on=FROM)) == "srdi-2026 v1"
    assert selectors.standard_in_force(kind="srdi_giant", on=BEFORE) is None  # the 2022 小巨人 rules are not encoded
    assert _version(selectors.standard_in_force(kind="srdi_giant", on=FROM)) == "srdi-giant-2026 v1"
    assert _version(selectors.standard_in_force(kind="innov", on=FROM)) == "innov-2022 v1"  # still in force


def test_a_derived_version_of_the_rules_in_force_takes_over(cast):
    base = selectors.standard_get(standard_id="srdi-2026", version="1")
    derived = services.standard_version_create(actor=cast.olivia, base=base, definition=base.definition, version="2")
    assert selectors.standard_in_force(kind="srdi", on=FROM) == derived
    assert _version(selectors.standard_in_force(kind="srdi", on=BEFORE)) == "srdi-2022 v1"


def test_a_run_by_kind_uses_the_version_in_force_on_its_date(client, cast):
    scenario.seed(cast)
    client.force_login(cast.olivia)

    runs = [client.post("/api/points/runs", json.dumps({"kind": "srdi", "evaluation_date": day.isoformat()}),
                        content_type="application/json") for day in (BEFORE, FROM)]

    assert [r.status_code for r in runs] == [202, 202]
    assert [(r.json()["standard_id"], r.json()["application"]) for r in runs] == [
        ("srdi-2022", "new"), ("srdi-2026", "new")]
    assert ScoringRun.objects.filter(status="done").count() == 2


def test_the_run_page_starts_a_run_by_kind(client, cast):
    scenario.seed(cast)
    client.force_login(cast.olivia)
    page = client.get("/points/runs/").content.decode()
    assert '<option value="kind:srdi">' in page

    response = client.post("/points/runs/", {"standard": "kind:srdi", "evaluation_date": "2026-03-31"})

    assert response.status_code == 302
    assert ScoringRun.objects.get().standard.standard_id == "srdi-2022"


def test_the_enterprise_page_shows_the_result_of_the_version_in_force(client, cast):
    scenario.seed(cast)
    for day in (BEFORE, FROM):
        run = services.scoring_run_create(actor=cast.olivia, standard=selectors.standard_in_force(kind="srdi", on=day),
                                          evaluation_date=day)
        tasks.scoring_run_start(run=run)
    client.force_login(cast.alice)

    page = client.get(f"/points/enterprises/{ALICE_CODE}/?kind=srdi").content.decode()
    body = client.get(f"/api/points/enterprises/{ALICE_CODE}?kind=srdi").json()

    assert 'data-standard="srdi-2026"' in page and 'data-kind="srdi" class="active"' in page
    assert (body["current"]["standard_id"], body["evaluation_date"]) == ("srdi-2026", "2026-04-01")
    assert [(h["standard_id"], h["evaluation_date"]) for h in body["history"]] == [
        ("srdi-2022", "2026-03-31"), ("srdi-2026", "2026-04-01")]


def test_the_standards_page_says_which_version_is_in_force_and_why(client, cast):
    client.force_login(cast.bella)  # published rules: every signed-in person reads them
    before = client.get("/points/standards/?on=2026-03-31").content.decode()
    after = client.get("/points/standards/?on=2026-04-01").content.decode()
    api = {k["kind"]: k for k in client.get("/api/points/in-force?on=2026-04-01").json()}

    assert 'data-new="srdi-2022"' in before and 'data-new="srdi-2026"' in after
    assert "srdi-2022 no longer applies to new applications from 2026-04-01" in after or \
        "srdi-2022" in after.split('data-kind="srdi"')[1].split("</tr>")[0]
    assert api["srdi"]["new"] == "srdi-2026 v1" and api["srdi"]["superseded"] == ["srdi-2022 v1"]
    assert api["srdi_giant"]["new"] == "srdi-giant-2026 v1"


def test_a_renewal_follows_the_configured_version(client, cast):
    scenario.seed(cast)
    renewal_day = date(2026, 5, 10)
    assert _version(selectors.standard_in_force(kind="srdi", on=renewal_day, application="renewal")) == "srdi-2026 v1"
    client.force_login(cast.olivia)

    configured = client.put("/api/points/renewal-rules/srdi/2026", json.dumps(
        {"standard_id": "srdi-2022", "version": "1", "note": "工信厅企业函〔2026〕117号"}), content_type="application/json")
    run = client.post("/api/points/runs", json.dumps({"kind": "srdi", "evaluation_date": "2026-05-10",
                                                      "application": "renewal"}), content_type="application/json")
    new = client.post("/api/points/runs", json.dumps({"kind": "srdi", "evaluation_date": "2026-05-10"}),
                      content_type="application/json")

    assert configured.status_code == 200 and configured.json()["standard_id"] == "srdi-2022"
    assert (run.json()["standard_id"], run.json()["application"]) == ("srdi-2022", "renewal")
    assert new.json()["standard_id"] == "srdi-2026"  # new applications keep the rules in force
    assert _version(selectors.standard_in_force(kind="srdi", on=date(2027, 5, 10), application="renewal")) == \
        "srdi-2026 v1"  # the rule is for 2026's renewals only
    entry = AuditEntry.objects.get(object_type="points.renewalrule")
    assert entry.changes["standard"]["after"] == "srdi-2022 v1"


def test_only_administrators_configure_renewals(client, cast):
    client.force_login(cast.alice)
    response = client.put("/api/points/renewal-rules/srdi/2026", json.dumps({"standard_id": "srdi-2022",
                                                                             "version": "1"}),
                          content_type="application/json")
    assert response.status_code == 403
    with pytest.raises(InvalidInput):  # a version of another kind
        services.renewal_rule_set(actor=cast.olivia, kind="srdi", year=2026,
                                  standard=selectors.standard_get(standard_id="tsme-2017", version="1"))


def test_the_run_scoring_command_scores_each_kind_under_the_version_in_force(cast):
    scenario.seed(cast)
    out = io.StringIO()
    call_command("run_scoring", "--kind", "srdi", "--date", "2026-03-31", stdout=out)
    call_command("run_scoring", "--kind", "srdi", "--date", "2026-04-01", stdout=out)
    assert [(r.standard.standard_id, r.evaluation_date) for r in ScoringRun.objects.order_by("evaluation_date")] == [
        ("srdi-2022", BEFORE), ("srdi-2026", FROM)]
    call_command("run_scoring", "--all", "--date", "2026-03-31", stdout=out)
    assert "srdi_giant: no version in force on 2026-03-31, skipped" in out.getvalue()


# --- the 科技和创新型 tier ---------------------------------------------------------------------------------------


def test_alices_company_page_says_whether_she_holds_the_tech_innovative_tier_and_why(client, cast):
    client.force_login(cast.alice)
    without = client.get(f"/enterprises/{ALICE_CODE}/")
    Qualification.objects.create(enterprise=cast.alice_co, kind="tsme", certificate_no="2026500107A0000954",
                                 valid_from=date(2026, 4, 10), valid_until=date(2099, 12, 31))
    with_it = client.get(f"/enterprises/{ALICE_CODE}/")

    assert without.context["tier"].held is False
    assert 'data-tier="tech_innovative" data-held="false"' in without.content.decode()
    assert with_it.context["tier"].held is True
    assert [q.certificate_no for q in with_it.context["tier"].basis] == ["2026500107A0000954"]
    assert "2026500107A0000954" in with_it.content.decode().split('data-tier="tech_innovative"')[1].split("</div>")[0]


def test_the_rankings_show_the_tier(client, cast):
    scenario.seed(cast)
    Qualification.objects.create(enterprise=cast.bob_co, kind="innov", certificate_no="SCCX202400318",
                                 valid_from=date(2024, 7, 1), valid_until=date(2027, 6, 30))
    run = scenario.run(cast, "tsme-2017")
    client.force_login(cast.olivia)
    page = client.get(f"/points/runs/{run.public_id}/").content.decode()
    bob_row = page.split(f'data-credit-code="{cast.bob_co.credit_code}"')[1].split("</tr>")[0]
    alice_row = page.split(f'data-credit-code="{ALICE_CODE}"')[1].split("</tr>")[0]
    assert 'data-tier="true"' in bob_row and "SCCX202400318" in bob_row
    assert 'data-tier="false"' in alice_row


# --- evaluation inputs ---------------------------------------------------------------------------------------


def _facts(cast, day):
    return dict(registry_facts(evaluation_date=day, enterprise_ids=[cast.alice_co.pk]))[cast.alice_co.pk]


def test_recorded_inputs_become_facts_by_year(client, cast):
    client.force_login(cast.olivia)
    url = f"/api/points/enterprises/{ALICE_CODE}/inputs"
    answers = [
        client.put(f"{url}/quality_score", json.dumps({"value": 63.5, "year": 2026, "source": "梯度培育平台"}),
                   content_type="application/json"),
        client.put(f"{url}/quality_score", json.dumps({"value": "48", "year": 2025}), content_type="application/json"),
        client.put(f"{url}/market_position_ok", json.dumps({"value": True, "note": "现场核查"}),
                   content_type="application/json"),
        client.put(f"{url}/market_share", json.dumps({"value": "0.12"}), content_type="application/json"),
    ]
    assert [a.status_code for a in answers] == [200] * 4

    facts = _facts(cast, date(2026, 6, 30))
    assert (facts["quality_score"], facts["quality_score_prev"], facts["market_position_ok"],
            facts["market_share"], facts["key_chain_link"]) == (63.5, 48.0, True, 0.12, None)
    assert _facts(cast, date(2027, 6, 30))["quality_score_prev"] == 63.5
    listed = client.get(url).json()
    assert {(i["fact"], i["year"]) for i in listed} == {("quality_score", 2026), ("quality_score", 2025),
                                                       ("market_position_ok", 0), ("market_share", 0)}
    assert all(i["recorded_by"] == "olivia" for i in listed)
    assert AuditEntry.objects.filter(object_type="points.evaluationinput",
                                     subject=f"enterprises.enterprise:{cast.alice_co.pk}").count() == 4


@pytest.mark.parametrize(("fact", "body"), [
    ("quality_score", {"value": 63}),  # no year
    ("quality_score", {"value": 101, "year": 2026}),
    ("market_share", {"value": "1.5"}),
    ("market_position_ok", {"value": 1}),
])
def test_an_invalid_input_is_refused(client, cast, fact, body):
    client.force_login(cast.olivia)
    response = client.put(f"/api/points/enterprises/{ALICE_CODE}/inputs/{fact}", json.dumps(body),
                          content_type="application/json")
    assert response.status_code == 422
    assert not EvaluationInput.objects.exists()


def test_only_administrators_record_inputs_and_the_company_reads_them(client, cast):
    services.evaluation_input_set(actor=cast.olivia, enterprise=cast.alice_co, fact="key_chain_link", value=True)
    with pytest.raises(Forbidden):
        services.evaluation_input_set(actor=cast.alice, enterprise=cast.alice_co, fact="key_chain_link", value=True)
    client.force_login(cast.alice)
    assert client.put(f"/api/points/enterprises/{ALICE_CODE}/inputs/market_top3_cn", json.dumps({"value": True}),
                      content_type="application/json").status_code == 403
    page = client.get(f"/points/enterprises/{ALICE_CODE}/").content.decode()
    assert 'data-input="key_chain_link"' in page and 'id="input-form"' not in page
    client.force_login(cast.bella)
    assert client.get(f"/api/points/enterprises/{ALICE_CODE}/inputs").status_code == 403


def test_srdi_2026_names_the_missing_quality_score_and_passes_with_it(cast):
    """alice's company meets the 2026 专精特新 conditions the registry knows; the score decides."""
    scenario.seed(cast)
    for kind in ("tsme",):
        Qualification.objects.create(enterprise=cast.alice_co, kind=kind, certificate_no="2026500107A0000954",
                                     valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31))
    cast.alice_co.niche_years = 6
    cast.alice_co.save()
    standard = selectors.standard_in_force(kind="srdi", on=date(2026, 6, 30))
    services.evaluation_input_set(actor=cast.olivia, enterprise=cast.alice_co, fact="market_position_ok", value=True)
    first = scenario.run(cast, standard.standard_id, standard.version)
    result = first.results.get(enterprise=cast.alice_co)
    assert result.verdict == "needs_review"
    assert any("quality_score" in reason for reason in result.reasons)

    services.evaluation_input_set(actor=cast.olivia, enterprise=cast.alice_co, fact="quality_score", value=63.5,
                                  year=2026)
    second = services.scoring_run_create(actor=cast.olivia, standard=standard, evaluation_date=date(2026, 7, 1))
    tasks.scoring_run_start(run=second)
    assert second.results.get(enterprise=cast.alice_co).verdict == "pass"
