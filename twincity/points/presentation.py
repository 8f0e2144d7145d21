"""How points results read on the pages: numbers, ranges, bands and "what it takes to reach the next
band", in the viewer's language. Display only: every figure shown here was computed by the engine."""

import json
from typing import Any

from django.utils.translation import gettext as _

import points_engine
from points_engine import FACTS
from twincity.points.facts import MONEY_FACTS

VERDICT_BADGES = {
    "pass": "ok",
    "fail": "bad",
    "expert_dependent": "warn",
    "needs_review": "warn",
    "not_applicable": "",
}


def verdict_labels() -> dict[str, str]:
    return {
        "pass": _("Pass"),
        "fail": _("Fail"),
        "expert_dependent": _("Depends on expert review"),
        "needs_review": _("Needs review"),
        "not_applicable": _("Not applicable"),
    }


def number(value: Any, places: int = 2) -> str:
    if value is None:
        return "—"
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.{places}f}".rstrip("0").rstrip(".")


def rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def linear_text(banding: dict, kind: str) -> str:
    if banding.get("type") != "linear":
        return ""
    return f"{value_text(banding.get('from'), kind)} → {value_text(banding.get('to'), kind)}"


def indicator_points(ind) -> str:
    if ind.points is not None or ind.points_min is None:
        return points_text(ind.points)
    return points_text([ind.points_min, ind.points_max])


def signed(value: float) -> str:
    return ("+" if value >= 0 else "") + number(value, 1)


def score_text(score_min: Any, score_max: Any) -> str:
    """The exact score, or [min, max] while expert input is missing."""
    if score_min is None and score_max is None:
        return "—"
    if score_min is not None and score_max is not None and float(score_min) == float(score_max):
        return number(score_min, 1)
    return f"[{number(score_min, 1)}, {number(score_max, 1)}]"


def points_text(points: Any) -> str:
    if points is None:
        return "—"
    if isinstance(points, (list, tuple)):
        return f"[{number(points[0], 1)}, {number(points[1], 1)}]"
    return number(points, 1)


def indicator_definitions(definition: dict) -> dict[str, dict]:
    indicators = definition.get("indicators", [])
    return {ind["id"]: ind for ind in indicators if isinstance(ind, dict) and "id" in ind}


def alternatives(ind: dict) -> list[dict]:
    if "best_of" in ind:
        return [alt for alt in ind["best_of"] if isinstance(alt, dict)]
    return [{"id": "main", "value": ind.get("value"), "banding": ind.get("banding") or {}}]


def value_kind(ind: dict | None) -> str:
    """How an indicator's value reads: a ratio (shown as %), money (万元), a flag or a plain number."""
    if not ind:
        return "number"
    expr = " ".join(str(alt.get("value") or "") for alt in alternatives(ind))
    if "ratio(" in expr or "growth(" in expr:
        return "ratio"
    if expr.strip() in MONEY_FACTS:
        return "money"
    if any((alt.get("banding") or {}).get("type") == "flag" for alt in alternatives(ind)):
        return "flag"
    return "number"


def value_text(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str):
        return value
    if kind == "ratio":
        return f"{float(value) * 100:.1f}%"
    if kind == "money":
        return f"{number(value)} 万元"
    return number(value)


def band_range(ind: dict | None, label: str | None, kind: str) -> str:
    """The bounds of a threshold band as written in the standard, e.g. [6%, 8%) or ≥ 10."""
    if not ind or label is None:
        return ""
    for alt in alternatives(ind):
        for band in (alt.get("banding") or {}).get("bands") or []:
            if not isinstance(band, dict) or band.get("label") != label or "equals" in band:
                continue
            lower, upper = band.get("lower"), band.get("upper")
            low_in, up_in = band.get("lower_inclusive", True), band.get("upper_inclusive", False)
            lo, hi = value_text(lower, kind), value_text(upper, kind)
            if lower is not None and upper is not None:
                return f"{'[' if low_in else '('}{lo}, {hi}{']' if up_in else ')'}"
            if lower is not None:
                return f"{'≥' if low_in else '>'} {lo}"
            if upper is not None:
                return f"{'≤' if up_in else '<'} {hi}"
    return ""


def next_band_text(ind_result, ind_def: dict | None, kind: str) -> str:
    """What it takes to reach the next band, e.g. 'Raise to 6.0% to reach band B [6%, 8%) (+4 points)'."""
    nb = ind_result.next_band
    if not nb or nb.get("value") is None:
        return ""
    target = value_text(nb["value"], kind)
    band = nb.get("label") or ""
    band_text = f"{band} {band_range(ind_def, band, kind)}".strip()
    current = ind_result.value
    raising = not isinstance(current, (int, float)) or float(nb["value"]) >= float(current)
    inclusive = nb.get("inclusive", True)
    if raising:
        template = (
            _("Raise to %(value)s to reach band %(band)s")
            if inclusive
            else _("Raise above %(value)s to reach band %(band)s")
        )
    else:
        template = (
            _("Lower to %(value)s to reach band %(band)s")
            if inclusive
            else _("Lower below %(value)s to reach band %(band)s")
        )
    text = template % {"value": target, "band": band_text}
    # Band points are written on the standard's scale (max_points of the definition); weighted standards
    # (scp) rescale each indicator to its weight, so the gain is shown on the scale of this result.
    scale = 1.0
    if ind_def and ind_def.get("max_points") and ind_result.max_points:
        scale = float(ind_result.max_points) / float(ind_def["max_points"])
    points = nb.get("points")
    now = ind_result.points if ind_result.points is not None else ind_result.points_min
    if isinstance(points, (int, float)) and now is not None:
        gain = float(points) * scale - float(now)
        if gain > 0.05:
            text += " " + _("(+%(points)s points)") % {"points": number(gain, 1)}
    elif isinstance(points, (list, tuple)):
        text += " " + _("(%(points)s points)") % {"points": points_text([p * scale for p in points])}
    return text


def indicator_rows(explanation, definition: dict, categories: dict[str, str]) -> list[dict[str, Any]]:
    definitions = indicator_definitions(definition)
    rows = []
    for ind in explanation.indicators:
        ind_def = definitions.get(ind.id)
        kind = value_kind(ind_def)
        if ind.points is not None:
            points = number(ind.points, 1)
        elif ind.points_min is not None or ind.points_max is not None:
            points = f"[{number(ind.points_min, 1)}, {number(ind.points_max, 1)}]"
        else:
            points = "—"
        rows.append(
            {
                "id": ind.id,
                "name_zh": ind.name_zh,
                "name_en": ind.name_en,
                "category": categories.get(ind.category, ind.category),
                "value": value_text(ind.value, kind),
                "band": ind.band or "—",
                "band_range": band_range(ind_def, ind.band, kind),
                "points": points,
                "max_points": number(ind.max_points, 1),
                "next": next_band_text(ind, ind_def, kind),
            }
        )
    return rows


def reason_list(reasons: Any) -> list[str]:
    if not reasons:
        return []
    if isinstance(reasons, str):
        return [part for part in reasons.split("; ") if part]
    out = []
    for reason in reasons:
        if isinstance(reason, (list, tuple)):
            out.append(" / ".join(str(part) for part in reason if part))
        else:
            out.append(str(reason))
    return out


def summary(verdict: str, score_min: Any, score_max: Any, grade: str | None) -> dict[str, Any]:
    return {
        "verdict": verdict,
        "verdict_label": verdict_labels().get(verdict, verdict),
        "badge": VERDICT_BADGES.get(verdict, ""),
        "score": score_text(score_min, score_max),
        "is_range": score_min is not None and score_max is not None and float(score_min) != float(score_max),
        "grade": grade or "—",
    }


# --- page view models: what each template shows, shaped from selector results ----------------------------------


def enterprise_page(points, *, current, can_what_if: bool, can_manage_runs: bool, form) -> dict[str, Any]:
    """The enterprise points page: summary, categories, reasons, indicator rows, history."""
    categories = {c["id"]: c.get("name_zh") or c["id"] for c in points.categories}
    result, explanation = points.result, points.explanation
    context: dict[str, Any] = {
        "points": points,
        "current": current,
        # One tab per kind of evaluation (srdi-2022 and srdi-2026 are one tab: the latest run decides).
        "tabs": kind_tabs(points.standards),
        "result": result,
        "explained": points.explained,
        "can_manage_runs": can_manage_runs,
        "may_what_if": result is not None and can_what_if,
    }
    if result is not None:
        context["summary"] = summary(result.verdict, result.score_min, result.score_max, result.grade)
        context["run"] = result.run
        context["reasons"] = reason_list(explanation.reasons if explanation is not None else result.reasons)
        context["indicators"] = indicator_rows(explanation, current.definition, categories) if explanation else []
        context["conditions"] = condition_rows(explanation) if explanation else []
        context["conditions_met"] = sum(1 for c in context["conditions"] if c["state"] == "met")
        context["category_rows"] = [
            {**c, "points_text": number(c.get("points"), 1), "max_text": number(c.get("max_points"), 1)}
            for c in points.categories
        ]
        context["category_data"] = {
            "labels": [c.get("name_zh") or c["id"] for c in points.categories],
            "points": [rounded(c.get("points")) for c in points.categories],
            "max_points": [rounded(c.get("max_points")) for c in points.categories],
            "series": [_("Points"), _("Maximum")],
        }
        context["form"] = form
    context["history"] = [
        {**h, **summary(h["verdict"], h["score_min"], h["score_max"], h.get("grade"))} for h in points.history
    ]
    context["history_scored"] = any(h["score_max"] is not None for h in points.history)
    context["history_data"] = {
        "dates": [h["evaluation_date"].isoformat() for h in points.history],
        "min": [rounded(h["score_min"]) for h in points.history],
        "max": [rounded(h["score_max"]) for h in points.history],
        "series": [_("Lowest score"), _("Highest score")],
    }
    return context


def condition_rows(explanation) -> list[dict[str, Any]]:
    """Each hard condition (and direct route) as tested: met, failed or unknown, with the values it read."""
    rows = []
    for condition in getattr(explanation, "conditions", None) or []:
        rows.append({
            "id": condition.id, "name_zh": condition.name_zh, "name_en": condition.name_en,
            "state": {True: "met", False: "failed", None: "unknown"}[condition.met],
            "values": [{"name": name, "label": fact_label(name), "text": value_text(value, fact_kind(name))}
                       for name, value in condition.values.items()],
        })
    return rows


def fact_label(name: str) -> str:
    spec = FACTS.get(name)
    return spec.label_zh if spec else name


def fact_kind(name: str) -> str:
    spec = FACTS.get(name)
    if spec is None:
        return "number"
    return {"万元": "money", "ratio": "ratio"}.get(spec.unit, "number")


def kind_tabs(standards) -> list[dict[str, Any]]:
    """One tab per kind of evaluation among the standards an enterprise has results under, in the order of
    points_engine.EVALUATION_KINDS."""
    present = {s.kind for s in standards}
    return [{"kind": kind, "name_zh": zh, "name_en": en}
            for kind, (zh, en) in points_engine.EVALUATION_KINDS.items() if kind in present]


def what_if_result(before, after, changes: dict, facts: dict, *, definition: dict, evaluation_year: int,
                   figure_label, figure_kind) -> dict[str, Any]:
    """The what-if partial: the figures changed, the indicators whose value, band or points moved, the new
    score and reasons."""
    definitions = indicator_definitions(definition)
    changed_figures = [
        {"name": name, "label": figure_label(name, evaluation_year),
         "old": value_text(facts.get(name), figure_kind(name)), "new": value_text(value, figure_kind(name))}
        for name, value in changes.items()
    ]
    indicator_changes = []
    for old, new in zip(before.indicators, after.indicators, strict=True):
        if (old.points, old.points_min, old.points_max, old.band, old.value) == (
            new.points, new.points_min, new.points_max, new.band, new.value
        ):
            continue
        kind = value_kind(definitions.get(old.id))
        indicator_changes.append({
            "id": old.id, "name_zh": old.name_zh, "name_en": old.name_en,
            "old_value": value_text(old.value, kind), "new_value": value_text(new.value, kind),
            "old_band": old.band or "—", "new_band": new.band or "—",
            "old_points": indicator_points(old), "new_points": indicator_points(new),
        })
    delta = None
    if None not in (before.score_min, before.score_max, after.score_min, after.score_max):
        low = float(after.score_min) - float(before.score_min)
        high = float(after.score_max) - float(before.score_max)
        delta = signed(low) if abs(low - high) < 0.05 else f"{signed(low)} / {signed(high)}"
    return {
        "before": summary(before.verdict, before.score_min, before.score_max, before.grade),
        "after": summary(after.verdict, after.score_min, after.score_max, after.grade),
        "delta": delta,
        "figures": changed_figures,
        "indicators": indicator_changes,
        "reasons": reason_list(after.reasons),
    }


def run_row(run) -> dict[str, Any]:
    labels = verdict_labels()
    return {
        "run": run,
        "counts": [
            {"verdict": verdict, "label": labels.get(verdict, verdict), "count": count,
             "badge": VERDICT_BADGES.get(verdict, "")}
            for verdict, count in sorted((run.verdict_counts or {}).items())
        ],
        "active": run.status in ("pending", "running"),
        "duration": None if run.duration_seconds is None else f"{run.duration_seconds:.1f} s",
    }


def rankings_page(rankings, *, cluster_labels: dict[str, str], grades, tiers: dict | None = None) -> dict[str, Any]:
    """Rankings of a finished run: group table and charts, the top 20 (with the 科技和创新型 tier each holds on the
    evaluation date, and why), the histogram."""
    tiers = tiers or {}
    groups = rankings.groups
    grade_keys = [g for g in grades if any((grp.get("grade_counts") or {}).get(g) for grp in groups)]
    return {
        "groups": [
            {**g, "mean_text": number(g.get("mean"), 1), "median_text": number(g.get("median"), 1),
             "p90_text": number(g.get("p90"), 1),
             "grades_text": " · ".join(f"{k} {v}" for k, v in sorted((g.get("grade_counts") or {}).items()) if v)}
            for g in groups
        ],
        "top": [
            {"rank": i, "result": r, "enterprise": r.enterprise, "score": score_text(r.score_min, r.score_max),
             "cluster": cluster_labels.get(r.enterprise.industry_cluster, "—"),
             "tier": tiers.get(r.enterprise_id),
             **summary(r.verdict, r.score_min, r.score_max, r.grade)}
            for i, r in enumerate(list(rankings.top)[:20], start=1)
        ],
        "group_data": {
            "labels": [g["label"] for g in groups],
            "mean": [rounded(g.get("mean")) for g in groups],
            "median": [rounded(g.get("median")) for g in groups],
            "p90": [rounded(g.get("p90")) for g in groups],
            "series": [_("Mean"), _("Median"), _("90th percentile")],
        },
        "grade_data": {
            "labels": [g["label"] for g in groups],
            "grades": grade_keys,
            "counts": {k: [int((g.get("grade_counts") or {}).get(k, 0)) for g in groups] for k in grade_keys},
        },
        "histogram_data": {
            "labels": [f"{number(b['bucket_start'], 0)}–{number(b['bucket_end'], 0)}" for b in rankings.histogram],
            "counts": [int(b["count"]) for b in rankings.histogram],
            "series": [_("Enterprises")],
        },
    }


def standard_page(version) -> dict[str, Any]:
    """A standard version shaped for reading: categories with their indicators and banding tables."""
    d = version.definition
    indicators = d.get("indicators", [])
    peer = d.get("peer_groups") if isinstance(d.get("peer_groups"), dict) else None
    stages = [s.get("id") for s in (peer or {}).get("stages", [])]
    weights = (peer or {}).get("stage_weights") or {}
    categories = []
    for cat in d.get("categories", []):
        members = []
        for ind in indicators:
            if ind.get("category") != cat.get("id"):
                continue
            kind = value_kind(ind)
            alts = []
            for alt in alternatives(ind):
                banding = alt.get("banding") or {}
                bands = [
                    {"label": b.get("label"),
                     "range": band_range(ind, b.get("label"), kind) if "equals" not in b else f"= {b['equals']}",
                     "points": points_text(b.get("points"))}
                    for b in banding.get("bands") or []
                    if isinstance(b, dict)
                ]
                alts.append({"id": alt.get("id"), "value": alt.get("value"), "type": banding.get("type"),
                             "bands": bands, "banding": banding, "linear": linear_text(banding, kind)})
            members.append({
                "id": ind.get("id"), "name_zh": ind.get("name_zh"), "name_en": ind.get("name_en"),
                "max_points": number(ind.get("max_points"), 2), "expert_field": ind.get("expert_field"),
                "alternatives": alts, "best_of": "best_of" in ind,
                "weights": [number((weights.get(s) or {}).get(ind.get("id")), 2) for s in stages],
            })
        categories.append({**cat, "indicators": members})
    return {
        "definition": d,
        "categories": categories,
        "conditions": d.get("conditions") or [],
        "direct_routes": d.get("direct_routes") or [],
        "grades": d.get("grades") or [],
        "score": d.get("score") or {},
        "stages": (peer or {}).get("stages") or [],
        "peer": peer,
    }


def next_version(version: str, taken: set[str]) -> str:
    """The version number offered for a new version derived from `version`."""
    parts = version.split(".")
    candidate = str(int(parts[0]) + 1) if parts[0].isdigit() else f"{version}.1"
    while candidate in taken:
        candidate = str(int(candidate) + 1) if candidate.isdigit() else f"{candidate}.1"
    return candidate


def diff_rows(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def text(value: Any) -> str:
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    return [{"path": c["path"], "old": text(c["old"]), "new": text(c["new"]), "added": c["old"] is None,
             "removed": c["new"] is None} for c in changes]
