"""The talent-card rules, pure (no Django; import-linter keeps it so): a scheme version's definition (tiers,
criteria with evidence types, services with their scope, family extension and quotas) and its validation; the
highest-tier rule (就高原则); the card lifecycle's transitions and renewal window; and the entitlement of a
service request at the moment of use, under mutual recognition.

A scheme definition (stored as JSON on a scheme version, edited by administrators as a new version):

    {"tiers": [{"code": "A", "name": "A类 国内外顶尖人才", "rank": 4}, ...],          # higher rank = higher tier
     "criteria": [{"code": "academician", "name": "两院院士", "tier": "A",
                   "evidence": ["award_certificate"]}, ...],                         # every listed type is required
     "services": [{"code": "medical_green", "name": "医疗绿色通道", "tiers": ["A", "B"],
                   "scope": "both", "family": true, "quota_per_year": 6, "shared": true}, ...]}

A service's `scope` says who may use it in this scheme's zone: "own" only holders of this scheme's cards, "partner"
only holders of a recognised partner scheme's cards (services for visiting talent), "both" either (the shared
services of mutual recognition, the "68" of "68+N"). `tiers` are this scheme's tiers; a partner card's tier is
first mapped to this scheme's tiers by the recognition mapping in force at the moment of use.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

SCOPES = ("own", "partner", "both")
EVIDENCE_TYPES = {
    "award_certificate": "获奖证书",
    "title_certificate": "入选人才计划证明",
    "degree_certificate": "学位证书",
    "professional_title": "职称证书",
    "employment_contract": "劳动合同",
    "social_insurance": "社保缴纳证明",
    "enterprise_rating": "企业能级认定（独角兽、瞪羚等）",
    "founder_proof": "创始人 / 股东证明",
    "employer_recommendation": "用人单位推荐函",
}
RENEW_WINDOW_DAYS = 30


# --- the scheme definition ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    code: str
    name: str
    rank: int


@dataclass(frozen=True)
class Criterion:
    code: str
    name: str
    tier: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    tiers: tuple[str, ...]
    scope: str
    family: bool = False
    quota_per_year: int | None = None
    shared: bool = False  # one of the "68" shared services (else a zone's own "N")


@dataclass(frozen=True)
class SchemeDefinition:
    tiers: tuple[Tier, ...]
    criteria: tuple[Criterion, ...]
    services: tuple[Service, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SchemeDefinition":
        return cls(
            tiers=tuple(Tier(t["code"], t["name"], int(t["rank"])) for t in data.get("tiers", [])),
            criteria=tuple(Criterion(c["code"], c["name"], c["tier"], tuple(c.get("evidence", [])))
                           for c in data.get("criteria", [])),
            services=tuple(Service(s["code"], s["name"], tuple(s.get("tiers", [])), s.get("scope", "own"),
                                   bool(s.get("family", False)), s.get("quota_per_year"), bool(s.get("shared", False)))
                           for s in data.get("services", [])),
        )

    def tier(self, code: str) -> Tier | None:
        return next((t for t in self.tiers if t.code == code), None)

    def service(self, code: str) -> Service | None:
        return next((s for s in self.services if s.code == code), None)


def _codes_unique(rows: Sequence[Any], where: str, errors: list[str]) -> None:
    codes = [row.get("code") if isinstance(row, Mapping) else None for row in rows]
    for code in {c for c in codes if codes.count(c) > 1}:
        errors.append(f"{where}: 代码重复 duplicate code {code!r}")


def validate_definition(data: Any) -> list[str]:
    """The problems of a scheme definition, each in words; [] when it is valid."""
    if not isinstance(data, Mapping):
        return ["定义须为对象 (the definition must be an object)"]
    errors: list[str] = []
    for key in ("tiers", "criteria", "services"):
        if not isinstance(data.get(key), list):
            errors.append(f"{key}: 须为列表 (must be a list)")
    if errors:
        return errors
    tiers, criteria, services = data["tiers"], data["criteria"], data["services"]
    if not tiers:
        errors.append("tiers: 至少一个层级 (at least one tier)")
    for where, rows in (("tiers", tiers), ("criteria", criteria), ("services", services)):
        for i, row in enumerate(rows):
            if (not isinstance(row, Mapping) or not isinstance(row.get("code"), str) or not row["code"].strip()
                    or not isinstance(row.get("name"), str) or not row["name"].strip()):
                errors.append(f"{where}[{i}]: 须有 code 与 name (needs a code and a name)")
        _codes_unique(rows, where, errors)
    if errors:
        return errors
    tier_codes = {t["code"] for t in tiers}
    for i, tier in enumerate(tiers):
        if not isinstance(tier.get("rank"), int) or isinstance(tier.get("rank"), bool):
            errors.append(f"tiers[{i}]: rank 须为整数 (rank must be an integer)")
    for i, criterion in enumerate(criteria):
        if not isinstance(criterion.get("tier"), str) or criterion["tier"] not in tier_codes:
            errors.append(f"criteria[{i}]: 未知层级 unknown tier {criterion.get('tier')!r}")
        evidence = criterion.get("evidence")
        if not isinstance(evidence, list) or not evidence or not all(isinstance(e, str) for e in evidence):
            errors.append(f"criteria[{i}]: evidence 须为非空列表 (needs at least one evidence type)")
        else:
            errors += [f"criteria[{i}]: 未知材料类型 unknown evidence type {e!r}" for e in evidence
                       if e not in EVIDENCE_TYPES]
    for i, service in enumerate(services):
        if not isinstance(service.get("scope"), str) or service["scope"] not in SCOPES:
            errors.append(f"services[{i}]: scope 须为 own / partner / both")
        listed = service.get("tiers")
        if not isinstance(listed, list) or not listed or not all(isinstance(t, str) for t in listed):
            errors.append(f"services[{i}]: tiers 须为非空列表 (needs at least one tier)")
        else:
            errors += [f"services[{i}]: 未知层级 unknown tier {t!r}" for t in listed if t not in tier_codes]
        quota = service.get("quota_per_year")
        if quota is not None and (not isinstance(quota, int) or isinstance(quota, bool) or quota < 1):
            errors.append(f"services[{i}]: quota_per_year 须为正整数或空 (a positive integer or null)")
    return errors


def validate_mapping(pairs: Any, *, partner_tiers: Iterable[str], home_tiers: Iterable[str]) -> list[str]:
    """The problems of a recognition mapping {partner tier: home tier}; [] when it is valid. A partner tier left
    out is not recognised."""
    if not isinstance(pairs, Mapping):
        return ["映射须为对象 (the mapping must be an object of partner tier → home tier)"]
    partner, home = set(partner_tiers), set(home_tiers)
    errors = [f"未知的对方层级 unknown partner tier {k!r}" for k in pairs if k not in partner]
    errors += [f"未知的本方层级 unknown home tier {v!r}" for v in pairs.values() if v not in home]
    return errors


# --- the highest-tier rule (就高原则) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    criterion: str
    type: str


@dataclass(frozen=True)
class TierDecision:
    tier: str | None  # None: no criterion is met
    met: tuple[str, ...]  # the criteria the evidence meets, highest tier first
    missing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # claimed criterion → evidence lacking


def highest_tier(definition: SchemeDefinition, evidence: Iterable[Evidence]) -> TierDecision:
    """The highest tier whose criteria the evidence meets: a criterion is met when evidence of every type it
    lists is given for it. Criteria claimed without all their evidence are reported in `missing`."""
    given: dict[str, set[str]] = {}
    for item in evidence:
        given.setdefault(item.criterion, set()).add(item.type)
    ranks = {t.code: t.rank for t in definition.tiers}
    met, missing = [], {}
    for criterion in definition.criteria:
        if criterion.code not in given:
            continue
        lacking = tuple(e for e in criterion.evidence if e not in given[criterion.code])
        if lacking:
            missing[criterion.code] = lacking
        else:
            met.append(criterion)
    met.sort(key=lambda c: (-ranks.get(c.tier, 0), c.code))
    return TierDecision(met[0].tier if met else None, tuple(c.code for c in met), missing)


# --- the lifecycle ----------------------------------------------------------------------------------------------

ACTIVE, LAPSED, REVOKED = "active", "lapsed", "revoked"
CARD_ACTIONS: dict[str, frozenset[str]] = {
    ACTIVE: frozenset({"change", "renew", "report_loss", "lapse", "revoke", "disclose"}),
    LAPSED: frozenset(),
    REVOKED: frozenset(),
}
SUBMITTED, APPROVED, REJECTED = "submitted", "approved", "rejected"
APPLICATION_ACTIONS: dict[str, frozenset[str]] = {
    SUBMITTED: frozenset({"approve", "reject"}),
    APPROVED: frozenset(),
    REJECTED: frozenset(),
}


def card_may(status: str, action: str) -> bool:
    return action in CARD_ACTIONS.get(status, frozenset())


def application_may(status: str, action: str) -> bool:
    return action in APPLICATION_ACTIONS.get(status, frozenset())


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def valid_until(issued_on: date, validity_years: int) -> date:
    """The last day a card issued on `issued_on` is valid (inclusive)."""
    return add_years(issued_on, validity_years) - timedelta(days=1)


def renew_window(until: date, days: int = RENEW_WINDOW_DAYS) -> tuple[date, date]:
    """The days a card valid until `until` may be renewed: from `days` before its last valid day to that day."""
    return until - timedelta(days=days), until


def may_renew(until: date, today: date, days: int = RENEW_WINDOW_DAYS) -> bool:
    opens, closes = renew_window(until, days)
    return opens <= today <= closes


def renewed_until(until: date, validity_years: int) -> date:
    """A renewal continues from the old validity: the new last day is `validity_years` after the old one."""
    return add_years(until + timedelta(days=1), validity_years) - timedelta(days=1)


def has_lapsed(until: date, today: date) -> bool:
    return today > until


# --- entitlement at the moment of use -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CardFacts:
    scheme: str  # the card's scheme code
    tier: str
    status: str
    valid_until: date


@dataclass(frozen=True)
class MappingFacts:
    """The recognition mapping in force at the moment of use, from the card's scheme to the providing scheme."""

    version: int
    effective_from: date
    pairs: Mapping[str, str]


@dataclass(frozen=True)
class Decision:
    granted: bool
    rule: str  # the rule that decided: "granted", "card_not_active", "not_recognised", ...
    reason: str
    home_tier: str = ""  # the card's tier in the providing scheme (mapped for a partner card)
    mapping_version: int | None = None


def judge(*, card: CardFacts, on: date, provider_scheme: str, provider: SchemeDefinition, service_code: str,
          mapping: MappingFacts | None, used_this_year: int, for_family: bool = False,
          family_extension: bool = True) -> Decision:
    """Whether a card holder may use `service_code` of the providing scheme's zone on day `on`, and why.

    The rules, in order: the card is active and within its validity; the service exists in the providing scheme;
    a partner card needs the recognition mapping in force and its tier mapped; the service's scope admits the
    holder (own / partner / both); the (mapped) tier is entitled; a family member only where the providing scheme
    version extends to family (`family_extension`) and so does the service; the yearly quota is not used up."""
    if card.status != ACTIVE:
        return Decision(False, "card_not_active", f"人才卡状态为“{card.status}”，不能使用服务 (the card is not active)")
    if on > card.valid_until:
        return Decision(False, "card_expired", f"人才卡已于{card.valid_until.isoformat()}到期 (the card has expired)")
    service = provider.service(service_code)
    if service is None:
        return Decision(False, "unknown_service", f"本区无此服务项目 {service_code} (no such service here)")
    own = card.scheme == provider_scheme
    version = None
    if own:
        home_tier = card.tier
        if service.scope == "partner":
            return Decision(False, "scope_partner_only",
                            f"“{service.name}”仅面向互认方持卡人 (for partner-scheme holders only)", home_tier)
    else:
        if mapping is None:
            return Decision(False, "not_recognised",
                            f"{on.isoformat()}无有效的互认映射，{card.scheme}卡在本区不被认可 (no recognition mapping in force)")
        version = mapping.version
        mapped = mapping.pairs.get(card.tier)
        if mapped is None:
            return Decision(False, "tier_not_mapped",
                            f"互认映射第{mapping.version}版（{mapping.effective_from.isoformat()}起）未认可{card.tier}层级 "
                            f"(tier {card.tier} is not mapped by mapping v{mapping.version})", "", version)
        home_tier = mapped
        if service.scope == "own":
            return Decision(False, "not_shared",
                            f"“{service.name}”不属于互认共享服务，仅限本区持卡人 (not a shared service; own-zone holders only)",
                            home_tier, version)
    if home_tier not in service.tiers:
        via = f"（经互认映射第{version}版对应本区{home_tier}层级）" if version is not None else ""
        return Decision(False, "tier_not_entitled",
                        f"{card.tier}层级{via}不在“{service.name}”的适用层级{'/'.join(service.tiers)}之内 "
                        f"(tier {home_tier} is not entitled)", home_tier, version)
    if for_family and not (family_extension and service.family):
        return Decision(False, "not_for_family", f"“{service.name}”不延及家属 (does not extend to family)",
                        home_tier, version)
    if service.quota_per_year is not None and used_this_year >= service.quota_per_year:
        return Decision(False, "quota_used",
                        f"“{service.name}”本年度限{service.quota_per_year}次，已用{used_this_year}次 (yearly quota used)",
                        home_tier, version)
    via = f"，经互认映射第{version}版对应本区{home_tier}层级" if version is not None else ""
    return Decision(True, "granted", f"符合“{service.name}”的适用条件（{card.tier}层级{via}） (entitled)",
                    home_tier, version)
