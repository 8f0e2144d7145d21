"""Every page and API call of the load test (benchmarks/load_locustfile.py) costs a fixed number of queries,
whatever the registry holds: no query per row (N+1). The counts include the session's and the user's, and on pages
the unread-notification badge of the top bar (one capped count, twincity.notifications.selectors.unread_count)."""

from datetime import date

import pytest

from twincity.enterprises.services import qualification_add
from twincity.points.tests import scenario
from twincity.testing import ALICE_CODE, BOB_CODE

WALK = [
    ("alice", "/", 8),
    ("alice", f"/enterprises/{ALICE_CODE}/", 7),
    ("alice", f"/points/enterprises/{ALICE_CODE}/", 9),
    ("alice", "/points/standards/", 5),
    ("alice", f"/api/points/enterprises/{ALICE_CODE}", 7),
    ("alice", "/api/accounts/me", 2),
    ("bella", "/", 5),
    ("bella", "/enterprises/", 5),
    ("bella", "/enterprises/?q=科技", 5),
    ("bella", "/enterprises/?city=chongqing&industry_cluster=ic&ordering=-registered_on&page=2", 5),
    ("bella", "/enterprises/?qualification=hnte", 5),
    ("bella", f"/enterprises/{BOB_CODE}/", 6),
    ("bella", "/api/enterprises/?q=科技", 4),
    ("olivia", "/", 6),
    ("olivia", "/enterprises/", 5),
    ("olivia", f"/enterprises/{BOB_CODE}/", 8),
    ("olivia", f"/points/enterprises/{BOB_CODE}/", 9),
    ("olivia", "/points/runs/", 5),
    ("olivia", "/points/runs/{run}/", 6),
    ("olivia", "/audit/", 5),
    ("olivia", "/api/enterprises/?q=科技", 4),
    ("olivia", f"/api/points/enterprises/{BOB_CODE}", 7),
    ("olivia", "/api/points/runs", 4),
]


@pytest.fixture(autouse=True)
def _runs_inline(settings):
    settings.POINTS_RUN_INLINE = True


@pytest.fixture
def scored(cast):
    scenario.seed(cast)
    for enterprise in (cast.alice_co, cast.bob_co):
        for number, kind in enumerate(("hnte", "tsme", "innov")):
            qualification_add(actor=cast.olivia, enterprise=enterprise, kind=kind, certificate_no=f"C{number}",
                              valid_from=date(2024, 1, 1))
    scenario.run(cast, "scp-v1")
    return scenario.run(cast, "tsme-2017")


@pytest.mark.parametrize(("persona", "path", "queries"), WALK, ids=[f"{p} {u}" for p, u, _ in WALK])
def test_each_page_of_the_walk_costs_a_fixed_number_of_queries(client, cast, scored, django_assert_max_num_queries,
                                                               persona, path, queries):
    client.force_login(cast.personas[persona])
    path = path.format(run=scored.public_id)
    assert client.get(path).status_code == 200  # warms the caches the pages keep
    with django_assert_max_num_queries(queries):
        assert client.get(path).status_code == 200
