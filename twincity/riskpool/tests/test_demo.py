"""The demo seed adds the Science City's pool with its contributions, four guarantees and one default with a
payout and a recovery; the ledger balances and the pages show the figures."""

from decimal import Decimal

from twincity.accounts.models import User
from twincity.demo import services as demo
from twincity.riskpool import selectors
from twincity.riskpool.models import Claim, Guarantee, RiskPool


def test_the_demo_pool_has_real_figures(client, db):
    result = demo.seed(enterprises=30, seed=3)
    assert result.guarantees == 4
    pool = RiskPool.objects.get()
    figures = selectors.pool_figures(pool)
    fees = sum(g.fee_amount for g in Guarantee.objects.all())
    assert fees == Decimal("60000.00") + Decimal("15000.00") + Decimal("60000.00") + Decimal("15000.00")
    assert figures.contributions == Decimal("10000000.00")
    assert figures.fees == Decimal("18750.00")  # the pool's 1 of 4:3:1 of every fee
    assert figures.payouts == Decimal("123456.79") and figures.recoveries == Decimal("20000.00")
    assert figures.balance == Decimal("10000000.00") + Decimal("18750.00") - Decimal("123456.79") + Decimal("20000.00")
    assert sum(a.balance for a in selectors.trial_balance(pool)) == 0
    claim = Claim.objects.get()
    assert claim.status == "paid" and claim.allocation["borne"]["bank"] == "246913.58"

    client.force_login(User.objects.get(username="bella"))
    assert client.get(f"/riskpool/guarantees/{claim.guarantee_id}/").status_code == 200
    client.force_login(User.objects.get(username="olivia"))
    page = client.get(f"/riskpool/pools/{pool.pk}/").content.decode()
    assert "9,915,293.21" in page

    # reset and seed again: the same figures, nothing left over
    demo.seed(enterprises=30, seed=3, force_reset=True)
    assert RiskPool.objects.count() == 1 and Guarantee.objects.count() == 4
    assert selectors.pool_figures(RiskPool.objects.get()).balance == figures.balance
