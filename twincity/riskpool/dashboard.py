"""The risk pools' balance and losses on the finance dashboard (科技金融看板): a table the finance domain shows
(twincity.finance.dashboard.ExtraTable; finance sits below riskpool and never imports it), registered in
RiskPoolConfig.ready(). Each row is riskpool.selectors.pool_figures of one pool whose overall figures the person
may see (access.can_view_pool_figures). Ledger balances are as of now: the dashboard's period and city do not
filter them."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from twincity.finance.dashboard import ExtraTable, Filters
from twincity.riskpool import access, selectors

COLUMNS = (
    ("pool", "资金池 pool"), ("status", "状态 status"), ("balance", "余额(元) balance (yuan)"),
    ("contributions", "注资(元) contributions (yuan)"), ("fees", "担保费分成(元) fee share (yuan)"),
    ("payouts", "代偿(元) payouts (yuan)"), ("recoveries", "追偿回收(元) recoveries (yuan)"),
    ("net_losses", "净损失(元) net losses (yuan)"), ("loss_ratio", "损失率% loss ratio %"),
    ("threshold", "熔断阈值% circuit-breaker threshold %"), ("tripped", "已触发熔断 breaker tripped"),
    ("guarantees", "担保笔数 guarantees"), ("covered", "担保金额(元) covered (yuan)"),
    ("open_claims", "未结代偿申请 open claims"),
)


def _percent(value) -> Any:
    return None if value is None else round(float(value) * 100, 2)


def pool_rows(user, filters: Filters) -> list[list[Any]]:
    pools = [p for p in access.pools_visible(user).order_by("name") if access.can_view_pool_figures(user, p)]
    rows = []
    for pool in pools:  # a pool or two: each is riskpool's own figures (a few aggregate queries)
        f = selectors.pool_figures(pool)
        rows.append([pool.name, pool.get_status_display(), f.balance, f.contributions, f.fees, f.payouts,
                     f.recoveries, f.net_losses, _percent(f.loss_ratio), _percent(f.threshold),
                     "是 yes" if f.tripped else "否 no", f.guarantees, f.covered, f.open_claims])
    return rows


def pool_chart(rows: list[list[Any]]) -> dict:
    return {"labels": [r[0] for r in rows], "series": [
        {"name": str(_("Balance (yuan)")), "data": [float(r[2]) for r in rows]},
        {"name": str(_("Payouts (yuan)")), "data": [float(r[5]) for r in rows]},
        {"name": str(_("Recoveries (yuan)")), "data": [float(r[6]) for r in rows]},
        {"name": str(_("Net losses (yuan)")), "data": [float(r[7]) for r in rows]},
    ]}


POOL_TABLE = ExtraTable(
    key="pools", title=_("Risk pools: balance and losses"), columns=COLUMNS, rows=pool_rows, chart=pool_chart,
    note=_("From each pool's double-entry ledger, as of now (the period and city do not apply). Shown to "
           "administrators, the pool's operator and the guarantors with guarantees in it."),
    empty=_("No risk pool whose figures you may see."),
    order=10,
)
