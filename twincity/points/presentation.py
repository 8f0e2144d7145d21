"""How points results read on the pages: numbers, ranges, bands and "what it takes to reach the next
band", in the viewer's language. Display only: every figure shown here was computed by the engine."""

from typing import Any

from django.utils.translation import gettext as _

from twincity.points.facts import YEARLY
from twincity.points.forms import WHAT_IF_FIGURES

VERDICT_BADGES = {
    "pass": "ok",
    "fail": "bad",
    "expert_dependent": "warn",
    "needs_review": "warn",
    "not_applicable": "",
}
MONEY_FACTS = (
    {name for name, kind in WHAT_IF_FIGURES if kind == "money"}
    | {f"{base}_{suffix}" for base in YEARLY for suffix in ("y1", "y2", "y3")}
    | {"rd_dom_3y", "equity_2y", "equity_3y"}
)


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


# --- an enterprise's points --------------------------------------------------------------------------------
