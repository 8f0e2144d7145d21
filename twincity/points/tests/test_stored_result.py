"""The points page and /api/points/enterprises/{code} show the stored result of the run: the engine re-explains
it only when it is the engine that scored the run and its answer is proved equal to what is stored."""

import re
from decimal import Decimal

import pytest

from twincity.enterprises.services import enterprise_update
from twincity.points.models import ScoreResult
from twincity.points.tests import scenario
from twincity.testing import ALICE_CODE

API = f"/api/points/enterprises/{ALICE_CODE}?standard_id=tsme-2017"
PAGE = f"/points/enterprises/{ALICE_CODE}/?standard=tsme-2017"


@pytest.fixture(autouse=True)
def _runs_inline(settings):
    settings.POINTS_RUN_INLINE = True


@pytest.fixture
def scored(cast):
    scenario.seed(cast)
    return scenario.run(cast, "tsme-2017")


def _stored(run) -> ScoreResult:
    return run.results.get(enterprise__credit_code=ALICE_CODE)


def _api_numbers(body) -> tuple:
    result = body["result"]
    return (result["verdict"], Decimal(str(result["score_min"])), Decimal(str(result["score_max"])),
            {i["id"]: i["points"] for i in result["indicators"]}, {i["id"]: i["band"] for i in result["indicators"]})


def _stored_numbers(stored) -> tuple:
    return (stored.verdict, stored.score_min, stored.score_max, stored.points, stored.bands)


def test_the_run_names_its_engine_and_the_page_and_api_show_its_numbers(client, cast, scored):
    import points_engine

    assert scored.engine_version == points_engine.ENGINE_VERSION
    stored = _stored(scored)
    client.force_login(cast.alice)

    body = client.get(API).json()
    page = client.get(PAGE).content.decode()

    assert body["explained"] is True and body["engine_version"] == scored.engine_version
    assert _api_numbers(body) == _stored_numbers(stored)
    assert re.search(r"data-score>100</div>", page)
    assert 'data-explained="stored"' not in page


def test_a_run_of_another_engine_shows_its_stored_result(client, cast, scored):
    scored.engine_version = "0.9+0123456789ab"
    scored.save(update_fields=["engine_version"])
    stored = _stored(scored)
    client.force_login(cast.alice)

    body = client.get(API).json()
    page = client.get(PAGE).content.decode()

    assert body["explained"] is False
    assert _api_numbers(body) == _stored_numbers(stored)
    assert {i["value"] for i in body["result"]["indicators"]} == {None}  # values are not stored
    assert 'data-explained="stored"' in page
    assert re.search(r"data-score>100</div>", page)


def test_a_result_the_engine_does_not_reproduce_is_shown_as_stored(client, cast, scored):
    # As if the stored facts had been scored by different rules: the page must not contradict the run.
    stored = _stored(scored)
    stored.points = {**stored.points, "rd": 45}
    stored.score_min = stored.score_max = Decimal("95")
    stored.save()
    client.force_login(cast.olivia)

    body = client.get(API).json()

    assert body["explained"] is False
    assert _api_numbers(body) == _stored_numbers(stored)


def test_the_explanation_is_cached_until_a_write_commits(client, cast, scored, django_capture_on_commit_callbacks):
    client.force_login(cast.olivia)
    assert client.get(API).json()["explained"] is True
    assert 'data-explained="stored"' not in client.get(PAGE).content.decode()
    # A finished run's results never change; changed around the services, the cached explanation stays (and the
    # page's rendered section with it).
    stored = _stored(scored)
    ScoreResult.objects.filter(pk=stored.pk).update(points={**stored.points, "rd": 45}, score_min=Decimal("95"),
                                                    score_max=Decimal("95"))
    assert client.get(API).json()["explained"] is True
    assert 'data-explained="stored"' not in client.get(PAGE).content.decode()
    # Any audited write computes it again: now it shows the stored result, which the engine does not reproduce.
    with django_capture_on_commit_callbacks(execute=True):
        enterprise_update(actor=cast.olivia, enterprise=cast.alice_co, changes={"district": "沙坪坝区"})
    body = client.get(API).json()
    assert body["explained"] is False
    assert _api_numbers(body) == _stored_numbers(_stored(scored))
    page = client.get(PAGE).content.decode()
    assert 'data-explained="stored"' in page and re.search(r"data-score>95</div>", page)
