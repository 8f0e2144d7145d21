"""Reads of the points domain, and the one access rule for each of its object types.

- Standard versions: published rules, readable by every signed-in user.
- Scoring runs, rankings and whitelists: administrators.
- An enterprise's points (and its what-if): administrators, and the company's own users
  (`enterprise_list_editable`); banks and others see none for now.
"""

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import points_engine
from django.db.models import QuerySet

from twincity.accounts.models import City
from twincity.accounts.selectors import user_is_admin
from twincity.core.errors import Forbidden, InvalidInput
from twincity.enterprises.fields import INDUSTRY_CLUSTERS
from twincity.enterprises.models import Enterprise
from twincity.enterprises.selectors import enterprise_list_editable
from twincity.points.models import ScoreResult, ScoringRun, StandardVersion

DEFAULT_STANDARD_ID = "scp-v1"
GRADES = ("A", "B", "C", "D", "E")
GROUP_BY = {"industry_cluster": "enterprise__industry_cluster", "city": "enterprise__city", "stage": "stage"}
TOP_N = 20
HISTOGRAM_BUCKETS = 10


# --- standards ---------------------------------------------------------------------------------------------


def standard_list() -> QuerySet[StandardVersion]:
    """Every stored standard version, by standard, newest first."""
    return StandardVersion.objects.select_related("derived_from").order_by("standard_id", "-effective_from",
                                                                           "-created_at")


def standard_get(*, standard_id: str, version: str) -> StandardVersion | None:
    return StandardVersion.objects.filter(standard_id=standard_id, version=version).first()


def standard_latest(*, standard_id: str) -> StandardVersion | None:
    return (StandardVersion.objects.filter(standard_id=standard_id)
            .order_by("-effective_from", "-created_at", "-pk").first())


def standard_versions(*, standard_id: str) -> QuerySet[StandardVersion]:
    return StandardVersion.objects.filter(standard_id=standard_id).order_by("effective_from", "created_at", "pk")


def standard_diff(*, a: StandardVersion, b: StandardVersion) -> list[dict[str, Any]]:
    """What changed from `a` to `b`: [{"path", "old", "new"}], paths as points_engine.diff_standards gives
    them (e.g. "indicators.ip_I.banding.bands.A.points"). The bookkeeping keys version/derived_from are kept."""
    return [{"path": path, "old": old, "new": new}
            for path, old, new in points_engine.diff_standards(a.definition, b.definition)]


# --- runs --------------------------------------------------------------------------------------------------


def run_list_visible(*, user) -> QuerySet[ScoringRun]:
    if user_is_admin(user):
        return ScoringRun.objects.select_related("standard", "started_by").order_by("-created_at", "-pk")
    return ScoringRun.objects.none()


def run_get_visible(*, user, public_id) -> ScoringRun | None:
    try:
        return run_list_visible(user=user).filter(public_id=public_id).first()
    except Exception:  # noqa: BLE001 — a malformed id is simply not found
        return None


def run_latest_done(*, standard: StandardVersion) -> ScoringRun | None:
    return (ScoringRun.objects.filter(standard=standard, status=ScoringRun.Status.DONE)
            .order_by("-evaluation_date", "-created_at").first())


# --- an enterprise's points ---------------------------------------------------------------------------------


@dataclass
class EnterprisePoints:
    enterprise: Enterprise
    standards: list[StandardVersion] = field(default_factory=list)
    current: StandardVersion | None = None
    result: ScoreResult | None = None
    explanation: points_engine.Explanation | None = None
    categories: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def run(self) -> ScoringRun | None:
        return self.result.run if self.result else None


def points_visible(*, user, enterprise: Enterprise) -> bool:
    """The one access rule for an enterprise's points."""
    return enterprise_list_editable(user=user).filter(pk=enterprise.pk).exists()


def category_totals(*, standard: StandardVersion, explanation: points_engine.Explanation) -> list[dict[str, Any]]:
    """Points and maximum per category of the standard, in its order (indicators with an open range count
    their lower bound)."""
    totals: dict[str, dict[str, Any]] = {}
    for category in standard.definition.get("categories", []):
        totals[category["id"]] = {"id": category["id"], "name_zh": category.get("name_zh", category["id"]),
                                  "name_en": category.get("name_en", category["id"]), "points": 0.0,
                                  "max_points": 0.0}
    for ind in explanation.indicators:
        entry = totals.setdefault(ind.category, {"id": ind.category, "name_zh": ind.category,
                                                 "name_en": ind.category, "points": 0.0, "max_points": 0.0})
        points = ind.points if ind.points is not None else ind.points_min
        entry["points"] += float(points or 0)
        entry["max_points"] += float(ind.max_points or 0)
    for entry in totals.values():
        entry["points"] = round(entry["points"], 4)
        entry["max_points"] = round(entry["max_points"], 4)
    return list(totals.values())


def enterprise_points(
    *, user, enterprise: Enterprise, standard_id: str | None = None, version: str | None = None
) -> EnterprisePoints | None:
    """The enterprise's latest points under a standard (default scp-v1), explained indicator by indicator,
    with its history under that standard. None when the user may not see them."""
    if not points_visible(user=user, enterprise=enterprise):
        return None
    done = ScoreResult.objects.filter(enterprise=enterprise, run__status=ScoringRun.Status.DONE)
    standards = list(StandardVersion.objects.filter(pk__in=done.values("run__standard_id"))
                     .order_by("standard_id", "-effective_from", "-created_at"))
    data = EnterprisePoints(enterprise=enterprise, standards=standards)
    if not standards:
        return data
    chosen_id = standard_id or (DEFAULT_STANDARD_ID if any(s.standard_id == DEFAULT_STANDARD_ID for s in standards)
                                else standards[0].standard_id)
    candidates = done.filter(run__standard__standard_id=chosen_id)
    if version:
        candidates = candidates.filter(run__standard__version=version)
    result = (candidates.select_related("run__standard", "enterprise")
              .order_by("-run__evaluation_date", "-run__created_at", "-pk").first())
    if result is None:
        return data
    run = result.run
    data.current = run.standard
    data.result = result
    data.explanation = points_engine.explain(
        result.facts, points_engine.Standard.from_dict(run.standard.definition),
        evaluation_date=run.evaluation_date, reference=run.reference or None,
    )
    data.categories = category_totals(standard=run.standard, explanation=data.explanation)
    data.history = [
        {"evaluation_date": row[0], "run_public_id": row[1], "standard_version": row[2], "verdict": row[3],
         "score_min": row[4], "score_max": row[5], "grade": row[6]}
        for row in done.filter(run__standard__standard_id=chosen_id)
        .order_by("run__evaluation_date", "run__created_at", "pk")
        .values_list("run__evaluation_date", "run__public_id", "run__standard__version", "verdict",
                     "score_min", "score_max", "grade")
    ]
    return data


# --- rankings and whitelist ---------------------------------------------------------------------------------


@dataclass
class Rankings:
    run: ScoringRun
    group_by: str
    groups: list[dict[str, Any]]
    top: list[ScoreResult]
    histogram: list[dict[str, Any]]
    count: int


def _require_admin(user) -> None:
    if not user_is_admin(user):
        raise Forbidden("只有管理员可以查看 (administrators only)")


def _quantile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _group_labels(run: ScoringRun, group_by: str) -> dict[str, str]:
    if group_by == "industry_cluster":
        return {key: zh for key, (zh, _en) in INDUSTRY_CLUSTERS.items()}
    if group_by == "city":
        return {str(value): str(label) for value, label in City.choices}
    stages = (run.standard.definition.get("peer_groups") or {}).get("stages") or []
    return {s["id"]: s.get("name_zh", s["id"]) for s in stages if isinstance(s, dict) and "id" in s}


def _histogram(run: ScoringRun, scores: list[float]) -> list[dict[str, Any]]:
    if not scores:
        return []
    clamp = (run.standard.definition.get("score") or {}).get("clamp")
    lo = min(0.0, min(scores))
    hi = float(clamp[1]) if isinstance(clamp, list) and len(clamp) == 2 and clamp[1] is not None else max(scores)
    hi = max(hi, max(scores))
    if hi <= lo:
        hi = lo + HISTOGRAM_BUCKETS
    width = (hi - lo) / HISTOGRAM_BUCKETS
    counts = [0] * HISTOGRAM_BUCKETS
    for s in scores:
        counts[min(int((s - lo) / width), HISTOGRAM_BUCKETS - 1)] += 1
    return [{"bucket_start": _r(lo + i * width), "bucket_end": _r(lo + (i + 1) * width), "count": c}
            for i, c in enumerate(counts)]


def rankings(*, user, run: ScoringRun, group_by: str) -> Rankings:
    """Per group (cluster, city or stage): how many scored, mean / median / p90 of score_max and the grade
    counts; the top 20; a 10-bucket histogram of score_max. Results without a score are left out."""
    _require_admin(user)
    if group_by not in GROUP_BY:
        raise InvalidInput("分组方式无效 (invalid group_by)",
                           extra={"fields": {"group_by": [f"one of {', '.join(GROUP_BY)}"]}})
    rows = (ScoreResult.objects.filter(run=run, score_max__isnull=False)
            .values_list(GROUP_BY[group_by], "score_max", "grade").iterator(chunk_size=10000))
    by_group: dict[str, list[float]] = {}
    grades: dict[str, dict[str, int]] = {}
    all_scores: list[float] = []
    for key, score, grade in rows:
        key = key or ""
        value = float(score)
        by_group.setdefault(key, []).append(value)
        all_scores.append(value)
        counts = grades.setdefault(key, dict.fromkeys(GRADES, 0))
        if grade in counts:
            counts[grade] += 1
    labels = _group_labels(run, group_by)
    groups = []
    for key in sorted(by_group, key=lambda k: (-len(by_group[k]), k)):
        values = sorted(by_group[key])
        groups.append({
            "key": key, "label": labels.get(key, key or "—"), "count": len(values),
            "mean": _r(sum(values) / len(values)), "median": _r(_quantile(values, 0.5)),
            "p90": _r(_quantile(values, 0.9)), "grade_counts": grades[key],
        })
    top = list(ScoreResult.objects.filter(run=run, score_max__isnull=False).select_related("enterprise")
               .order_by("-score_max", "enterprise__credit_code")[:TOP_N])
    return Rankings(run=run, group_by=group_by, groups=groups, top=top, histogram=_histogram(run, all_scores),
                    count=len(all_scores))


def whitelist(
    *, user, run: ScoringRun, min_grade: str | None = None, min_score: Decimal | None = None
) -> QuerySet[ScoreResult]:
    """Results of the run that pass and reach the grade (A best … E) or the score floor (score_min), best
    first. With both, both must hold."""
    _require_admin(user)
    qs = ScoreResult.objects.filter(run=run, verdict="pass")
    if min_grade:
        grade = str(min_grade).strip().upper()
        if grade not in GRADES:
            raise InvalidInput("等级无效 (invalid grade)", extra={"fields": {"min_grade": ["one of A B C D E"]}})
        qs = qs.filter(grade__in=GRADES[: GRADES.index(grade) + 1])
    if min_score is not None:
        try:
            floor = Decimal(str(min_score))
            if not floor.is_finite():
                raise ValueError
        except (ArithmeticError, ValueError) as exc:
            raise InvalidInput("分数无效 (invalid score)", extra={"fields": {"min_score": [str(min_score)]}}) from exc
        if floor > Decimal("99999"):
            return ScoreResult.objects.none()
        if floor > Decimal("-99999"):
            qs = qs.filter(score_min__gte=floor.quantize(Decimal("0.0001")))
    return qs.select_related("enterprise", "run__standard").order_by("-score_max", "enterprise__credit_code", "pk")


def standard_for_enterprise(*, enterprise: Enterprise, standard_id: str, version: str | None = None
                            ) -> StandardVersion | None:
    """The version asked for; else the version of the enterprise's latest done result under that standard;
    else the standard's latest version."""
    if version:
        return standard_get(standard_id=standard_id, version=version)
    result = (ScoreResult.objects.filter(enterprise=enterprise, run__status=ScoringRun.Status.DONE,
                                         run__standard__standard_id=standard_id)
              .select_related("run__standard").order_by("-run__evaluation_date", "-run__created_at", "-pk").first())
    return result.run.standard if result else standard_latest(standard_id=standard_id)


def enterprise_latest_results(*, user, enterprise: Enterprise) -> list[ScoreResult]:
    """The enterprise's result in the latest finished run of each standard, for summaries (home page)."""
    if not points_visible(user=user, enterprise=enterprise):
        return []
    latest: dict[str, ScoreResult] = {}
    results = (
        ScoreResult.objects.filter(enterprise=enterprise, run__status=ScoringRun.Status.DONE)
        .select_related("run__standard")
        .order_by("run__standard__standard_id", "-run__evaluation_date", "-run__created_at")
    )
    for result in results:
        latest.setdefault(result.run.standard.standard_id, result)
    return list(latest.values())
