"""Deterministic synthetic facts (vectorised with polars) for benchmarks and tests.

``synthetic_facts(n, seed)`` returns the same table for the same (n, seed) with this polars version.
Values are realistic in shape (money in 万元 rounded to 2 decimals, so exact band boundaries occur),
with a few per cent of blanks in some fields to exercise the unknown-fact rules.
"""

from __future__ import annotations

import polars as pl

CLUSTERS = ["ic", "ev", "ict", "materials", "biomed", "equipment", "energy", "other"]
INSTS = ["none", "below_municipal", "municipal", "provincial", "national"]


def synthetic_facts(n: int, seed: int = 42) -> pl.DataFrame:
    counter = [0]

    def h() -> pl.Expr:
        counter[0] += 1
        return pl.int_range(0, n, dtype=pl.UInt64).hash(seed * 1000 + counter[0])

    def u() -> pl.Expr:  # uniform in [0, 1)
        return (h() % 1_000_000).cast(pl.Float64) / 1_000_000.0

    def k(m: int) -> pl.Expr:  # integer in [0, m)
        return (h() % m).cast(pl.Int64)

    def flag(p: float) -> pl.Expr:
        return u() < p

    def maybe_null(e: pl.Expr, p: float = 0.02) -> pl.Expr:
        return pl.when(u() < p).then(None).otherwise(e)

    money = lambda e: e.round(2)  # noqa: E731

    base = pl.DataFrame({"i": pl.int_range(0, n, eager=True)})
    df = base.select(
        pl.format("E{}", pl.col("i").cast(pl.String).str.zfill(7)).alias("id"),
        pl.lit(pl.Series(CLUSTERS)).gather(k(len(CLUSTERS))).alias("industry_cluster"),
        (100 + k(8000)).alias("reg_days"),
        (5 + k(600)).alias("employees"),
        u().alias("_u_tech"),
        u().alias("_u_rds"),
        (10.0 * (10.0 ** (u() * 3.7))).alias("_s1"),
        (0.8 + 0.6 * u()).alias("_g2"),
        (0.8 + 0.6 * u()).alias("_g3"),
        (0.12 * u()).alias("_rdr"),
        u().alias("_a"),
        u().alias("_l"),
    )
    df = df.with_columns(
        (pl.col("reg_days") // 365).clip(0, 3).alias("op_years"),
        (pl.col("employees").cast(pl.Float64) * pl.col("_u_tech") * 0.6).floor().cast(pl.Int64).alias("tech_staff"),
        money(pl.col("_s1")).alias("sales_y1"),
        money(pl.col("_s1") * pl.col("_g2")).alias("sales_y2"),
        money(pl.col("_s1") * pl.col("_g2") * pl.col("_g3")).alias("sales_y3"),
    )
    df = df.with_columns(
        (pl.col("tech_staff").cast(pl.Float64) * pl.col("_u_rds")).floor().cast(pl.Int64).alias("rd_staff"),
        *[money(pl.col(f"sales_y{y}") * pl.col("_rdr") * (0.8 + 0.4 * u())).alias(f"rd_y{y}") for y in (1, 2, 3)],
        *[money(pl.col(f"sales_y{y}") * (1 + 0.05 * u())).alias(f"oprev_y{y}") for y in (1, 2, 3)],
        *[money(pl.col(f"sales_y{y}") * (0.5 + 1.5 * pl.col("_a"))).alias(f"assets_y{y}") for y in (1, 2, 3)],
        money(pl.col("sales_y3") * (0.5 + 0.5 * u())).alias("cost_y3"),
        money(pl.col("sales_y3") * (1 + 0.1 * u())).alias("total_income_y3"),
        money(pl.col("sales_y3") * (u() - 0.3) * 0.3).alias("net_profit_y3"),
        maybe_null(money(pl.col("sales_y3") * 0.05 * u())).alias("tax_y3"),
        money(pl.col("sales_y3") * 0.1 * u()).alias("tech_contract_y3"),
    )
    df = df.with_columns(
        *[money(pl.col(f"oprev_y{y}") * (0.4 + 0.6 * u())).alias(f"main_y{y}") for y in (1, 2, 3)],
        *[money(pl.col(f"assets_y{y}") * pl.col("_l")).alias(f"liab_y{y}") for y in (1, 2, 3)],
        money((pl.col("rd_y1") + pl.col("rd_y2") + pl.col("rd_y3")) * (0.5 + 0.5 * u())).alias("rd_dom_3y"),
        money(pl.col("total_income_y3") * u()).alias("hitech_rev_y3"),
        pl.when(flag(0.2)).then(money(100 + 9900 * u())).otherwise(0.0).alias("equity_2y"),
        k(4).alias("ip_I_self"),
        k(3).alias("ip_I_acq"),
        maybe_null(k(12)).alias("ip_II"),
        k(15).alias("transforms_3y"),
        k(15).alias("niche_years"),
    )
    df = df.with_columns(
        *[(pl.col(f"assets_y{y}") - pl.col(f"liab_y{y}")).round(2).alias(f"na_y{y}") for y in (1, 2, 3)],
        (pl.col("equity_2y") + pl.when(flag(0.2)).then(money(1000 * u())).otherwise(0.0)).alias("equity_3y"),
        pl.min_horizontal(pl.col("ip_I_self"), k(3)).alias("ip_I_hv"),
        pl.lit(True).alias("resident"),
        flag(0.01).alias("prohibited"),
        (~flag(0.03)).alias("compliant"),
        flag(0.9).alias("is_sme"),
        flag(0.2).alias("hnte_valid"),
        flag(0.1).alias("prov_rd_inst"),
        flag(0.02).alias("nat_award_5y_top3"),
        flag(0.05).alias("sci_award_3y"),
        flag(0.05).alias("led_standard_5y"),
        flag(0.03).alias("innov_title"),
        maybe_null(flag(0.5)).alias("sei"),
        flag(0.02).alias("maker_top500_3y"),
        pl.when(flag(0.5)).then(pl.lit(pl.Series([0.0, 3.0, 5.0])).gather(k(3))).alias("x_field"),
        pl.when(flag(0.5)).then(pl.lit(pl.Series([0.0, 3.0, 5.0])).gather(k(3))).alias("x_digital"),
        pl.when(flag(0.5)).then(k(4)).alias("x_quality_items"),
        pl.when(flag(0.5)).then(k(16).cast(pl.Float64)).alias("x_local"),
        pl.when(flag(0.5)).then(pl.lit(pl.Series(INSTS)).gather(k(len(INSTS)))).alias("x_inst"),
        pl.when(flag(0.3)).then(k(9).cast(pl.Float64)).alias("x_ip_adv"),
        pl.when(flag(0.3)).then(k(9).cast(pl.Float64)).alias("x_ip_sup"),
        pl.when(flag(0.3)).then(k(21).cast(pl.Float64)).alias("x_rdmgmt"),
    )
    return df.drop([c for c in df.columns if c.startswith("_")])
