"""The finance pages and API calls cost a fixed number of queries, whatever the number of products (no query per
product or per row). The counts include the session's and the user's."""

import pytest

from twincity.finance.models import FinancialProduct
from twincity.finance.tests.test_consent import grant
from twincity.testing import ALICE_CODE

WALK = [
    ("alice", "/finance/products/", 7),
    ("alice", "/finance/products/?amount=100&term_months=12", 7),
    ("alice", "/finance/products/crcb-points-loan/", 7),
    ("alice", "/finance/consents/", 7),
    ("alice", "/api/finance/match?amount=1000000&term_months=12", 9),
    ("alice", "/api/finance/access-log", 5),
    ("bella", "/finance/products/", 4),
    ("bella", "/api/finance/products", 4),
    ("bella", f"/api/finance/enterprises/{ALICE_CODE}/points", 14),
    ("bella", f"/api/finance/match?enterprise={ALICE_CODE}&amount=1000000&term_months=12", 12),
    ("bella", "/finance/products/crcb-points-loan/whitelist/", 10),  # with the unread badge of the top bar
    ("bella", "/api/finance/products/crcb-points-loan/whitelist", 9),
    ("bella", "/finance/products/crcb-points-loan/whitelist.csv", 9),
]


@pytest.fixture
def many_products(cast, products):
    """The demo products and 30 more versions of them (published copies under other ids)."""
    copies = []
    for n in range(30):
        source = list(products.values())[n % len(products)]
        copy = FinancialProduct.objects.get(pk=source.pk)
        copy.pk = None
        copy.product_id = f"{source.product_id}-{n}"
        copy.definition = {**source.definition, "id": copy.product_id}
        copies.append(copy)
    FinancialProduct.objects.bulk_create(copies)


@pytest.mark.parametrize(("persona", "path", "queries"), WALK, ids=[f"{p} {u}" for p, u, _ in WALK])
def test_each_page_costs_a_fixed_number_of_queries(client, cast, scored, products, django_assert_max_num_queries,
                                                   persona, path, queries):
    grant(cast)
    client.force_login(cast.personas[persona])
    assert client.get(path).status_code == 200  # warms the caches the pages keep
    with django_assert_max_num_queries(queries):
        assert client.get(path).status_code == 200


@pytest.mark.parametrize(("persona", "path", "queries"), WALK, ids=[f"{p} {u}" for p, u, _ in WALK])
def test_the_same_with_six_times_the_products(client, cast, scored, many_products, django_assert_max_num_queries,
                                              persona, path, queries):
    grant(cast)
    client.force_login(cast.personas[persona])
    assert client.get(path).status_code == 200
    with django_assert_max_num_queries(queries):
        assert client.get(path).status_code == 200
