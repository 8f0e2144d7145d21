"""Reads of the points domain. Who may see what is decided in `access`: standards are published to every
signed-in person; runs, rankings and whitelists are administrators'; an enterprise's points are its own users'
and administrators'."""

import dataclasses
import logging
import math
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

import points_engine
from twincity.accounts.models import City
from twincity.core.caching import REGISTRY, cached
from twincity.core.errors import InvalidInput
from twincity.enterprises.fields import INDUSTRY_CLUSTERS
from twincity.enterprises.models import Enterprise
from twincity.points import access
from twincity.points.models import Application, EvaluationInput, RenewalRule, ScoreResult, ScoringRun, StandardVersion

logger = logging.getLogger(__name__)

DEFAULT_STANDARD_ID = "scp-v1"
GRADES = ("A", "B", "C", "D", "E")
GROUP_BY = {"industry_cluster": "enterprise__industry_cluster", "city": "enterprise__city", "stage": "stage"}
TOP_N = 20
HISTOGRAM_BUCKETS = 10


# --- standards ---------------------------------------------------------------------------------------------


def standard_list(*, definitions: bool = True) -> QuerySet[StandardVersion]:
    """Every stored standard version, by standard, newest first; without their definitions (the rules, several
    kB of JSON each) when `definitions` is False: the lists show names, dates and lineage."""
    versions = StandardVersion.objects.select_related("derived_from", "created_by").order_by(
        "standard_id", "-effective_from", "-created_at")
    return versions if definitions else versions.defer("definition", "derived_from__definition")


def standard_get(*, standard_id: str, version: str) -> StandardVersion | None:
    return StandardVersion.objects.filter(standard_id=standard_id, version=version).first()


def standard_latest(*, standard_id: str) -> StandardVersion | None:
    return (StandardVersion.objects.filter(standard_id=standard_id)
            .order_by("-effective_from", "-created_at", "-pk").first())


def standard_in_force(*, kind: str, on: date, application: str = Application.NEW) -> StandardVersion | None:
    """The version that judges an evaluation of this kind on this date.

    New applications: the version in force (effective_from <= on < superseded_from; the latest effective, then
    the latest derived, wins). Renewals (复核): the version an administrator configured for that year's renewals
    (RenewalRule), else the one in force.
    """
    if application == Application.RENEWAL:
        rule = RenewalRule.objects.select_related("standard").filter(kind=kind, year=on.year).first()
        if rule is not None:
            return rule.standard
    return _in_force(StandardVersion.objects.filter(kind=kind), on)


def _in_force(versions, on: date) -> StandardVersion | None:
    """The one rule: of the versions in force on the date, the latest effective; of several derived versions
    with the same effective date, the latest derived."""
    return max((v for v in versions if v.in_force_on(on)), key=lambda v: (v.effective_from, v.created_at, v.pk),
               default=None)


@dataclass
class KindInForce:
    kind: str
    name_zh: str
    name_en: str
    new: StandardVersion | None  # the version new applications are judged by
    renewal: StandardVersion | None  # the version renewals are judged by
    renewal_rule: RenewalRule | None  # the configuration behind it, if any
    superseded: list[StandardVersion]  # versions of this kind no longer in force for new applications


def kinds_in_force(*, on: date, versions: list[StandardVersion] | None = None) -> list[KindInForce]:
    """For every kind of evaluation, which version is in force on a date, for new applications and renewals,
    and why (the standards page; `versions`: the page's `standard_list()` when it has read it already)."""
    versions = list(standard_list(definitions=False)) if versions is None else versions
    rules = {r.kind: r for r in RenewalRule.objects.select_related("standard").filter(year=on.year)}
    out = []
    for kind, (name_zh, name_en) in points_engine.EVALUATION_KINDS.items():
        new = _in_force((v for v in versions if v.kind == kind), on)
        rule = rules.get(kind)
        out.append(KindInForce(
            kind=kind, name_zh=name_zh, name_en=name_en, new=new, renewal=rule.standard if rule else new,
            renewal_rule=rule,
            superseded=[v for v in versions if v.kind == kind and v.superseded_from is not None
                        and v.superseded_from <= on],
        ))
    return out


def renewal_rules() -> QuerySet[RenewalRule]:
    return RenewalRule.objects.select_related("standard", "set_by").order_by("kind", "-year")


def standard_versions(*, standard_id: str) -> QuerySet[StandardVersion]:
    return StandardVersion.objects.filter(standard_id=standard_id).order_by("effective_from", "created_at", "pk")


def standard_diff(*, a: StandardVersion, b: StandardVersion) -> list[dict[str, Any]]:
    """What changed from `a` to `b`: [{"path", "old", "new"}], paths as points_engine.diff_standards gives
    them (e.g. "indicators.ip_I.banding.bands.A.points"). The bookkeeping keys version/derived_from are kept."""
    return [{"path": path, "old": old, "new": new}
            for path, old, new in points_engine.diff_standards(a.definition, b.definition)]


# --- runs --------------------------------------------------------------------------------------------------


def run_list(*, details: bool = True) -> QuerySet[ScoringRun]:
    """Every scoring run, newest first (callers check `access.can_manage_runs`); without each run's frozen
    reference and its standard's definition (tens of kB of JSON a run) when `details` is False: the lists."""
    runs = ScoringRun.objects.select_related("standard", "started_by").order_by("-created_at", "-pk")
    return runs if details else runs.defer("reference", "standard__definition")


def run_get_visible(*, user, public_id) -> ScoringRun | None:
    """The run, if the person may see it; None for a malformed id too."""
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        return None
    run = run_list().filter(public_id=public_id).first()
    return run if run is not None and access.can_view_run(user, run) else None


# --- results -----------------------------------------------------------------------------------------------


# A run's frozen reference (the peer distribution, ~50 kB of JSON for scp-v1) is read only to re-score a result
# for its explanation, which is cached: the pages' result queries leave it out (loaded on first use).
_RUN_REFERENCE = ("run__reference",)


def _finished_results(enterprise: Enterprise) -> QuerySet[ScoreResult]:
    return ScoreResult.objects.filter(enterprise=enterprise, run__status=ScoringRun.Status.DONE)


def result_latest(*, enterprise: Enterprise, standard_id: str | None = None, version: str | None = None,
                  standard: StandardVersion | None = None) -> ScoreResult | None:
    """The one answer to "the latest finished result": the enterprise's result in the finished run with the
    latest evaluation date (then the latest started), under a standard (and version) if given."""
    results = _finished_results(enterprise)
    if standard is not None:
        results = results.filter(run__standard=standard)
    if standard_id:
        results = results.filter(run__standard__standard_id=standard_id)
    if version:
        results = results.filter(run__standard__version=version)
    return (results.select_related("run__standard", "enterprise", "snapshot").defer(*_RUN_REFERENCE)
            .order_by("-run__evaluation_date", "-run__created_at", "-pk").first())


def result_latest_per_standard(*, user, enterprise: Enterprise) -> list[ScoreResult]:
    """The enterprise's latest finished result under each standard, for summaries (home page); empty when
    the person may not see its points."""
    if not access.can_view_points(user, enterprise):
        return []
    latest: dict[str, ScoreResult] = {}
    # Summaries name the standard and show the verdict, scores and grade: no points, bands or reasons, no
    # definition, no reference.
    results = (_finished_results(enterprise).select_related("run__standard")
               .defer("points", "bands", "reasons", *_RUN_REFERENCE, "run__standard__definition")
               .order_by("run__standard__standard_id", "-run__evaluation_date", "-run__created_at", "-pk"))
    for result in results:
        latest.setdefault(result.run.standard.standard_id, result)
    return list(latest.values())


def stored_fields(*, verdict, route, score_min, score_max, grade, points, bands) -> dict[str, Any]:
    """A result's numbers as the database stores them (scores to four places, points as JSON numbers): used
    when a run saves its results and when a page proves a re-scoring equal to them."""
    return {
        "verdict": verdict,
        "route": route or "",
        "score_min": _decimal(score_min),
        "score_max": _decimal(score_max),
        "grade": grade or "",
        "points": {key: _json_number(value) for key, value in points.items()},
        "bands": dict(bands),
    }


def _decimal(value) -> Decimal | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return Decimal(repr(float(value))).quantize(Decimal("0.0001"))


def _json_number(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _stored_explanation(result: ScoreResult) -> points_engine.Explanation:
    """The explanation a page shows from the stored result alone (no re-scoring): verdict, score, grade,
    reasons and each indicator's points and band; no values or next-band hints."""
    run = result.run
    definitions = {ind.get("id"): ind for ind in run.standard.definition.get("indicators", [])
                   if isinstance(ind, dict)}
    indicators = []
    for indicator_id, points in result.points.items():
        definition = definitions.get(indicator_id, {})
        indicators.append(points_engine.IndicatorResult(
            id=indicator_id, name_zh=definition.get("name_zh", indicator_id),
            name_en=definition.get("name_en", indicator_id), category=definition.get("category", ""),
            value=None, band=result.bands.get(indicator_id), points=points, points_min=points, points_max=points,
            max_points=None,
        ))
    reasons = [tuple(part.split(" / ", 1)) if " / " in part else (part, part) for part in result.reasons]
    return points_engine.Explanation(
        standard_id=run.standard.standard_id, version=run.standard.version, verdict=result.verdict,
        route=result.route, grade=result.grade or None, reasons=reasons, indicators=indicators,
        score_min=None if result.score_min is None else float(result.score_min),
        score_max=None if result.score_max is None else float(result.score_max),
        stage=result.stage or None, peer_group=result.peer_group or None, evaluation_date=run.evaluation_date,
    )


def result_explanation(result: ScoreResult) -> tuple[points_engine.Explanation, bool]:
    """How a stored result came about, and whether that is the engine's full explanation (cached: a finished
    run's results never change; the key names the run's finish time and the engine, so a retried run or another
    engine computes its own).

    The explanation is re-scored from the result's own facts snapshot and the run's frozen reference only when
    the run was scored by this very engine (`run.engine_version`), and shown only when it is proved equal to
    the stored numbers; otherwise the stored result itself is shown (`False`), so a page never disagrees with
    its run.
    """
    run = result.run
    if run.status != ScoringRun.Status.DONE or run.finished_at is None:
        return _result_explanation(result)
    key = (f"explanation:{result.pk}:{run.pk}:{run.finished_at.isoformat()}:{run.engine_version}:"
           f"{points_engine.ENGINE_VERSION}")
    return cached(REGISTRY, key, lambda: _result_explanation(result))


def _result_explanation(result: ScoreResult) -> tuple[points_engine.Explanation, bool]:
    run = result.run
    if run.engine_version == points_engine.ENGINE_VERSION:
        explanation = points_engine.explain(
            result.facts, points_engine.Standard.from_dict(run.standard.definition),
            evaluation_date=run.evaluation_date, reference=run.reference or None, application=run.application,
        )
        row = explanation.to_row()
        rescored = stored_fields(
            verdict=row["verdict"], route=row["route"], score_min=row["score_min"], score_max=row["score_max"],
            grade=row["grade"], points={i.id: i.points for i in explanation.indicators},
            bands={i.id: i.band for i in explanation.indicators},
        )
        stored = {"verdict": result.verdict, "route": result.route, "score_min": result.score_min,
                  "score_max": result.score_max, "grade": result.grade, "points": result.points,
                  "bands": result.bands}
        if rescored == stored:
            return explanation, True
        logger.warning("result %s of run %s does not re-score equal; showing the stored result", result.pk,
                       run.public_id)
    return _stored_explanation(result), False


def evaluation_inputs(*, enterprise: Enterprise) -> QuerySet[EvaluationInput]:
    """The facts recorded for an enterprise that the registry cannot derive (callers check the access)."""
    return enterprise.evaluation_inputs.select_related("recorded_by").order_by("fact", "-year")


# --- an enterprise's points ---------------------------------------------------------------------------------


@dataclass
class EnterprisePoints:
    enterprise: Enterprise
    standards: list[StandardVersion] = field(default_factory=list)
    current: StandardVersion | None = None
    result: ScoreResult | None = None
    explanation: points_engine.Explanation | None = None
    # True: the engine's full explanation, re-scored and proved equal to the stored result; False: the stored
    # result as it is (the run was scored by another engine version).
    explained: bool = False
    categories: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def run(self) -> ScoringRun | None:
        return self.result.run if self.result else None


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


def enterprise_points(*, enterprise: Enterprise, standard_id: str | None = None, version: str | None = None,
                      kind: str | None = None, explain: bool = True) -> EnterprisePoints:
    """The enterprise's latest points for a kind of evaluation (or a standard; default: the Science City's own
    points), explained indicator by indicator, with its history under that kind (callers check
    `access.can_view_points`). The result is that of the latest finished run: a run scores under the version
    in force on its evaluation date, so srdi-2022 answers for a run dated 2026-03-31, srdi-2026 for 2026-04-01."""
    done = _finished_results(enterprise)
    # The tabs and the API's references need names and kinds, not the definitions (the current one comes with
    # the result).
    standards = list(StandardVersion.objects.filter(pk__in=done.values("run__standard_id")).defer("definition")
                     .order_by("kind", "-effective_from", "-created_at"))
    data = EnterprisePoints(enterprise=enterprise, standards=standards)
    if not standards:
        return data
    if standard_id:
        chosen = done.filter(run__standard__standard_id=standard_id)
        result = result_latest(enterprise=enterprise, standard_id=standard_id, version=version)
    else:
        default_kind = next((s.kind for s in standards if s.standard_id == DEFAULT_STANDARD_ID), standards[0].kind)
        chosen = done.filter(run__standard__kind=kind or default_kind)
        result = (chosen.select_related("run__standard", "enterprise").defer(*_RUN_REFERENCE)
                  .order_by("-run__evaluation_date", "-run__created_at", "-pk").first())
    if result is None:
        return data
    run = result.run
    data.current = run.standard
    data.result = result
    if explain:
        points_explain(data)
    data.history = [
        {"evaluation_date": row[0], "run_public_id": row[1], "standard_version": row[2], "verdict": row[3],
         "score_min": row[4], "score_max": row[5], "grade": row[6], "standard_id": row[7]}
        for row in chosen.order_by("run__evaluation_date", "run__created_at", "pk")
        .values_list("run__evaluation_date", "run__public_id", "run__standard__version", "verdict",
                     "score_min", "score_max", "grade", "run__standard__standard_id")
    ]
    return data


def points_explain(data: EnterprisePoints) -> EnterprisePoints:
    """The explanation of `data.result` and its category totals, filled in (`enterprise_points(explain=False)`
    leaves them out, for a page that keeps them rendered per result)."""
    if data.result is not None:
        data.explanation, data.explained = result_explanation(data.result)
        data.categories = category_totals(standard=data.result.run.standard, explanation=data.explanation)
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
    return {s["id"]: s["name_zh"] if "name_zh" in s else s["id"] for s in stages if isinstance(s, dict) and "id" in s}


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


def rankings(*, run: ScoringRun, group_by: str) -> Rankings:
    """Per group (cluster, city or stage): how many scored, mean / median / p90 of score_max and the grade
    counts; the top 20; a 10-bucket histogram of score_max. Results without a score are left out (callers
    check `access.can_view_run`).

    A finished run's results never change, but the groups are the enterprises' current city and cluster: the
    rankings of a finished run are cached until an audited write changes the registry (twincity.core.caching),
    under the run and its finish time (a retried run has keys of its own)."""
    if group_by not in GROUP_BY:
        raise InvalidInput("分组方式无效 (invalid group_by)",
                           extra={"fields": {"group_by": [f"one of {', '.join(GROUP_BY)}"]}})
    if run.status != ScoringRun.Status.DONE or run.finished_at is None:
        return _rankings(run, group_by)
    key = f"rankings:{run.pk}:{run.finished_at.isoformat()}:{group_by}"
    return dataclasses.replace(cached(REGISTRY, key, lambda: _rankings(run, group_by)), run=run)


def _rankings(run: ScoringRun, group_by: str) -> Rankings:
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
    *, run: ScoringRun, min_grade: str | None = None, min_score: Decimal | None = None
) -> QuerySet[ScoreResult]:
    """Results of the run that pass and reach the grade (A best … E) or the score floor (score_min), best
    first. With both, both must hold (callers check `access.can_view_run`)."""
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
    """The version asked for; else the version of the enterprise's latest finished result under that standard;
    else the standard's latest version."""
    if version:
        return standard_get(standard_id=standard_id, version=version)
    result = result_latest(enterprise=enterprise, standard_id=standard_id)
    return result.run.standard if result else standard_latest(standard_id=standard_id)
