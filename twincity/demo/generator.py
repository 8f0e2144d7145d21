"""Deterministic demo data: a synthetic enterprise registry for the personas of `personas`.

`generate(n, seed)` is pure (no database): it builds plain dicts for enterprises, their annual declarations
and qualifications from one `random.Random` stream, so the same (n, seed) gives the same rows on every
machine, and the first k enterprises of a larger run equal those of a smaller run with the same seed. Every
row goes through the registry's one validation and merge (twincity.enterprises.validation), exactly as a row of
an import file does, so the demo stores what the API or an import would store for the same figures. The
database half is `services.seed`.

Figures are in 万元 and follow plausible distributions (lognormal headcount and sales, yearly growth around
12 %, R&D intensity around 5 %); about 2.5 % of declarations carry a deliberate inconsistency so that the
consistency flags of `twincity.enterprises.consistency` show up in the demo.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import math
import pickle
import random
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, BinaryIO

from twincity.demo.personas import (
    ALICE_CODE,
    BOB_CODE,
    CHENGDU,
    CHONGQING,
    ORGANISATIONS,
    PERSONA_HONOURS,
)
from twincity.enterprises.fields import ENTERPRISE_FIELD, ENTERPRISE_FIELDS, FIGURE, FIGURE_NAMES, PROFILE_FIELD_NAMES
from twincity.enterprises.validation import clean_value, declaration_merge, profile_merge, uscc_check

# The demo's "today": the latest completed fiscal year is 2025, qualifications are valid or expired relative to it.
AS_OF = date(2026, 11, 1)
FISCAL_YEARS = (2023, 2024, 2025)
DEFAULT_ENTERPRISES = 2_000
DEFAULT_SEED = 2026

CITY_ZH = {CHONGQING: "重庆", CHENGDU: "成都"}
PROVINCE = {CHONGQING: "50", CHENGDU: "51"}

# (district, weight, administrative division code used in credit codes)
DISTRICTS: dict[str, tuple[tuple[str, float, str], ...]] = {
    CHONGQING: (
        ("高新区", 0.40, "500107"),
        ("沙坪坝区", 0.15, "500106"),
        ("九龙坡区", 0.15, "500107"),
        ("北碚区", 0.10, "500109"),
        ("璧山区", 0.10, "500120"),
        ("江津区", 0.10, "500116"),
    ),
    CHENGDU: (
        ("高新区", 0.45, "510100"),
        ("双流区", 0.15, "510116"),
        ("郫都区", 0.15, "510117"),
        ("新都区", 0.10, "510114"),
        ("天府新区", 0.15, "510100"),
    ),
}
CHONGQING_SHARE = 0.6

# Cluster weights follow the article's emphasis (集成电路, 智能汽车, 新材料, 生物医药, plus software and equipment).
CLUSTERS: tuple[tuple[str, float], ...] = (
    ("ic", 0.15), ("ev", 0.14), ("ict", 0.22), ("materials", 0.11), ("biomed", 0.11),
    ("equipment", 0.12), ("energy", 0.07), ("other", 0.08),
)
# GB/T 4754-2017 codes plausible for each cluster.
INDUSTRY_CODES: dict[str, tuple[str, ...]] = {
    "ic": ("C3973", "I6520", "C3972", "C3562"),
    "ev": ("C3670", "C3612", "C3811", "C3670"),
    "ict": ("I6513", "I6511", "I6531", "I6532", "I6550"),
    "materials": ("C3985", "C2651", "C3240", "C3062"),
    "biomed": ("C2720", "C2761", "C3581", "C3589"),
    "equipment": ("C3490", "C3491", "C3421", "C3599"),
    "energy": ("C3841", "C3825", "C3849", "D4416"),
    "other": ("M7320", "M7520", "M7590"),
}
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "ic": ("微电子", "半导体", "芯片", "集成电路", "光电", "电子"),
    "ev": ("智能网联", "新能源汽车", "动力电池", "汽车电子", "汽车科技", "智行"),
    "ict": ("软件", "信息技术", "数据", "网络科技", "智能科技", "数字科技", "云计算"),
    "materials": ("新材料", "复合材料", "材料科技", "纳米材料", "先进材料"),
    "biomed": ("生物医药", "医疗器械", "基因", "生物科技", "医药", "健康科技"),
    "equipment": ("精密机械", "智能装备", "机器人", "自动化", "精密仪器"),
    "energy": ("储能", "氢能", "光伏", "新能源", "电池"),
    "other": ("科技", "检测", "技术服务", "环保科技", "农业科技"),
}
# Whole trade names (字号) of the region, then characters that combine into plausible two-character ones.
TRADE_NAMES = (
    "金凤", "天府", "巴蜀", "科创", "星云", "锦江", "嘉陵", "缙云", "华芯", "微纳", "凤栖", "歌乐", "蓉城",
    "渝芯", "蜀道", "峨眉", "长江", "西部", "科学谷", "青城", "都江", "明月", "龙泉", "凤鸣",
)
TRADE_FIRST = "金天华科星锦嘉瑞宏博睿智联芯创新远航腾达信诚泰恒盛隆德源晟瀚海辰光明驰骏凯优卓越英鼎汇融通中正弘立拓启思维灵易捷精锐聚丰安康宁和欣悦奥柏松翔鹏凤龙麒熙煜昊晨曦朗澜沐峻屹岷蓉缙渝蜀巴川"
TRADE_SECOND = "芯微纳科创达信通联泰恒盛源晟瀚辰光明驰凯卓越鼎汇融拓思维易捷锐聚丰安康宁和欣悦航腾宇宸睿智峰岳川海云天华润邦奥威迅捷图誉衡祥"
LEGAL_FORMS = ("科技有限公司", "技术有限公司", "有限公司", "股份有限公司")

# Organisation code characters (GB 11714) and weights of its check character.
_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


# --------------------------------------------------------------------------------------------- pure helpers


def org_code_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    # Digits count as themselves, letters as A=10 … Z=35.
    total = sum((int(ch) if ch.isdigit() else ord(ch) - 55) * w for ch, w in zip(body, _ORG_WEIGHTS))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def make_credit_code(rng: random.Random, region: str, registered_year: int) -> str:
    """A valid 18-character unified social credit code: 9 1 region org-code check (GB 32100-2015)."""
    if registered_year >= 2016:  # codes issued after the 2015 reform start with MA
        body = "MA" + "".join(rng.choices(_ORG_ALPHABET, k=6))
    else:  # older companies kept their numeric organisation code
        body = "".join(rng.choices("0123456789", k=8))
    first17 = "91" + region + body + org_code_check(body)
    return first17 + uscc_check(first17)


_LOG_EQUITY = math.log(1500)
_LOG_CONTRACT = math.log(100)
_UNKNOWN_RATES = (("hitech_rev", 0.03), ("tech_contract", 0.02), ("rd_dom", 0.01), ("tech_staff", 0.015))


def _provenance_entry(tax: bool, social_security: bool, audit: bool, rd_reviewed: bool) -> dict[str, Any]:
    provenance: dict[str, dict[str, object]] = {}
    if tax:
        provenance.update(dict.fromkeys(("sales", "oprev", "tax"), {"source": "tax", "verified": True}))
    if social_security:
        provenance["employees"] = {"source": "social_security", "verified": True}
    if audit:
        provenance.update(dict.fromkeys(("assets", "liab", "na", "net_profit"),
                                        {"source": "audit_report", "verified": True}))
    if rd_reviewed:
        provenance["rd"] = {"source": "self_declared", "verified": True}
    return provenance


_PROVENANCE = {key: _provenance_entry(*key) for key in itertools.product((False, True), repeat=4)}


def _weighted(items: Sequence[tuple[Any, float]]) -> Callable[[random.Random], Any]:
    keys = [k for k, _w in items]
    cumulative = list(itertools.accumulate(w for _k, w in items))
    total = cumulative[-1]

    def pick(rng: random.Random) -> Any:
        return keys[bisect.bisect_right(cumulative, rng.random() * total)]

    return pick


_pick_cluster = _weighted(CLUSTERS)
_pick_district = {city: _weighted([((d, code), w) for d, w, code in rows]) for city, rows in DISTRICTS.items()}
# More companies registered in recent years; 2024–2025 registrations have fewer declarations.
_pick_reg_year = _weighted([(y, 1.0 + 0.25 * (y - 2008)) for y in range(2008, 2023)]
                           + [(2023, 2.6), (2024, 2.2), (2025, 1.6)])


def size_class_for(employees: int) -> str:
    if employees < 20:
        return "micro"
    if employees < 300:
        return "small"
    if employees < 1000:
        return "medium"
    return "large"


# --------------------------------------------------------------------------------------------- the generator


@dataclass
class DemoData:
    """Plain rows. Money figures are 万元 decimal strings with 4 places ("2860.4500"), as a CSV carries them."""

    enterprises: list[dict[str, Any]] = field(default_factory=list)
    # (index into enterprises, row)
    declarations: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    qualifications: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"twincity-demo:{seed}")
        self.codes: set[str] = {ALICE_CODE, BOB_CODE}
        self.names: set[str] = {o.name for o in ORGANISATIONS if o.kind == "enterprise"}
        self.cert_seq: dict[tuple[str, str, int], int] = {}
        self.data = DemoData()

    def take(self) -> DemoData:
        data, self.data = self.data, DemoData()
        return data

    # -- identity
    def _trade_name(self) -> str:
        rng = self.rng
        if rng.random() < 0.25:
            return rng.choice(TRADE_NAMES)
        while True:
            a, b = rng.choice(TRADE_FIRST), rng.choice(TRADE_SECOND)
            if a != b:
                return a + b

    def _name(self, city: str, cluster: str, size: str) -> str:
        rng = self.rng
        for attempt in itertools.count():
            trade = self._trade_name()
            if attempt >= 8:  # crowded: a three-character trade name
                trade += rng.choice(TRADE_SECOND)
            word = rng.choice(INDUSTRY_WORDS[cluster])
            if word.endswith(("科技", "技术", "服务")):
                form = "股份有限公司" if size in ("medium", "large") and rng.random() < 0.5 else "有限公司"
            elif size in ("medium", "large") and rng.random() < 0.35:
                form = "股份有限公司"
            else:
                form = rng.choice(LEGAL_FORMS[:3])
            if rng.random() < 0.75:
                name = f"{CITY_ZH[city]}{trade}{word}{form}"
            else:
                name = f"{trade}({CITY_ZH[city]}){word}{form}"
            if name not in self.names:
                self.names.add(name)
                return name
        raise AssertionError("unreachable")

    def _code(self, region: str, year: int) -> str:
        while True:
            code = make_credit_code(self.rng, region, year)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def _cert_no(self, kind: str, province: str, year: int) -> int:
        key = (kind, province, year)
        seq = self.cert_seq.get(key)
        if seq is None:
            seq = self.rng.randint(100, 900)
        seq += self.rng.randint(1, 3)
        self.cert_seq[key] = seq
        return seq

    # -- one enterprise
    def enterprise(self) -> None:
        rng = self.rng
        city = CHONGQING if rng.random() < CHONGQING_SHARE else CHENGDU
        district, region = _pick_district[city](rng)
        cluster = _pick_cluster(rng)
        reg_year = _pick_reg_year(rng)
        registered_on = date(reg_year, 1, 1) + timedelta(days=rng.randrange(365))
        # Headcount of the first declared year: lognormal, median ~45, long tail to thousands.
        employees0 = max(3, min(30_000, round(math.exp(rng.gauss(math.log(45), 1.15)))))
        if reg_year >= 2022:
            employees0 = max(3, employees0 // 2)
        per_capita = math.exp(rng.gauss(math.log(65), 0.7))  # 万元 of sales per employee
        if cluster == "other" or rng.random() < 0.07:
            intensity = 0.0 if rng.random() < 0.5 else math.exp(rng.gauss(math.log(0.02), 0.8))
        else:
            intensity = math.exp(rng.gauss(math.log(0.05), 0.75))
        intensity = min(intensity, 0.7)
        tech_share = rng.uniform(0.10, 0.60)
        rd_share = rng.uniform(0.3, 1.0)
        declarations = self._declarations(
            reg_year=reg_year, employees0=employees0, per_capita=per_capita, intensity=intensity,
            tech_share=tech_share, rd_share=rd_share,
        )
        latest_employees = declarations[-1]["employees"] or employees0
        size = size_class_for(latest_employees)

        # IP inventory: driven by R&D effort; None (not declared) for a few.
        ip: dict[str, int | None]
        if rng.random() < 0.04:
            ip = dict.fromkeys(("ip_I_self", "ip_I_acq", "ip_I_hv", "ip_II", "transforms_3y"), None)
        else:
            lam = (latest_employees ** 0.6) * intensity * 6
            ip_self = int(rng.expovariate(1 / lam)) if lam > 0 else 0
            ip_ii = int(rng.expovariate(1 / (1 + lam * 3)))
            ip = {
                "ip_I_self": ip_self,
                "ip_I_acq": 0 if rng.random() < 0.8 else rng.randint(1, 5),
                "ip_I_hv": int(ip_self * rng.uniform(0, 0.5)),
                "ip_II": ip_ii,
                "transforms_3y": 0 if rng.random() < 0.5 else min(60, int(rng.expovariate(1 / (1 + ip_self / 3)) + 1)),
            }

        def maybe(value: bool | None, p_none: float) -> bool | None:
            return None if rng.random() < p_none else value

        # Honours and market position: rarer the smaller the R&D effort; a few not declared (None).
        effort = min(1.0, intensity * 8) * min(1.0, (ip["ip_I_self"] or 0) / 10 + 0.2)
        age = 2025 - reg_year
        honours = {
            "sei": maybe(rng.random() < 0.35 + 0.4 * effort, 0.05),
            "niche_years": None if rng.random() < 0.06 else max(0, min(age, int(rng.expovariate(1 / 4)))),
            "innov_title": maybe(rng.random() < 0.02 * effort, 0.05),
            "nat_award_5y_top3": maybe(rng.random() < 0.004 * effort, 0.05),
            "sci_award_3y": maybe(rng.random() < 0.06 * effort, 0.05),
            "led_standard_5y": maybe(rng.random() < 0.05 * effort, 0.05),
            "maker_top500_3y": maybe(rng.random() < 0.01, 0.05),
        }

        enterprise = validated_enterprise({
            "credit_code": self._code(region, reg_year),
            "name": self._name(city, cluster, size),
            "city": city,
            "district": district,
            "registered_on": registered_on,
            "industry_cluster": cluster,
            "industry_code": rng.choice(INDUSTRY_CODES[cluster]),
            "size_class": size,
            "resident": maybe(True, 0.02),
            "prohibited": maybe(rng.random() < 0.005, 0.025),
            "compliant": maybe(rng.random() >= 0.02, 0.03),
            "is_sme": maybe(size != "large", 0.03),
            **ip,
            **honours,
        })
        index = len(self.data.enterprises)
        self.data.enterprises.append(enterprise)
        self.data.declarations.extend((index, d) for d in declarations)
        self._qualifications(index, enterprise, declarations, intensity)

    def _declarations(self, *, reg_year: int, employees0: int, per_capita: float, intensity: float,
                      tech_share: float, rd_share: float) -> list[dict[str, Any]]:
        # The hot loop (300,000 rows in the benchmark). Money is computed in whole yuan (1 unit = 0.0001 万元)
        # so that na == assets - liab exactly, and only formatted at the end; rng.random() is inlined
        # instead of uniform() (the same arithmetic).
        rng = self.rng
        rnd = rng.random
        gauss = rng.gauss
        rows = []
        employees = employees0
        sales = employees0 * per_capita * (0.5 if reg_year >= 2023 else 1.0)
        asset_ratio = 0.6 + 1.2 * rnd()
        leverage = 0.15 + 0.6 * rnd() if rnd() > 0.03 else 1.0 + 0.4 * rnd()  # a few are insolvent
        hitech_share = 0.55 + 0.4 * rnd() if intensity >= 0.03 else 0.6 * rnd()
        # Declared to the yuan (4 places of 万元) or to the hundred yuan (2 places).
        step = 1 if rnd() < 0.4 else 100
        scale = 10_000 // step
        first = True
        for year in FISCAL_YEARS:
            if year < reg_year:
                continue
            if not first:
                growth = max(-0.6, gauss(0.12, 0.20))
                sales *= 1 + growth
                employees = max(1, round(employees * (1 + 0.5 * growth + gauss(0, 0.05))))
            first = False
            tech_staff = min(employees, round(employees * tech_share))
            rd_staff = min(tech_staff, round(tech_staff * rd_share))
            sales_u = max(1, round(sales * scale)) * step
            cost_u = round(sales * (0.85 + 0.2 * rnd()) * scale) * step
            rd_u = round(sales * intensity * (0.85 + 0.3 * rnd()) * scale) * step
            rd_dom_u = rd_u if rnd() < 0.7 else round(rd_u * (0.85 + 0.15 * rnd()) / step) * step
            income_u = sales_u + round(sales * 0.08 * rnd() * scale) * step
            main_u = round(sales_u * (0.88 + 0.12 * rnd()) / step) * step
            assets_u = round(sales * asset_ratio * (0.9 + 0.2 * rnd()) * scale) * step
            liab_u = round(assets_u * leverage * (0.95 + 0.1 * rnd()) / step) * step
            units: dict[str, int | None] = {
                "sales": sales_u,
                "oprev": sales_u,
                "main": main_u,
                "na": assets_u - liab_u,
                "assets": assets_u,
                "liab": liab_u,
                "rd": rd_u,
                "rd_dom": rd_dom_u,
                "cost": cost_u,
                "total_income": income_u,
                "hitech_rev": round(income_u * hitech_share * (0.95 + 0.05 * rnd()) / step) * step,
                "net_profit": round((income_u - cost_u) * 0.0085) * 100,  # ≈ 85 % of the margin, to the 100 yuan
                "tax": round(sales * (0.01 + 0.05 * rnd()) * scale) * step,
                # New equity: mostly none, now and then a round (median 15 million yuan).
                "equity_new": 0 if rnd() < 0.93 else round(math.exp(gauss(_LOG_EQUITY, 1.0)) * 100) * 100,
                "tech_contract": 0 if rnd() < 0.85 else round(math.exp(gauss(_LOG_CONTRACT, 1.1)) * scale) * step,
            }
            staff: dict[str, int | None] = {"employees": employees, "tech_staff": tech_staff, "rd_staff": rd_staff}
            # Unknown figures (blank, never zero) here and there.
            for name, p in _UNKNOWN_RATES:
                if rnd() < p:
                    (staff if name in staff else units)[name] = None
            if rnd() < 0.025:
                self._break(staff, units)
            figures: dict[str, Any] = {"fiscal_year": year, **staff}
            for name, value in units.items():
                # Exact: a whole number of yuan / 10⁴ formats back to the same 4 places at these magnitudes.
                figures[name] = None if value is None else "%.4f" % (value / 10_000)
            figures["provenance"] = self._provenance(year)
            rows.append(figures)
        return validated_declarations(rows)

    def _break(self, staff: dict[str, int | None], units: dict[str, int | None]) -> None:
        """A deliberate data-entry mistake, the kind the consistency checks exist for."""
        rng = self.rng
        mistake = rng.randrange(5)
        if mistake == 0:  # R&D staff typed as total staff plus a few
            staff["rd_staff"] = staff["employees"] + rng.randint(1, 10)
        elif mistake == 1:  # R&D expense with a misplaced digit
            units["rd"] = (units["cost"] or 0) * rng.choice((12, 15, 100)) // 10 + 100
            units["rd_dom"] = None
        elif mistake == 2:  # net assets copied from total assets
            units["na"] = units["assets"]
            if not units["liab"]:
                units["liab"] = 100
        elif mistake == 3:  # technical staff above headcount
            staff["tech_staff"] = staff["employees"] + rng.randint(1, 20)
        else:  # main business revenue above sales
            units["main"] = units["sales"] * 12 // 10 + 100

    def _provenance(self, year: int) -> dict[str, dict[str, object]]:
        """Which figures came from an authority. A figure without an entry is self-declared, unverified.

        One of 16 shared dicts (treat as read-only): the writer serialises each only once.
        """
        rnd = self.rng.random
        key = (rnd() < 0.6, rnd() < 0.5, rnd() < (0.5 if year < 2025 else 0.25), rnd() < 0.15)
        return _PROVENANCE[key]

    def _qualifications(self, index: int, enterprise: dict[str, Any], declarations: list[dict[str, Any]],
                        intensity: float) -> None:
        rng = self.rng
        latest = declarations[-1]
        province = PROVINCE[enterprise["city"]]
        region = enterprise["credit_code"][2:8]
        reg_year = enterprise["registered_on"].year
        ip_self = enterprise["ip_I_self"] or 0
        ip_ii = enterprise["ip_II"] or 0
        sales = float(latest["sales"] or 0)
        employees = latest["employees"] or 0
        add = self.data.qualifications.append

        def issued(year: int, first_month: int, last_month: int) -> date:
            return date(year, rng.randint(first_month, last_month), rng.randint(1, 28))

        # 高新技术企业: three-year certificates; firms with R&D and IP are far more likely to hold one.
        strong = intensity >= 0.03 and (ip_self > 0 or ip_ii >= 4) and reg_year <= 2023
        if rng.random() < (0.55 if strong else 0.04) and reg_year <= 2024:
            year = rng.choice([y for y in (2023, 2024, 2025) if y > reg_year] or [2025])
            valid_from = issued(year, 10, 12)
            add((index, {"kind": "hnte", "certificate_no": f"GR{year}{province}{self._cert_no('hnte', province, year):06d}",
                         "valid_from": valid_from, "valid_until": _plus_years(valid_from, 3)}))
            if year - 3 > reg_year and rng.random() < 0.5:  # the previous certificate, renewed
                prev = issued(year - 3, 10, 12)
                add((index, {"kind": "hnte",
                             "certificate_no": f"GR{year - 3}{province}{self._cert_no('hnte', province, year - 3):06d}",
                             "valid_from": prev, "valid_until": _plus_years(prev, 3)}))

        # 科技型中小企业: yearly registration numbers, valid to the end of the year.
        eligible = employees <= 500 and sales <= 20_000 and intensity > 0
        is_tsme = rng.random() < (0.72 if eligible else 0.05)
        if is_tsme:
            for year in (2025, 2026):
                if year == 2025 and rng.random() < 0.3:
                    continue
                add((index, {"kind": "tsme",
                             "certificate_no": f"{year}{region}A{self._cert_no('tsme', region, year):07d}",
                             "valid_from": issued(year, 3, 9), "valid_until": date(year, 12, 31)}))

        # 创新型中小企业 → 专精特新 → 小巨人: a ladder, each valid three years.
        if (is_tsme or intensity >= 0.03) and rng.random() < 0.28 and reg_year <= 2023:
            year = rng.choice((2023, 2024, 2025))
            prefix = "CQ" if province == "50" else "SC"
            valid_from = issued(year, 5, 9)
            add((index, {"kind": "innov", "certificate_no": f"{prefix}CX{year}{self._cert_no('innov', prefix, year):05d}",
                         "valid_from": valid_from, "valid_until": _plus_years(valid_from, 3)}))
            if rng.random() < 0.5 and employees >= 10:
                year = rng.choice((2023, 2024, 2025))
                valid_from = issued(year, 6, 11)
                add((index, {"kind": "srdi",
                             "certificate_no": f"{prefix}ZJTX{year}{self._cert_no('srdi', prefix, year):05d}",
                             "valid_from": valid_from, "valid_until": _plus_years(valid_from, 3)}))
                if rng.random() < 0.12 and employees >= 50:
                    year = rng.choice((2022, 2023, 2024, 2025))
                    valid_from = issued(year, 7, 9)
                    add((index, {"kind": "little_giant",
                                 "certificate_no": f"XJR{year - 2018}-{self._cert_no('lg', '', year):05d}",
                                 "valid_from": valid_from, "valid_until": _plus_years(valid_from, 3)}))
        if intensity >= 0.05 and employees >= 100 and rng.random() < 0.2:
            year = rng.randint(2015, 2025)
            add((index, {"kind": "prov_rd_inst",
                         "certificate_no": f"{'渝' if province == '50' else '川'}研发机构{year}-{self._cert_no('rd', province, year):04d}",
                         "valid_from": issued(year, 1, 12), "valid_until": None}))

    # -- the persona companies: fixed, hand-checked figures
    def personas(self) -> None:
        alice_figures = {
            2023: dict(employees=72, tech_staff=31, rd_staff=22, sales="2860.4500", main="2711.2000", assets="3120.0000",
                       liab="1405.5000", rd="196.3000", rd_dom="196.3000", cost="2598.7100", total_income="2950.1000",
                       hitech_rev="2480.0000", tax="118.6200", equity_new="0.0000", tech_contract="35.0000"),
            2024: dict(employees=81, tech_staff=36, rd_staff=26, sales="3412.8000", main="3290.1200", assets="3890.6000",
                       liab="1688.2000", rd="251.0900", rd_dom="238.0000", cost="3102.4400", total_income="3502.3000",
                       hitech_rev="3020.5000", tax="141.0600", equity_new="1500.0000", tech_contract="0.0000"),
            2025: dict(employees=88, tech_staff=40, rd_staff=29, sales="3985.2700", main="3810.0000", assets="4630.9000",
                       liab="1902.3500", rd="303.7700", rd_dom="303.7700", cost="3577.8000", total_income="4088.1500",
                       hitech_rev="3570.4000", tax="166.9000", equity_new="0.0000", tech_contract="62.5000"),
        }
        bob_figures = {
            2023: dict(employees=240, tech_staff=150, rd_staff=96, sales="9820.0000", main="9410.0000", assets="12000.0000",
                       liab="5200.0000", rd="820.0000", rd_dom="820.0000", cost="9100.0000", total_income="10050.0000",
                       hitech_rev="8400.0000", tax="402.0000", equity_new="0.0000", tech_contract="420.0000"),
            2024: dict(employees=262, tech_staff=166, rd_staff=104, sales="10630.5000", main="10211.0000",
                       assets="12980.0000", liab="5610.0000", rd="905.4000", rd_dom="890.0000", cost="9902.0000",
                       total_income="10890.0000", hitech_rev="9150.0000", tax="437.2000", equity_new="0.0000",
                       tech_contract="515.0000"),
            2025: dict(employees=281, tech_staff=180, rd_staff=118, sales="11288.0000", main="10860.0000",
                       assets="13740.0000", liab="5930.0000", rd="1010.0000", rd_dom="1010.0000", cost="10590.0000",
                       total_income="11604.0000", hitech_rev="9830.0000", tax="468.0000", equity_new="3000.0000",
                       tech_contract="610.0000"),
        }
        specs = (
            ("alice", {"credit_code": ALICE_CODE, "name": "重庆金凤微电子科技有限公司", "city": CHONGQING, "district": "高新区",
                       "registered_on": date(2018, 5, 9), "industry_cluster": "ic", "industry_code": "C3973",
                       "size_class": "small", "ip_I_self": 6, "ip_I_acq": 1, "ip_I_hv": 2, "ip_II": 14,
                       "transforms_3y": 3}, alice_figures),
            ("bob", {"credit_code": BOB_CODE, "name": "成都天府星云软件有限公司", "city": CHENGDU, "district": "高新区",
                     "registered_on": date(2016, 3, 1), "industry_cluster": "ict", "industry_code": "I6513",
                     "size_class": "small", "ip_I_self": 3, "ip_I_acq": 0, "ip_I_hv": 1, "ip_II": 40,
                     "transforms_3y": 5}, bob_figures),
        )
        for persona, enterprise, per_year in specs:
            index = len(self.data.enterprises)
            self.data.enterprises.append({
                **validated_enterprise({**enterprise, "resident": True, "prohibited": False, "compliant": True,
                                        "is_sme": True, **PERSONA_HONOURS[persona]}),
                "_persona": persona,
            })
            rows = []
            for year, raw in per_year.items():
                figures: dict[str, Any] = dict(raw)
                figures["oprev"] = figures["sales"]
                figures["na"] = str(Decimal(figures["assets"]) - Decimal(figures["liab"]))
                figures["net_profit"] = str(
                    ((Decimal(figures["total_income"]) - Decimal(figures["cost"])) * Decimal("0.85")).quantize(
                        Decimal("0.01")))
                provenance = {n: {"source": "tax", "verified": True} for n in ("sales", "oprev", "tax")}
                provenance["employees"] = {"source": "social_security", "verified": True}
                if year < 2025:
                    provenance.update({n: {"source": "audit_report", "verified": True} for n in ("assets", "liab", "na")})
                rows.append({"fiscal_year": year, **figures, "provenance": provenance})
            for row in validated_declarations(rows):
                self.data.declarations.append((index, {**row, "_submitted_by": persona}))
        alice, bob = len(self.data.enterprises) - 2, len(self.data.enterprises) - 1
        q = self.data.qualifications
        q.append((alice, {"kind": "hnte", "certificate_no": "GR202450000137", "valid_from": date(2024, 11, 28),
                          "valid_until": date(2027, 11, 27)}))
        q.append((alice, {"kind": "tsme", "certificate_no": "2025500107A0001268", "valid_from": date(2025, 4, 18),
                          "valid_until": date(2025, 12, 31)}))
        q.append((alice, {"kind": "tsme", "certificate_no": "2026500107A0000954", "valid_from": date(2026, 4, 10),
                          "valid_until": date(2026, 12, 31)}))
        q.append((bob, {"kind": "hnte", "certificate_no": "GR202351001422", "valid_from": date(2023, 10, 16),
                        "valid_until": date(2026, 10, 15)}))
        q.append((bob, {"kind": "innov", "certificate_no": "SCCX202400318", "valid_from": date(2024, 7, 1),
                        "valid_until": date(2027, 6, 30)}))


def validated_enterprise(row: dict[str, Any]) -> dict[str, Any]:
    """A generated profile as the registry's one validation and merge store it (a new enterprise)."""
    values = {name: clean_value(ENTERPRISE_FIELD[name], value) for name, value in row.items()
              if name != "credit_code" and value is not None}
    change = profile_merge(None, values, editable=PROFILE_FIELD_NAMES)
    if change.problems:
        raise ValueError(f"demo enterprise {row['credit_code']}: {change.problems}")
    return {"credit_code": clean_value(ENTERPRISE_FIELD["credit_code"], row["credit_code"]), **change.values}


def validated_declarations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Generated declarations of one company (in year order) as the one validation and merge store them: figures
    cleaned, provenance normalised, flags computed with the year before."""
    out = []
    previous = None
    for row in rows:
        figures = {name: clean_value(FIGURE[name], row[name]) for name in FIGURE if row.get(name) is not None}
        change = declaration_merge(None, figures, row.get("provenance") or {}, may_verify=True,
                                   previous_year=previous)
        if change.problems:
            raise ValueError(f"demo declaration {row['fiscal_year']}: {change.problems}")
        out.append({"fiscal_year": row["fiscal_year"], **change.row.figures, "provenance": change.row.provenance,
                    "flags": change.row.flags})
        previous = change.row.figures
    return out


def _plus_years(day: date, years: int) -> date:
    """The last day of a validity period of `years` years starting on `day`."""
    try:
        end = day.replace(year=day.year + years)
    except ValueError:  # 29 February
        end = day.replace(year=day.year + years, day=28)
    return end - timedelta(days=1)


def iter_chunks(n: int, seed: int, chunk_size: int = 5_000) -> Iterator[DemoData]:
    """`generate` in pieces of at most `chunk_size` enterprises (indices are local to each piece).

    The pieces of one (n, seed) concatenate to exactly `generate(n, seed)`, whatever the chunk size.
    """
    if n < 2:
        raise ValueError("at least 2 enterprises (the persona companies)")
    generator = _Generator(seed)
    for i in range(n - 2):
        generator.enterprise()
        if (i + 1) % chunk_size == 0:
            yield generator.take()
    generator.personas()
    yield generator.take()


def generate(n: int, seed: int) -> DemoData:
    """Rows for `n` enterprises (the two persona companies included) and their declarations and qualifications.

    Pure and deterministic: no database, no clock, no global state. The persona companies come last.
    """
    data = DemoData()
    for chunk in iter_chunks(n, seed):
        offset = len(data.enterprises)
        data.enterprises.extend(chunk.enterprises)
        data.declarations.extend((offset + i, row) for i, row in chunk.declarations)
        data.qualifications.extend((offset + i, row) for i, row in chunk.qualifications)
    return data


# --------------------------------------------------------------------------------------------- rows for the writer

ENTERPRISE_COLUMNS = tuple(spec.name for spec in ENTERPRISE_FIELDS)
DECLARATION_COLUMNS = ("fiscal_year", *FIGURE_NAMES, "provenance", "flags")
QUALIFICATION_COLUMNS = ("kind", "certificate_no", "valid_from", "valid_until")


def rows_of(chunk: DemoData) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """A chunk as value tuples in column order: enterprises end with the persona name, declarations and
    qualifications start with the chunk-local enterprise index (declarations end with the submitter)."""
    return (
        [(*[row[c] for c in ENTERPRISE_COLUMNS], row.get("_persona", "")) for row in chunk.enterprises],
        [(index, *[row[c] for c in DECLARATION_COLUMNS], row.get("_submitted_by", ""))
         for index, row in chunk.declarations],
        [(index, *[row[c] for c in QUALIFICATION_COLUMNS]) for index, row in chunk.qualifications],
    )


def produce(n: int, seed: int, chunk_size: int, out: BinaryIO) -> None:
    """The generator process: pickled row chunks to `out`, then None. The pipe holds about one chunk, so
    generation runs at most one chunk ahead of the writer."""
    gc.disable()
    for chunk in iter_chunks(n, seed, chunk_size):
        pickle.dump(rows_of(chunk), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
    pickle.dump(None, out)
    out.flush()


if __name__ == "__main__":  # the generator process of _row_chunks: python -m twincity.demo.generator N SEED CHUNK
    produce(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.stdout.buffer)
