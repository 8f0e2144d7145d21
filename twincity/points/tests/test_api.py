"""The points API through the real URLs (so config/api.py's error handlers run)."""

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from twincity.points.models import ScoreResult, ScoringRun, StandardVersion
from twincity.points.tests import scenario
from twincity.testing import ALICE_CODE, BOB_CODE

API = "/api/points"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.POINTS_RUN_INLINE = True


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def error_shape(response):
    body = response.json()
    assert set(body) == {"message", "code", "extra"}
    return body


@pytest.fixture
def scored(cast):
    scenario.seed(cast)
    return scenario.run(cast, "tsme-2017")


def test_alice_sees_her_points_and_no_one_elses(client, cast, scored):
    client.force_login(cast.alice)
    r = client.get(f"{API}/enterprises/{ALICE_CODE}?standard_id=tsme-2017")
    assert r.status_code == 200
    body = r.json()
    assert body["current"]["standard_id"] == "tsme-2017"
    assert body["run_public_id"] == str(scored.public_id) and body["evaluation_date"] == "2026-06-30"
    result = body["result"]
    assert (result["verdict"], result["score_min"], result["score_max"]) == ("pass", 100, 100)
    assert [(i["id"], i["band"], i["points"]) for i in result["indicators"]] == [
        ("staff", "A", 20), ("rd", "A", 50), ("ip", "A", 30)]
    assert [c["points"] for c in body["categories"]] == [20, 50, 30]
    assert [(h["score_min"], h["grade"]) for h in body["history"]] == [("100.0000", "")]

    r = client.get(f"{API}/enterprises/{BOB_CODE}")
    assert r.status_code == 404 and error_shape(r)["code"] == "not_found"


@pytest.mark.parametrize(("persona", "status"), [("bob", 404), ("charlie", 404), ("bella", 403)])
def test_others_may_not_read_alices_points(client, cast, scored, persona, status):
    # bob and charlie may not see the company at all (404); bella sees its profile, not its points (403).
    client.force_login(getattr(cast, persona))
    read = client.get(f"{API}/enterprises/{ALICE_CODE}")
    what_if = post(client, f"{API}/enterprises/{ALICE_CODE}/what-if",
                   {"standard_id": "tsme-2017", "changes": {"rd_y3": 1}})
    assert (read.status_code, what_if.status_code) == (status, status)
    assert "score_min" not in read.content.decode() + what_if.content.decode()


def test_anonymous_gets_401(client, scored):
    for url in (f"{API}/standards", f"{API}/enterprises/{ALICE_CODE}", f"{API}/runs"):
        r = client.get(url)
        assert r.status_code == 401 and error_shape(r)["code"] == "unauthenticated"


def test_olivia_sees_every_enterprise(client, cast, scored):
    client.force_login(cast.olivia)
    r = client.get(f"{API}/enterprises/{BOB_CODE}?standard_id=tsme-2017")
    assert r.status_code == 200 and r.json()["result"]["score_min"] == 72


@pytest.mark.parametrize("persona", ["alice", "bella", "charlie"])
def test_runs_rankings_and_whitelist_are_for_administrators(client, cast, scored, persona):
    client.force_login(getattr(cast, persona))
    run = scored.public_id
    responses = [
        client.get(f"{API}/runs"),
        client.get(f"{API}/runs/{run}"),
        client.get(f"{API}/runs/{run}/rankings?group_by=city"),
        client.get(f"{API}/runs/{run}/whitelist?min_grade=A"),
        post(client, f"{API}/runs", {"standard_id": "tsme-2017", "evaluation_date": "2026-06-30"}),
        post(client, f"{API}/standards/tsme-2017/1/derive", {"version": "2", "changes": {}}),
    ]
    # Actions they may not take answer 403; a run, which they may not see, answers 404.
    assert [r.status_code for r in responses] == [403, 404, 404, 404, 403, 403]
    assert [error_shape(r)["code"] for r in responses] == ["forbidden", *["not_found"] * 3, *["forbidden"] * 2]
    assert ScoringRun.objects.count() == 1 and StandardVersion.objects.filter(standard_id="tsme-2017").count() == 1


def test_olivia_starts_a_run_and_follows_it(client, cast):
    scenario.seed(cast)
    client.force_login(cast.olivia)
    r = post(client, f"{API}/runs", {"standard_id": "tsme-2017", "evaluation_date": "2026-06-30"})
    assert r.status_code == 202, r.content
    body = r.json()
    assert (body["standard_id"], body["version"], body["status"]) == ("tsme-2017", "1", "done")
    detail = client.get(f"{API}/runs/{body['public_id']}").json()
    assert (detail["total"], detail["done"], detail["percent"]) == (2, 2, 100)
    assert detail["verdict_counts"] == {"pass": 2} and detail["duration_seconds"] >= 0
    assert detail["started_by"] == "olivia"
    listing = client.get(f"{API}/runs").json()
    assert listing["count"] == 1 and listing["items"][0]["public_id"] == body["public_id"]

    bad = [
        post(client, f"{API}/runs", {"standard_id": "nope", "evaluation_date": "2026-06-30"}),
        post(client, f"{API}/runs", {"standard_id": "tsme-2017", "evaluation_date": "yesterday"}),
        post(client, f"{API}/runs", {"standard_id": "tsme-2017", "version": "7", "evaluation_date": "2026-06-30"}),
    ]
    # An unknown standard and a malformed date break the schema (422); an unknown version is not found (404).
    assert [r.status_code for r in bad] == [422, 422, 404]
    assert client.get(f"{API}/runs/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get(f"{API}/runs/not-a-uuid").status_code == 422


def test_standards_list_detail_derive_and_diff(client, cast, scored):
    client.force_login(cast.alice)  # the rules are public to signed-in users
    listing = client.get(f"{API}/standards").json()
    assert {(s["standard_id"], s["version"]) for s in listing} >= {("scp-v1", "1"), ("tsme-2017", "1")}
    detail = client.get(f"{API}/standards/tsme-2017/1").json()
    assert detail["definition"]["id"] == "tsme-2017" and detail["derived_from_version"] is None
    assert client.get(f"{API}/standards/tsme-2017/9").status_code == 404

    client.force_login(cast.olivia)
    before = list(ScoreResult.objects.order_by("pk").values())
    r = post(client, f"{API}/standards/tsme-2017/1/derive",
             {"version": "2", "note": "C 12→14", "changes": {"indicators.staff.banding.bands.C.points": 14}})
    assert r.status_code == 201, r.content
    assert r.json()["derived_from_version"] == "1" and r.json()["note"] == "C 12→14"
    assert list(ScoreResult.objects.order_by("pk").values()) == before

    diff = client.get(f"{API}/standards/tsme-2017/diff?a=1&b=2").json()
    assert {"path": "indicators.staff.banding.bands.C.points", "old": 12, "new": 14} in diff["changes"]

    again = post(client, f"{API}/standards/tsme-2017/1/derive", {"version": "2", "changes": {}})
    assert again.status_code == 422 and error_shape(again)["code"] == "version_exists"
    invalid = post(client, f"{API}/standards/tsme-2017/1/derive",
                   {"version": "3", "definition": {"indicators": "none"}})
    assert invalid.status_code == 422 and error_shape(invalid)["code"] == "invalid_standard"
    bad_path = post(client, f"{API}/standards/tsme-2017/1/derive", {"version": "3", "changes": {"indicators.nope.max_points": 1}})
    assert bad_path.status_code == 422
    reserved = post(client, f"{API}/standards/tsme-2017/1/derive", {"version": "diff", "changes": {}})
    assert reserved.status_code == 422
    assert client.get(f"{API}/standards/tsme-2017/diff?a=1&b=8").status_code == 404


def test_rankings_and_whitelist(client, cast):
    scenario.known_set(cast)
    scenario.tsme_with_grades(cast)
    run = scenario.run(cast, "tsme-2017", "2")
    client.force_login(cast.olivia)
    rankings = client.get(f"{API}/runs/{run.public_id}/rankings?group_by=city").json()
    assert [(g["key"], g["count"], g["median"], g["p90"]) for g in rankings["groups"]] == [
        ("chongqing", 4, 81.0, 97.0), ("chengdu", 1, 72.0, 72.0)]
    assert rankings["top"][0]["credit_code"] == ALICE_CODE and rankings["top"][0]["score_max"] == "100.0000"
    assert sum(b["count"] for b in rankings["histogram"]) == 5
    assert client.get(f"{API}/runs/{run.public_id}/rankings?group_by=colour").status_code == 422

    listing = client.get(f"{API}/runs/{run.public_id}/whitelist?min_grade=B").json()
    assert listing["count"] == 4
    assert [i["credit_code"] for i in listing["items"]] == [
        ALICE_CODE, "T00000000000000003", BOB_CODE, "T00000000000000005"]

    r = client.get(f"{API}/runs/{run.public_id}/whitelist?min_grade=A&format=csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode("utf-8-sig"))))
    assert lines[0][0] == "credit_code" and [line[0] for line in lines[1:]] == [ALICE_CODE, "T00000000000000003"]

    r = client.get(f"{API}/runs/{run.public_id}/whitelist?min_score=72&format=xlsx")
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [ALICE_CODE, "T00000000000000003", BOB_CODE, "T00000000000000005"]

    for query in ("min_grade=Z", "format=pdf", "min_score=abc", "min_score=NaN", "min_score=1e400"):
        r = client.get(f"{API}/runs/{run.public_id}/whitelist?{query}")
        assert r.status_code == 422, query
        error_shape(r)


def test_what_if_through_the_api(client, cast, scored):
    client.force_login(cast.bob)
    counts = (ScoreResult.objects.count(), ScoringRun.objects.count())
    r = post(client, f"{API}/enterprises/{BOB_CODE}/what-if", {"standard_id": "tsme-2017", "changes": {"rd_y3": 600}})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["before"]["score_min"], body["after"]["score_min"]) == (72, 92)
    assert body["changed"] == {"rd": [30, 50]}
    assert (ScoreResult.objects.count(), ScoringRun.objects.count()) == counts

    r = post(client, f"{API}/enterprises/{BOB_CODE}/what-if", {"standard_id": "tsme-2017", "changes": {"bogus": 1}})
    assert r.status_code == 422 and error_shape(r)["extra"] == {"fields": {"bogus": ["unknown field (see facts.md)"]}}
    r = post(client, f"{API}/enterprises/{BOB_CODE}/what-if", {"standard_id": "nope", "changes": {}})
    assert r.status_code == 422
    r = post(client, f"{API}/enterprises/{BOB_CODE}/what-if", {"standard_id": "tsme-2017", "changes": [1]})
    assert r.status_code == 422
