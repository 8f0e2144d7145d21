"""The finance dashboard's figures (科技金融看板): reads only, set-based.

Which cases count: the **cohort** of financing cases (demands and applications) *submitted or published* in the
period, on Asia/Shanghai days, both ends included (drafts never count); the city filter is the enterprise's city
in the registry. Every figure group is one aggregate query (GROUP BY in the database); no figure walks the
cases in Python. The durations are grouped by (institution, start day, end day) in the database and the groups
are turned into working days in Python, because the official calendar (twincity.core.workdays) is not in the
database: the work is per distinct group, not per case.

Definitions (each figure says which days it counts):

* **approved**: the case was approved at some point (it carries an approved amount: approved, disbursed,
  repaid, overdue, defaulted, or withdrawn after approval); **rejected**: its state is rejected; **decided** =
  approved + rejected; **approval rate** = approved / decided.
* **claim rate (抢单率)**, demands only: demands claimed / demands that could have been claimed, i.e. published
  demands minus those withdrawn before anyone claimed them and those still inside their claim window today.
  Per institution: the demands it claimed / the demands offered to it (the demands of its city — the project
  city, else the registered city — and, once escalated, every demand), with the same exclusions.
* **time to claim**: from submission/publication to the claim (a demand) or acceptance (受理, an application);
  **time to decision**: from the claim/acceptance to the final decision (approval or rejection), the legal
  approval clock; **time to disbursement** (twin-city loans): from submission to disbursement. Each in
  **working days** on the official calendar (d with start < d ≤ end, as every clock counts them) **and**
  **calendar days** (end − start, Shanghai dates).
* **within limit**: claimed on or before the case's claim due date / decided on or before its decision due
  date (the dates the clocks set: 3 and 10 working days by default).
* Institutions are the branches the cases are routed to (the lead branch: the one that claimed a demand or
  received an application); a twin-city loan counts for its lead branch, and for the partner branch in the
  list of twin-city loans.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import BooleanField, Count, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import Organisation
from twincity.core import workdays
from twincity.core.caching import REGISTRY, cached
from twincity.enterprises.fields import INDUSTRY_CLUSTERS
from twincity.finance.models import Application, ApplicationKind, ApplicationState
from twincity.points.models import ScoreResult, ScoringRun

SHANGHAI = workdays.SHANGHAI
ZERO = Decimal("0.00")
#: The points standard whose grade the dashboard groups by (the points loans' standard).
GRADE_STANDARD = "scp-v1"
NO_GRADE = "—"

APPROVED_Q = Q(approved_amount__isnull=False)
REJECTED_Q = Q(state=ApplicationState.REJECTED)
DECIDED_Q = APPROVED_Q | REJECTED_Q


@dataclass(frozen=True)
class Filters:
    date_from: dt.date
    date_to: dt.date
    city: str = ""  # "" = both cities (the enterprise's city in the registry)

    @classmethod
    def default(cls, today: dt.date, city: str = "") -> Filters:
        """The last 12 months: from the day after the same day a year ago to today."""
        try:
            year_ago = today.replace(year=today.year - 1)
        except ValueError:  # 29 February
            year_ago = today.replace(year=today.year - 1, day=28)
        return cls(year_ago + dt.timedelta(days=1), today, city)

    @property
    def key(self) -> str:
        return f"{self.date_from.isoformat()}:{self.date_to.isoformat()}:{self.city}"

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as aware datetimes: 00:00 Shanghai of the first day, 00:00 of the day after the last."""
        start = dt.datetime.combine(self.date_from, dt.time(0), tzinfo=SHANGHAI)
        end = dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time(0), tzinfo=SHANGHAI)
        return start, end


# --- durations --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Durations:
    """Durations of n cases in working days (official calendar) and in calendar days."""

    n: int = 0
    wd_mean: float | None = None
    wd_median: float | None = None
    wd_max: int | None = None
    cd_mean: float | None = None
    cd_median: float | None = None
    cd_max: int | None = None


class _Calendar:
    """Working-day ordinals over the days asked for (built once per figure group): the working days between a
    and b are ordinal(b) − ordinal(a), the same count as workdays.working_days_between(a, b)."""

    def __init__(self, days: Iterable[dt.date]) -> None:
        days = [d for d in days if d is not None]
        self._ordinal: dict[dt.date, int] = {}
        if not days:
            return
        lo, hi = workdays.covered_years()
        first, last = max(min(days), dt.date(lo, 1, 1)), min(max(days), dt.date(hi, 12, 31))
        count, day = 0, first
        while day <= last:
            count += workdays.is_working_day(day)
            self._ordinal[day] = count
            day += dt.timedelta(days=1)

    def between(self, a: dt.date, b: dt.date) -> int | None:
        """Working days d with a < d ≤ b; None outside the calendar's years (never a guess)."""
        if b <= a:
            return 0
        if a not in self._ordinal or b not in self._ordinal:
            return None
        return self._ordinal[b] - self._ordinal[a]


def _weighted_median(pairs: list[tuple[int, int]]) -> float | None:
    """The median of values given as (value, count) pairs, from the cumulative counts (no list of the cases)."""
    total = sum(n for _v, n in pairs)
    if not total:
        return None
    wanted = (total - 1) // 2, total // 2  # the middle position(s), 0-based
    found: list[int] = []
    seen = 0
    for value, n in sorted(pairs):
        while len(found) < 2 and seen <= wanted[len(found)] < seen + n:
            found.append(value)
        seen += n
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2


def durations_from_groups(groups: Iterable[tuple[dt.date, dt.date, int]],
                          calendar: _Calendar | None = None) -> Durations:
    """Durations from (start day, end day, number of cases) groups."""
    groups = [(a, b, n) for a, b, n in groups if a is not None and b is not None]
    if not groups:
        return Durations()
    calendar = calendar or _Calendar([d for a, b, _n in groups for d in (a, b)])
    wd = [(calendar.between(a, b), n) for a, b, n in groups]
    wd = [(v, n) for v, n in wd if v is not None]
    cd = [(max((b - a).days, 0), n) for a, b, n in groups]
    n_cd = sum(n for _v, n in cd)
    n_wd = sum(n for _v, n in wd)
    return Durations(
        n=n_cd,
        wd_mean=round(sum(v * n for v, n in wd) / n_wd, 1) if n_wd else None,
        wd_median=_weighted_median(wd), wd_max=max((v for v, _n in wd), default=None),
        cd_mean=round(sum(v * n for v, n in cd) / n_cd, 1), cd_median=_weighted_median(cd),
        cd_max=max(v for v, _n in cd),
    )


def _day(field_name: str) -> TruncDate:
    return TruncDate(field_name, tzinfo=SHANGHAI)


def _durations_by(cases: QuerySet[Application], key: str, start: str, end: str) -> dict[Any, Durations]:
    """One query: the cases grouped by `key` and their (start day, end day); durations per key."""
    rows = list(cases.filter(**{f"{start}__isnull": False, f"{end}__isnull": False}).order_by()
                .values(key, a=_day(start) if start.endswith("_at") else F(start),
                        b=_day(end) if end.endswith("_at") else F(end))
                .annotate(n=Count("pk")))
    calendar = _Calendar([d for r in rows for d in (r["a"], r["b"])])
    grouped: dict[Any, list[tuple[dt.date, dt.date, int]]] = defaultdict(list)
    for r in rows:
        grouped[r[key]].append((r["a"], r["b"], r["n"]))
    return {k: durations_from_groups(g, calendar) for k, g in grouped.items()}


# --- the cohort ---------------------------------------------------------------------------------------------------


def cohort(filters: Filters, institution_ids: Sequence[int] | None) -> QuerySet[Application]:
    """The cases submitted or published in the period (drafts never count), of enterprises of the city, routed
    to the institutions given (lead or partner; None = every case)."""
    start, end = filters.bounds()
    cases = Application.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
    if filters.city:
        cases = cases.filter(enterprise__city=filters.city)
    if institution_ids is not None:
        cases = cases.filter(Q(lead_institution_id__in=institution_ids)
                             | Q(partner_institution_id__in=institution_ids))
    return cases


def _grade_at_submission() -> Subquery:
    """The enterprise's grade under GRADE_STANDARD in its latest finished run evaluated on or before the day the
    case was submitted (None when it had none); the outer query annotates `submitted_day`."""
    results = (ScoreResult.objects
               .filter(enterprise_id=OuterRef("enterprise_id"), run__status=ScoringRun.Status.DONE,
                       run__standard__standard_id=GRADE_STANDARD,
                       run__evaluation_date__lte=OuterRef("submitted_day"))
               .order_by("-run__evaluation_date", "-run__created_at", "-pk").values("grade")[:1])
    return Subquery(results)


# --- volume ---------------------------------------------------------------------------------------------------------

VOLUME_MEASURES = {
    "cases": Count("pk"),
    "asked": Sum("amount"),
    "approved": Count("pk", filter=APPROVED_Q),
    "approved_amount": Sum("approved_amount", filter=APPROVED_Q),
    "disbursed": Count("pk", filter=Q(disbursed_on__isnull=False)),
    "disbursed_amount": Sum("disbursed_amount", filter=Q(disbursed_on__isnull=False)),
}

DIMENSIONS = {
    "product": _("Product"),
    "institution": _("Institution"),
    "city": _("City"),
    "cluster": _("Industry cluster"),
    "grade": _("Points grade"),
}


@dataclass(frozen=True)
class VolumeRow:
    key: str
    label: str
    cases: int
    asked: Decimal
    approved: int
    approved_amount: Decimal
    disbursed: int
    disbursed_amount: Decimal


def _volume(cases: QuerySet[Application], group: dict[str, Any], key: str,
            label: Callable[[dict], str]) -> list[VolumeRow]:
    rows = cases.order_by().values(**group).annotate(**VOLUME_MEASURES).order_by("-cases", key)
    return [VolumeRow(key=str(r[key] if r[key] not in (None, "") else ""), label=label(r), cases=r["cases"],
                      asked=r["asked"] or ZERO, approved=r["approved"],
                      approved_amount=r["approved_amount"] or ZERO, disbursed=r["disbursed"],
                      disbursed_amount=r["disbursed_amount"] or ZERO) for r in rows]


def _city_label(city: str) -> str:
    from twincity.accounts.models import City

    return str(City(city).label) if city in City.values else (city or NO_GRADE)


def volumes(cases: QuerySet[Application]) -> dict[str, list[VolumeRow]]:
    """Count, amount asked, approved and disbursed, by product, institution, city, cluster and points grade:
    one query each."""
    return {
        "product": _volume(
            cases, {"k": F("product__product_id"),
                    "zh": F("product__name_zh")}, "k",
            lambda r: r["zh"] or str(_("Financing demand (no product)"))),
        "institution": _volume(
            cases, {"k": F("lead_institution_id"), "name": F("lead_institution__name")}, "k",
            lambda r: r["name"] or str(_("Not claimed yet"))),
        "city": _volume(cases, {"k": F("enterprise__city")}, "k", lambda r: _city_label(r["k"])),
        "cluster": _volume(cases, {"k": F("enterprise__industry_cluster")}, "k",
                           lambda r: INDUSTRY_CLUSTERS.get(r["k"], (r["k"], ""))[0]),
        "grade": _volume(cases.annotate(submitted_day=_day("submitted_at")), {"k": _grade_at_submission()}, "k",
                         lambda r: r["k"] or NO_GRADE),
    }


# --- the league table -------------------------------------------------------------------------------------------


@dataclass
class LeagueRow:
    institution_id: int
    name: str  # the institution's name, or an anonymous label ("机构 C")
    named: bool
    head_office: str
    city: str
    routed: int = 0  # cases routed to it (claimed demands, applications received)
    offered: int = 0  # demands offered to it that could have been claimed
    claimed: int = 0  # demands it claimed
    claim_rate: float | None = None
    claimed_in_time: int = 0
    claim_due_known: int = 0
    decided: int = 0
    approved: int = 0
    rejected: int = 0
    approval_rate: float | None = None
    decided_in_time: int = 0
    decision_due_known: int = 0
    approved_amount: Decimal = ZERO
    to_claim: Durations = field(default_factory=Durations)
    to_decision: Durations = field(default_factory=Durations)
    reasons: list[tuple[str, int]] = field(default_factory=list)  # its top rejection reasons (named rows only)

    @property
    def claimed_in_time_rate(self) -> float | None:
        return _rate(self.claimed_in_time, self.claim_due_known)

    @property
    def decided_in_time_rate(self) -> float | None:
        return _rate(self.decided_in_time, self.decision_due_known)


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _claimable(demands: QuerySet[Application], today: dt.date) -> QuerySet[Application]:
    """Published demands that could have been claimed: not withdrawn before a claim, not inside their window."""
    return demands.exclude(Q(claimed_at__isnull=True, state=ApplicationState.WITHDRAWN)
                           | Q(claimed_at__isnull=True, claim_due__gte=today))


@dataclass(frozen=True)
class ClaimRate:
    published: int
    claimable: int
    claimed: int

    @property
    def rate(self) -> float | None:
        return _rate(self.claimed, self.claimable)


def claim_rate(cases: QuerySet[Application], today: dt.date) -> ClaimRate:
    """The claim rate of the demands of `cases` (one query)."""
    demands = cases.filter(kind=ApplicationKind.DEMAND)
    claimable = _claimable(demands, today).values("pk")
    r = demands.aggregate(published=Count("pk"), claimable=Count("pk", filter=Q(pk__in=claimable)),
                          claimed=Count("pk", filter=Q(pk__in=claimable, claimed_at__isnull=False)))
    return ClaimRate(r["published"], r["claimable"], r["claimed"])


REASONS_PER_INSTITUTION = 3


def _league_counts(cases: QuerySet[Application]) -> dict[int, dict[str, Any]]:
    """Per lead branch: cases routed, claims and decisions in time, decided, approved, rejected (one query)."""
    lead = "lead_institution_id"
    rows = (cases.filter(lead_institution__isnull=False).order_by()
            .annotate(claimed_day=_day("claimed_at"), decided_day=_day("decided_at"))
            .values(lead).annotate(
                routed=Count("pk"),
                claimed_in_time=Count("pk", filter=Q(claimed_at__isnull=False, claim_due__isnull=False,
                                                     claimed_day__lte=F("claim_due"))),
                claim_due_known=Count("pk", filter=Q(claimed_at__isnull=False, claim_due__isnull=False)),
                decided=Count("pk", filter=DECIDED_Q), approved=Count("pk", filter=APPROVED_Q),
                rejected=Count("pk", filter=REJECTED_Q),
                decided_in_time=Count("pk", filter=DECIDED_Q & Q(decision_due__isnull=False,
                                                                 decided_day__lte=F("decision_due"))),
                decision_due_known=Count("pk", filter=DECIDED_Q & Q(decision_due__isnull=False)),
                approved_amount=Sum("approved_amount", filter=APPROVED_Q)))
    return {r[lead]: r for r in rows}


def _target_city() -> Coalesce:
    """The city a demand is offered in: its project city, else its registered city."""
    return Coalesce(NullIf("project_city", Value("")), F("registered_city"))


def league(cases: QuerySet[Application], *, today: dt.date, named_ids: frozenset[int] | None) -> list[LeagueRow]:
    """One row per bank branch that cases were routed or demands offered to, most cases first. `named_ids`: the
    institutions shown by name (None = all); the others are labelled 机构 A, B, … in the table's order, without
    their head office or rejection reasons (free text may name the enterprise)."""
    lead = "lead_institution_id"
    counts = _league_counts(cases)
    # Demands that could have been claimed, grouped by the city they are offered in and whether they were
    # escalated (then offered to every bank branch of both cities).
    demands = _claimable(cases.filter(kind=ApplicationKind.DEMAND), today)
    offered_rows = list(demands.order_by().values(target=_target_city(), escalated=ExpressionWrapper(Q(escalated_at__isnull=False), BooleanField()))
                        .annotate(n=Count("pk")))
    claimed_by = dict(demands.filter(lead_institution__isnull=False).order_by().values(lead)
                      .annotate(n=Count("pk")).values_list(lead, "n"))
    routed = cases.filter(lead_institution__isnull=False)
    to_claim = _durations_by(routed, lead, "submitted_at", "claimed_at")
    to_decision = _durations_by(routed.filter(DECIDED_Q), lead, "claimed_at", "decided_at")
    reasons: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for inst, reason, n in (routed.filter(REJECTED_Q).order_by().values(lead, "reason").annotate(n=Count("pk"))
                            .order_by(lead, "-n", "reason").values_list(lead, "reason", "n")):
        if len(reasons[inst]) < REASONS_PER_INSTITUTION:
            reasons[inst].append((reason, n))
    branches = (Organisation.objects.filter(kind=Organisation.Kind.BANK, parent__isnull=False)
                .select_related("parent").order_by("pk"))
    rows: list[LeagueRow] = []
    for branch in branches:  # the bank branches (a dozen), not the cases
        c = counts.get(branch.pk, {})
        offered = sum(r["n"] for r in offered_rows if r["escalated"] or (branch.city and r["target"] == branch.city))
        if not c and not offered:
            continue
        row = LeagueRow(institution_id=branch.pk, name=branch.name, named=True, head_office=branch.parent.name,
                        city=branch.city, routed=c.get("routed", 0), offered=offered,
                        claimed=claimed_by.get(branch.pk, 0), claimed_in_time=c.get("claimed_in_time", 0),
                        claim_due_known=c.get("claim_due_known", 0), decided=c.get("decided", 0),
                        approved=c.get("approved", 0), rejected=c.get("rejected", 0),
                        decided_in_time=c.get("decided_in_time", 0),
                        decision_due_known=c.get("decision_due_known", 0),
                        approved_amount=c.get("approved_amount") or ZERO,
                        to_claim=to_claim.get(branch.pk, Durations()),
                        to_decision=to_decision.get(branch.pk, Durations()), reasons=reasons.get(branch.pk, []))
        row.claim_rate = _rate(row.claimed, row.offered)
        row.approval_rate = _rate(row.approved, row.decided)
        rows.append(row)
    rows.sort(key=lambda r: (-r.routed, -r.offered, r.institution_id))
    letters = iter("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    for row in rows:
        if named_ids is not None and row.institution_id not in named_ids:
            row.name = str(_("Institution %(letter)s") % {"letter": next(letters, "?")})
            row.named, row.head_office, row.reasons = False, "", []
    return rows


def rejection_reasons(cases: QuerySet[Application], limit: int = 10) -> list[tuple[str, int]]:
    """The most frequent rejection reasons of `cases` (exact text), most frequent first (one query)."""
    return list(cases.filter(REJECTED_Q).order_by().values("reason").annotate(n=Count("pk"))
                .order_by("-n", "reason").values_list("reason", "n")[:limit])


# --- twin-city loans ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwinCityRow:
    case_id: int
    enterprise: str
    lead: str
    partner: str
    state: str
    state_label: str
    amount: Decimal
    approved_amount: Decimal | None
    submitted_on: dt.date
    disbursed_on: dt.date | None
    working_days: int | None  # submission → disbursement
    calendar_days: int | None


def twin_city(cases: QuerySet[Application]) -> tuple[list[TwinCityRow], Durations]:
    """The twin-city loans of `cases` (routed to two branches) with the time from submission to disbursement,
    and the durations over the disbursed ones (one query)."""
    rows = list(cases.filter(partner_institution__isnull=False)
                .annotate(submitted_day=_day("submitted_at"))
                .values("pk", "enterprise__name", "lead_institution__name", "partner_institution__name", "state",
                        "amount", "approved_amount", "submitted_day", "disbursed_on")
                .order_by("-submitted_day", "-pk"))
    calendar = _Calendar([d for r in rows for d in (r["submitted_day"], r["disbursed_on"])])
    labels = dict(ApplicationState.choices)
    out = []
    for r in rows:  # the listed loans themselves (a handful), shown one per row
        a, b = r["submitted_day"], r["disbursed_on"]
        out.append(TwinCityRow(
            case_id=r["pk"], enterprise=r["enterprise__name"], lead=r["lead_institution__name"] or "",
            partner=r["partner_institution__name"] or "", state=r["state"], state_label=str(labels[r["state"]]),
            amount=r["amount"], approved_amount=r["approved_amount"], submitted_on=a, disbursed_on=b,
            working_days=calendar.between(a, b) if b else None, calendar_days=(b - a).days if b else None))
    summary = durations_from_groups([(r.submitted_on, r.disbursed_on, 1) for r in out if r.disbursed_on], calendar)
    return out, summary


# --- extra tables other domains add (the risk pool) --------------------------------------------------------------


@dataclass(frozen=True)
class ExtraTable:
    """A table another domain adds to the dashboard (e.g. riskpool: pool balance and losses), registered in its
    AppConfig.ready(): the finance domain sits below it and never imports it."""

    key: str
    title: str | Any
    columns: tuple[tuple[str, Any], ...]  # (key, label)
    rows: Callable[[Any, Filters], list[list[Any]]]  # rows(user, filters): what this person may see
    note: str | Any = ""
    chart: Callable[[list[list[Any]]], dict] | None = None
    empty: str | Any = _("Nothing you may see.")  # said when there are no rows
    order: int = 100


_EXTRA: dict[str, ExtraTable] = {}


def dashboard_table_register(table: ExtraTable) -> None:
    _EXTRA[table.key] = table


def extra_tables() -> list[ExtraTable]:
    return sorted(_EXTRA.values(), key=lambda t: (t.order, t.key))


# --- the whole dashboard ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    cases: int
    demands: int
    applications: int
    asked: Decimal
    approved: int
    approved_amount: Decimal
    rejected: int
    disbursed: int
    disbursed_amount: Decimal
    approval_rate: float | None
    claim: ClaimRate
    to_claim: Durations
    to_decision: Durations


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    overview: Overview
    volumes: dict[str, list[VolumeRow]]
    league: list[LeagueRow]
    reasons: list[tuple[str, int]]
    twin_city: list[TwinCityRow]
    twin_city_durations: Durations


def overview(cases: QuerySet[Application], today: dt.date) -> Overview:
    r = cases.aggregate(cases=Count("pk"), demands=Count("pk", filter=Q(kind=ApplicationKind.DEMAND)),
                        rejected=Count("pk", filter=REJECTED_Q), **{k: v for k, v in VOLUME_MEASURES.items()
                                                                    if k != "cases"})
    routed = cases.filter(lead_institution__isnull=False)
    to_claim = _durations_by(routed.annotate(one=Value(1)), "one", "submitted_at", "claimed_at").get(1, Durations())
    to_decision = _durations_by(routed.filter(DECIDED_Q).annotate(one=Value(1)), "one", "claimed_at",
                                "decided_at").get(1, Durations())
    decided = r["approved"] + r["rejected"]
    return Overview(cases=r["cases"], demands=r["demands"], applications=r["cases"] - r["demands"],
                    asked=r["asked"] or ZERO, approved=r["approved"], approved_amount=r["approved_amount"] or ZERO,
                    rejected=r["rejected"], disbursed=r["disbursed"], disbursed_amount=r["disbursed_amount"] or ZERO,
                    approval_rate=_rate(r["approved"], decided), claim=claim_rate(cases, today),
                    to_claim=to_claim, to_decision=to_decision)


def dashboard(*, filters: Filters, institution_ids: Sequence[int] | None, today: dt.date) -> Dashboard:
    """Every figure of the dashboard for a person whose figures cover `institution_ids` (None: every case;
    from twincity.finance.access.dashboard_institutions), cached per registry version (audited writes, which
    every case transition is, bump it)."""
    scope = "all" if institution_ids is None else ",".join(map(str, sorted(institution_ids)))
    # Labels are translated when the figures are computed: the language is part of the key.
    key = f"finance-dashboard:{get_language()}:{scope}:{filters.key}:{today.isoformat()}"
    return cached(REGISTRY, key, lambda: _dashboard(filters, institution_ids, today))


def _dashboard(filters: Filters, institution_ids: Sequence[int] | None, today: dt.date) -> Dashboard:
    mine = cohort(filters, institution_ids)
    everyone = cohort(filters, None)
    named = None if institution_ids is None else frozenset(institution_ids)
    twins, twin_durations = twin_city(mine)
    return Dashboard(filters=filters, overview=overview(mine, today), volumes=volumes(mine),
                     league=league(everyone, today=today, named_ids=named), reasons=rejection_reasons(mine),
                     twin_city=twins, twin_city_durations=twin_durations)


# --- tables for export (CSV, XLSX) and their charts -----------------------------------------------------------------


def _days(d: Durations) -> list[Any]:
    return [d.n, d.wd_mean, d.wd_median, d.cd_mean, d.cd_median]


VOLUME_COLUMNS = (("key", "代码 key"), ("label", "名称 name"), ("cases", "笔数 cases"),
                  ("asked", "申请金额(元) amount asked (yuan)"), ("approved", "获批笔数 approved"),
                  ("approved_amount", "获批金额(元) approved amount (yuan)"), ("disbursed", "放款笔数 disbursed"),
                  ("disbursed_amount", "放款金额(元) disbursed amount (yuan)"))
LEAGUE_COLUMNS = (
    ("institution", "机构 institution"), ("head_office", "总行 head office"), ("city", "城市 city"),
    ("routed", "受理/认领笔数 cases routed"), ("offered", "推送需求数 demands offered"),
    ("claimed", "认领需求数 demands claimed"), ("claim_rate", "抢单率% claim rate %"),
    ("claimed_in_time_rate", "按时认领率% claimed in time %"),
    ("to_claim_n", "认领用时样本 time to claim: cases"), ("to_claim_wd_mean", "认领用时均值(工作日) mean (working days)"),
    ("to_claim_wd_median", "认领用时中位数(工作日) median (working days)"),
    ("to_claim_cd_mean", "认领用时均值(自然日) mean (calendar days)"),
    ("to_claim_cd_median", "认领用时中位数(自然日) median (calendar days)"),
    ("decided", "已决定 decided"), ("approved", "批准 approved"), ("rejected", "拒绝 rejected"),
    ("approval_rate", "批准率% approval rate %"), ("decided_in_time_rate", "按时决定率% decided in time %"),
    ("to_decision_n", "审批用时样本 time to decision: cases"),
    ("to_decision_wd_mean", "审批用时均值(工作日) mean (working days)"),
    ("to_decision_wd_median", "审批用时中位数(工作日) median (working days)"),
    ("to_decision_cd_mean", "审批用时均值(自然日) mean (calendar days)"),
    ("to_decision_cd_median", "审批用时中位数(自然日) median (calendar days)"),
    ("approved_amount", "获批金额(元) approved amount (yuan)"), ("reasons", "主要拒绝原因 top rejection reasons"),
)
REASON_COLUMNS = (("reason", "拒绝原因 rejection reason"), ("cases", "笔数 cases"))
TWIN_CITY_COLUMNS = (
    ("case", "编号 case"), ("enterprise", "企业 enterprise"), ("lead", "牵头行 lead branch"),
    ("partner", "协办行 partner branch"), ("state", "状态 state"), ("amount", "申请金额(元) amount asked (yuan)"),
    ("approved_amount", "获批金额(元) approved amount (yuan)"), ("submitted_on", "提交日期 submitted on"),
    ("disbursed_on", "放款日期 disbursed on"), ("working_days", "申请至放款(工作日) to disbursement (working days)"),
    ("calendar_days", "申请至放款(自然日) to disbursement (calendar days)"),
)


def _league_row(r: LeagueRow) -> list[Any]:
    return [r.name, r.head_office, _city_label(r.city) if r.city else "", r.routed, r.offered, r.claimed,
            r.claim_rate, r.claimed_in_time_rate, *_days(r.to_claim), r.decided, r.approved, r.rejected,
            r.approval_rate, r.decided_in_time_rate, *_days(r.to_decision), r.approved_amount,
            "；".join(f"{reason}（{n}）" for reason, n in r.reasons)]


def table(board: Dashboard, name: str) -> tuple[tuple[tuple[str, str], ...], list[list[Any]]] | None:
    """The columns and rows of one of the dashboard's own tables, as exported (None: no such table)."""
    if name.startswith("volume-") and name[len("volume-"):] in DIMENSIONS:
        rows = board.volumes[name[len("volume-"):]]
        return VOLUME_COLUMNS, [[r.key, r.label, r.cases, r.asked, r.approved, r.approved_amount, r.disbursed,
                                 r.disbursed_amount] for r in rows]
    if name == "league":
        return LEAGUE_COLUMNS, [_league_row(r) for r in board.league]
    if name == "reasons":
        return REASON_COLUMNS, [[reason, n] for reason, n in board.reasons]
    if name == "twin-city":
        return TWIN_CITY_COLUMNS, [[r.case_id, r.enterprise, r.lead, r.partner, r.state_label, r.amount,
                                    r.approved_amount, r.submitted_on, r.disbursed_on, r.working_days,
                                    r.calendar_days] for r in board.twin_city]
    return None

