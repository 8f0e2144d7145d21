"""The demo seed adds the Science City's pool with its contributions, four guarantees and one default with a
payout and a recovery; the ledger balances and the pages show the figures."""

from decimal import Decimal

from finance_engine import risk
from twincity.accounts.models import User
from twincity.demo import services as demo
from twincity.demo.riskpool import SHARES
from twincity.riskpool import selectors
from twincity.riskpool.models import Claim, Guarantee, RiskPool


def test_the_demo_pool_has_real_figures(client, db):
    result = demo.seed(enterprises=30, seed=3)
    assert result.guarantees == 3
    pool = RiskPool.objects.get()
    figures = selectors.pool_figures(pool)
    guarantees = list(Guarantee.objects.select_related("application"))
    # on the demo's approved or disbursed loans within the product's 10,000,000, and on alice's loan that
    # defaulted (taken there through the finance services)
    assert sorted(g.application.state for g in guarantees) == ["approved", "defaulted", "disbursed"]
    assert all(g.covered_amount <= Decimal("10000000") for g in guarantees)
    pool_fees = sum(risk.fee_split(g.fee_amount, g.shares)["pool"] for g in guarantees)  # 1 of 4:3:1
    assert all(g.fee_rate == Decimal("0.01") and g.shares == SHARES for g in guarantees)
    assert figures.contributions == Decimal("10000000.00")
    assert figures.fees == pool_fees > 0
    assert figures.payouts == Decimal("123456.79") and figures.recoveries == Decimal("20000.00")
    assert figures.balance == Decimal("10000000.00") + pool_fees - Decimal("123456.79") + Decimal("20000.00")
    assert sum(a.balance for a in selectors.trial_balance(pool)) == 0
    claim = Claim.objects.get()
    assert claim.status == "paid" and claim.allocation["borne"]["bank"] == "246913.58"

    client.force_login(User.objects.get(username="bella"))
    assert client.get(f"/riskpool/guarantees/{claim.guarantee_id}/").status_code == 200
    client.force_login(User.objects.get(username="olivia"))
    page = client.get(f"/riskpool/pools/{pool.pk}/").content.decode()
    assert f"{figures.balance:,}" in page

    # reset and seed again: the same figures, nothing left over
    demo.seed(enterprises=30, seed=3, force_reset=True)
    assert RiskPool.objects.count() == 1 and Guarantee.objects.count() == 3
    assert selectors.pool_figures(RiskPool.objects.get()).balance == figures.balance
