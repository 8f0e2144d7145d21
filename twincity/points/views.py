"""The innovation-points pages: an enterprise's points and what-if, scoring runs with rankings and the
whitelist export, and the scoring standards with their editor and diff.

Each view validates its input, calls one selector or service, and shapes what it returns for the template.
"""

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from twincity.accounts.selectors import user_is_admin
from twincity.core.errors import Forbidden, InvalidInput, NotFound
from twincity.enterprises.fields import INDUSTRY_CLUSTERS
from twincity.enterprises.selectors import enterprise_get_visible, enterprise_list_editable
from twincity.points import selectors, services
from twincity.points.forms import (
    GRADES,
    GROUP_BYS,
    WHAT_IF_FIGURES,
    RankingsForm,
    RunStartForm,
    StandardVersionForm,
    WhatIfForm,
    WhitelistForm,
    figure_label,
)
from twincity.points.models import ScoringRun

ENTERPRISE_TEMPLATE = "points/enterprise_points.html"
RUNS_TEMPLATE = "points/run_list.html"
RUN_TEMPLATE = "points/run_detail.html"
STANDARD_TEMPLATE = "points/standard_detail.html"

VERDICT_BADGES = {"pass": "ok", "fail": "bad", "expert_dependent": "warn", "needs_review": "warn",
                  "not_applicable": ""}
YEARLY_MONEY = ("sales", "oprev", "main", "na", "assets", "liab", "rd", "cost", "total_income", "hitech_rev",
                "net_profit", "tax", "tech_contract")
MONEY_FACTS = (
    {name for name, kind in WHAT_IF_FIGURES if kind == "money"}
    | {f"{base}_{suffix}" for base in YEARLY_MONEY for suffix in ("y1", "y2", "y3")}
    | {"rd_dom_3y", "equity_2y", "equity_3y"}
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _verdict_labels() -> dict[str, str]:
    return {
        "pass": _("Pass"), "fail": _("Fail"), "expert_dependent": _("Depends on expert review"),
        "needs_review": _("Needs review"), "not_applicable": _("Not applicable"),
    }


def _require_admin(user) -> None:
    if not user_is_admin(user):
        raise PermissionDenied


def _htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


# --- formatting --------------------------------------------------------------------------------------------


def _number(value: Any, places: int = 2) -> str:
    if value is None:
        return "—"
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.{places}f}".rstrip("0").rstrip(".")


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _linear_text(banding: dict, kind: str) -> str:
    if banding.get("type") != "linear":
        return ""
    return f"{_value_text(banding.get('from'), kind)} → {_value_text(banding.get('to'), kind)}"


def _indicator_points(ind) -> str:
    if ind.points is not None or ind.points_min is None:
        return _points_text(ind.points)
    return _points_text([ind.points_min, ind.points_max])


def _signed(value: float) -> str:
    return ("+" if value >= 0 else "") + _number(value, 1)


def _score_text(score_min: Any, score_max: Any) -> str:
    """The exact score, or [min, max] while expert input is missing."""
    if score_min is None and score_max is None:
        return "—"
    if score_min is not None and score_max is not None and float(score_min) == float(score_max):
        return _number(score_min, 1)
    return f"[{_number(score_min, 1)}, {_number(score_max, 1)}]"


def _points_text(points: Any) -> str:
    if points is None:
        return "—"
    if isinstance(points, (list, tuple)):
        return f"[{_number(points[0], 1)}, {_number(points[1], 1)}]"
    return _number(points, 1)


def _indicator_definitions(definition: dict) -> dict[str, dict]:
    indicators = definition.get("indicators", [])
    return {ind["id"]: ind for ind in indicators if isinstance(ind, dict) and "id" in ind}


def _alternatives(ind: dict) -> list[dict]:
    if "best_of" in ind:
        return [alt for alt in ind["best_of"] if isinstance(alt, dict)]
    return [{"id": "main", "value": ind.get("value"), "banding": ind.get("banding") or {}}]


def _value_kind(ind: dict | None) -> str:
    """How an indicator's value reads: a ratio (shown as %), money (万元), a flag or a plain number."""
    if not ind:
        return "number"
    expr = " ".join(str(alt.get("value") or "") for alt in _alternatives(ind))
    if "ratio(" in expr or "growth(" in expr:
        return "ratio"
    if expr.strip() in MONEY_FACTS:
        return "money"
    if any((alt.get("banding") or {}).get("type") == "flag" for alt in _alternatives(ind)):
        return "flag"
    return "number"


def _value_text(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str):
        return value
    if kind == "ratio":
        return f"{float(value) * 100:.1f}%"
    if kind == "money":
        return f"{_number(value)} 万元"
    return _number(value)


def _band_range(ind: dict | None, label: str | None, kind: str) -> str:
    """The bounds of a threshold band as written in the standard, e.g. [6%, 8%) or ≥ 10."""
    if not ind or label is None:
        return ""
    for alt in _alternatives(ind):
        for band in (alt.get("banding") or {}).get("bands") or []:
            if not isinstance(band, dict) or band.get("label") != label or "equals" in band:
                continue
            lower, upper = band.get("lower"), band.get("upper")
            low_in, up_in = band.get("lower_inclusive", True), band.get("upper_inclusive", False)
            lo, hi = _value_text(lower, kind), _value_text(upper, kind)
            if lower is not None and upper is not None:
                return f"{'[' if low_in else '('}{lo}, {hi}{']' if up_in else ')'}"
            if lower is not None:
                return f"{'≥' if low_in else '>'} {lo}"
            if upper is not None:
                return f"{'≤' if up_in else '<'} {hi}"
    return ""


def _next_band_text(ind_result, ind_def: dict | None, kind: str) -> str:
    """What it takes to reach the next band, e.g. 'Raise to 6.0% to reach band B [6%, 8%) (+4 points)'."""
    nb = ind_result.next_band
    if not nb or nb.get("value") is None:
        return ""
    target = _value_text(nb["value"], kind)
    band = nb.get("label") or ""
    band_text = f"{band} {_band_range(ind_def, band, kind)}".strip()
    current = ind_result.value
    raising = not isinstance(current, (int, float)) or float(nb["value"]) >= float(current)
    inclusive = nb.get("inclusive", True)
    if raising:
        template = _("Raise to %(value)s to reach band %(band)s") if inclusive else _(
            "Raise above %(value)s to reach band %(band)s")
    else:
        template = _("Lower to %(value)s to reach band %(band)s") if inclusive else _(
            "Lower below %(value)s to reach band %(band)s")
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
            text += " " + _("(+%(points)s points)") % {"points": _number(gain, 1)}
    elif isinstance(points, (list, tuple)):
        text += " " + _("(%(points)s points)") % {"points": _points_text([p * scale for p in points])}
    return text


def _indicator_rows(explanation, definition: dict, categories: dict[str, str]) -> list[dict[str, Any]]:
    definitions = _indicator_definitions(definition)
    rows = []
    for ind in explanation.indicators:
        ind_def = definitions.get(ind.id)
        kind = _value_kind(ind_def)
        if ind.points is not None:
            points = _number(ind.points, 1)
        elif ind.points_min is not None or ind.points_max is not None:
            points = f"[{_number(ind.points_min, 1)}, {_number(ind.points_max, 1)}]"
        else:
            points = "—"
        rows.append({
            "id": ind.id,
            "name_zh": ind.name_zh,
            "name_en": ind.name_en,
            "category": categories.get(ind.category, ind.category),
            "value": _value_text(ind.value, kind),
            "band": ind.band or "—",
            "band_range": _band_range(ind_def, ind.band, kind),
            "points": points,
            "max_points": _number(ind.max_points, 1),
            "next": _next_band_text(ind, ind_def, kind),
        })
    return rows


def _reason_list(reasons: Any) -> list[str]:
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


def _summary(verdict: str, score_min: Any, score_max: Any, grade: str | None) -> dict[str, Any]:
    return {
        "verdict": verdict,
        "verdict_label": _verdict_labels().get(verdict, verdict),
        "badge": VERDICT_BADGES.get(verdict, ""),
        "score": _score_text(score_min, score_max),
        "is_range": score_min is not None and score_max is not None and float(score_min) != float(score_max),
        "grade": grade or "—",
    }


# --- an enterprise's points --------------------------------------------------------------------------------


def _enterprise_or_404(user, credit_code: str):
    enterprise = enterprise_get_visible(user=user, credit_code=credit_code)
    if enterprise is None:
        raise Http404
    return enterprise


def _points_or_404(user, enterprise, standard_id: str | None):
    points = selectors.enterprise_points(user=user, enterprise=enterprise, standard_id=standard_id or None)
    if points is None:
        raise Http404
    return points


def _what_if_form(points, data=None) -> WhatIfForm:
    facts = dict(points.result.facts) if points.result is not None else {}
    year = points.result.run.evaluation_date.year if points.result is not None else None
    return WhatIfForm(data, facts=facts, evaluation_year=year)


@login_required
def my_points_view(request):
    enterprise = enterprise_list_editable(user=request.user).order_by("pk").first()
    if enterprise is None:
        raise Http404
    return redirect("points:enterprise", credit_code=enterprise.credit_code)


def _enterprise_context(request, enterprise, points) -> dict[str, Any]:
    # Without a result there is no version to show: name the standard asked for (or the default).
    asked = request.GET.get("standard") or request.POST.get("standard")
    current = points.current or selectors.standard_latest(standard_id=asked or selectors.DEFAULT_STANDARD_ID)
    categories = {c["id"]: c.get("name_zh") or c["id"] for c in points.categories}
    result, explanation = points.result, points.explanation
    context: dict[str, Any] = {
        "enterprise": enterprise,
        "points": points,
        "current": current,
        # One tab per standard (a standard with results under several versions shows its latest).
        "standards": list({s.standard_id: s for s in reversed(points.standards)}.values())[::-1],
        "result": result,
        "is_admin": user_is_admin(request.user),
        "may_what_if": result is not None
        and enterprise_list_editable(user=request.user).filter(pk=enterprise.pk).exists(),
    }
    if result is not None:
        context["summary"] = _summary(result.verdict, result.score_min, result.score_max, result.grade)
        context["run"] = result.run
        context["reasons"] = _reason_list(explanation.reasons if explanation is not None else result.reasons)
        context["indicators"] = (
            _indicator_rows(explanation, current.definition, categories) if explanation is not None else []
        )
        context["category_rows"] = [
            {**c, "points_text": _number(c.get("points"), 1), "max_text": _number(c.get("max_points"), 1)}
            for c in points.categories
        ]
        context["category_data"] = {
            "labels": [c.get("name_zh") or c["id"] for c in points.categories],
            "points": [_rounded(c.get("points")) for c in points.categories],
            "max_points": [_rounded(c.get("max_points")) for c in points.categories],
            "series": [_("Points"), _("Maximum")],
        }
        context["form"] = _what_if_form(points)
    context["history"] = [
        {**h, **_summary(h["verdict"], h["score_min"], h["score_max"], h.get("grade"))}
        for h in points.history
    ]
    context["history_data"] = {
        "dates": [h["evaluation_date"].isoformat() for h in points.history],
        "min": [_rounded(h["score_min"]) for h in points.history],
        "max": [_rounded(h["score_max"]) for h in points.history],
        "series": [_("Lowest score"), _("Highest score")],
    }
    return context


@login_required
@require_GET
def enterprise_points_view(request, credit_code: str):
    enterprise = _enterprise_or_404(request.user, credit_code)
    points = _points_or_404(request.user, enterprise, request.GET.get("standard"))
    return render(request, ENTERPRISE_TEMPLATE, _enterprise_context(request, enterprise, points))


@login_required
@require_POST
def what_if_view(request, credit_code: str):
    """Score changed figures without saving anything; answers the what-if partial (or the whole page)."""
    enterprise = _enterprise_or_404(request.user, credit_code)
    points = _points_or_404(request.user, enterprise, request.POST.get("standard"))
    if points.result is None:
        raise Http404
    form = _what_if_form(points, request.POST)
    context: dict[str, Any] = {}
    if form.is_valid():
        changes = form.changes()
        try:
            before, after = services.what_if(
                user=request.user, enterprise=enterprise, standard=points.current, changes=changes
            )
        except Forbidden:
            raise PermissionDenied from None
        except NotFound:
            raise Http404 from None
        except InvalidInput as exc:
            context["what_if_error"] = exc.message
            context["what_if_field_errors"] = [
                f"{figure_label(name)}: {', '.join(map(str, messages))}"
                for name, messages in (exc.extra.get("fields") or {}).items()
            ]
        else:
            context["what_if"] = _what_if_context(before, after, changes, form.facts, points)
    if _htmx(request):
        context.update({"enterprise": enterprise, "current": points.current, "form": form})
        return render(request, ENTERPRISE_TEMPLATE + "#what-if-result", context)
    page = _enterprise_context(request, enterprise, points)
    page.update(context, form=form)
    return render(request, ENTERPRISE_TEMPLATE, page)


def _what_if_context(before, after, changes: dict, facts: dict, points) -> dict[str, Any]:
    definitions = _indicator_definitions(points.current.definition)
    year = points.result.run.evaluation_date.year
    kinds = dict(WHAT_IF_FIGURES)
    changed_figures = [
        {"name": name, "label": figure_label(name, year),
         "old": _value_text(facts.get(name), kinds.get(name, "number")),
         "new": _value_text(value, kinds.get(name, "number"))}
        for name, value in changes.items()
    ]
    indicator_changes = []
    for old, new in zip(before.indicators, after.indicators, strict=True):
        if (old.points, old.points_min, old.points_max, old.band, old.value) == (
            new.points, new.points_min, new.points_max, new.band, new.value
        ):
            continue
        kind = _value_kind(definitions.get(old.id))
        indicator_changes.append({
            "id": old.id, "name_zh": old.name_zh, "name_en": old.name_en,
            "old_value": _value_text(old.value, kind), "new_value": _value_text(new.value, kind),
            "old_band": old.band or "—", "new_band": new.band or "—",
            "old_points": _indicator_points(old),
            "new_points": _indicator_points(new),
        })
    delta = None
    if None not in (before.score_min, before.score_max, after.score_min, after.score_max):
        low = float(after.score_min) - float(before.score_min)
        high = float(after.score_max) - float(before.score_max)
        delta = _signed(low) if abs(low - high) < 0.05 else f"{_signed(low)} / {_signed(high)}"
    return {
        "before": _summary(before.verdict, before.score_min, before.score_max, before.grade),
        "after": _summary(after.verdict, after.score_min, after.score_max, after.grade),
        "delta": delta,
        "figures": changed_figures,
        "indicators": indicator_changes,
        "reasons": _reason_list(after.reasons),
    }


# --- scoring runs ------------------------------------------------------------------------------------------


def _run_row(run: ScoringRun) -> dict[str, Any]:
    labels = _verdict_labels()
    return {
        "run": run,
        "counts": [
            {"verdict": verdict, "label": labels.get(verdict, verdict), "count": count,
             "badge": VERDICT_BADGES.get(verdict, "")}
            for verdict, count in sorted((run.verdict_counts or {}).items())
        ],
        "active": run.status in (ScoringRun.Status.PENDING, ScoringRun.Status.RUNNING),
        "duration": None if run.duration_seconds is None else f"{run.duration_seconds:.1f} s",
    }


@login_required
@require_http_methods(["GET", "POST"])
def run_list_view(request):
    _require_admin(request.user)
    standards = list(selectors.standard_list())
    form = RunStartForm(request.POST or None, standards=standards)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.scoring_run_create(
                actor=request.user, standard=form.cleaned_data["standard"],
                evaluation_date=form.cleaned_data["evaluation_date"],
            )
            services.scoring_run_start(run=run)
        except Forbidden:
            raise PermissionDenied from None
        except InvalidInput as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("points:runs")
    runs = [_run_row(run) for run in selectors.run_list_visible(user=request.user)[:100]]
    return render(request, RUNS_TEMPLATE, {"form": form, "rows": runs})


def _run_or_404(user, public_id):
    _require_admin(user)
    run = selectors.run_get_visible(user=user, public_id=public_id)
    if run is None:
        raise Http404
    return run


@login_required
@require_GET
def run_row_view(request, public_id):
    """The polling partial of one run: its row in the list, or its status card on the detail page."""
    run = _run_or_404(request.user, public_id)
    row = _run_row(run)
    if request.GET.get("on") == "detail":
        response = render(request, RUN_TEMPLATE + "#run-status", {"row": row, "run": run})
        if not row["active"]:
            response["HX-Refresh"] = "true"
        return response
    return render(request, RUNS_TEMPLATE + "#run-row", {"row": row})


def _label_for(group_by: str, key: Any) -> str:
    if group_by == "industry_cluster":
        return INDUSTRY_CLUSTERS.get(key, (str(key), ""))[0]
    if group_by == "city":
        return {"chongqing": "重庆", "chengdu": "成都"}.get(key, str(key))
    if group_by == "stage":
        return {"startup": "初创期", "growth": "成长期", "mature": "稳定期"}.get(key, str(key or "—"))
    return str(key)


@login_required
@require_GET
def run_detail_view(request, public_id):
    run = _run_or_404(request.user, public_id)
    rankings_form = RankingsForm(request.GET or None)
    group_by = "industry_cluster"
    if rankings_form.is_valid() and rankings_form.cleaned_data.get("group_by"):
        group_by = rankings_form.cleaned_data["group_by"]
    context: dict[str, Any] = {
        "run": run,
        "row": _run_row(run),
        "group_by": group_by,
        "group_bys": GROUP_BYS,
        "grades": GRADES,
        "whitelist_form": WhitelistForm(),
    }
    if run.status == ScoringRun.Status.DONE:
        try:
            rankings = selectors.rankings(user=request.user, run=run, group_by=group_by)
        except Forbidden:
            raise PermissionDenied from None
        groups = [{**g, "label": g.get("label") or _label_for(group_by, g.get("key"))}
                  for g in rankings.groups]
        grade_keys = [g for g in GRADES if any((grp.get("grade_counts") or {}).get(g) for grp in groups)]
        context.update({
            "groups": [{**g, "mean_text": _number(g.get("mean"), 1),
                        "median_text": _number(g.get("median"), 1), "p90_text": _number(g.get("p90"), 1),
                        "grades_text": " · ".join(
                            f"{k} {v}" for k, v in sorted((g.get("grade_counts") or {}).items()) if v)}
                       for g in groups],
            "top": [{"rank": i, "result": r, "enterprise": r.enterprise,
                     "score": _score_text(r.score_min, r.score_max),
                     "cluster": INDUSTRY_CLUSTERS.get(r.enterprise.industry_cluster, ("—", ""))[0],
                     **_summary(r.verdict, r.score_min, r.score_max, r.grade)}
                    for i, r in enumerate(list(rankings.top)[:20], start=1)],
            "group_data": {
                "labels": [g["label"] for g in groups],
                "mean": [_rounded(g.get("mean")) for g in groups],
                "median": [_rounded(g.get("median")) for g in groups],
                "p90": [_rounded(g.get("p90")) for g in groups],
                "series": [_("Mean"), _("Median"), _("90th percentile")],
            },
            "grade_data": {
                "labels": [g["label"] for g in groups],
                "grades": grade_keys,
                "counts": {k: [int((g.get("grade_counts") or {}).get(k, 0)) for g in groups]
                           for k in grade_keys},
            },
            "histogram_data": {
                "labels": [f"{_number(b['bucket_start'], 0)}–{_number(b['bucket_end'], 0)}"
                           for b in rankings.histogram],
                "counts": [int(b["count"]) for b in rankings.histogram],
                "series": [_("Enterprises")],
            },
        })
    template = RUN_TEMPLATE + ("#rankings" if _htmx(request) and "group_by" in request.GET else "")
    return render(request, template, context)


@login_required
@require_GET
def whitelist_export_view(request, public_id, fmt: str):
    run = _run_or_404(request.user, public_id)
    form = WhitelistForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()), status=400,
            content_type="text/plain; charset=utf-8",
        )
    try:
        rows = selectors.whitelist(
            user=request.user, run=run,
            min_grade=form.cleaned_data.get("min_grade") or None,
            min_score=form.cleaned_data.get("min_score"),
        )
        body = services.whitelist_export(rows=rows, fmt=fmt)
    except Forbidden:
        raise PermissionDenied from None
    except InvalidInput as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    standard = run.standard
    filename = f"whitelist-{standard.standard_id}-{standard.version}-{run.evaluation_date.isoformat()}.{fmt}"
    response = HttpResponse(body, content_type="text/csv; charset=utf-8" if fmt == "csv" else XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- scoring standards -------------------------------------------------------------------------------------


@login_required
@require_GET
def standard_list_view(request):
    versions = list(selectors.standard_list())
    standards: dict[str, list] = {}
    for version in versions:
        standards.setdefault(version.standard_id, []).append(version)
    return render(request, "points/standard_list.html", {
        "standards": [{"id": sid, "versions": items, "latest": items[0]} for sid, items in standards.items()],
        "is_admin": user_is_admin(request.user),
    })


def _next_version(standard_id: str, version: str) -> str:
    taken = {v.version for v in selectors.standard_versions(standard_id=standard_id)}
    parts = version.split(".")
    candidate = str(int(parts[0]) + 1) if parts[0].isdigit() else f"{version}.1"
    while candidate in taken:
        candidate = str(int(candidate) + 1) if candidate.isdigit() else f"{candidate}.1"
    return candidate


def _standard_context(version) -> dict[str, Any]:
    """The definition shaped for reading: categories with their indicators and banding tables."""
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
            kind = _value_kind(ind)
            alts = []
            for alt in _alternatives(ind):
                banding = alt.get("banding") or {}
                bands = [
                    {"label": b.get("label"), "range": _band_range(ind, b.get("label"), kind)
                     if "equals" not in b else f"= {b['equals']}", "points": _points_text(b.get("points"))}
                    for b in banding.get("bands") or [] if isinstance(b, dict)
                ]
                alts.append({"id": alt.get("id"), "value": alt.get("value"), "type": banding.get("type"),
                             "bands": bands, "banding": banding,
                             "linear": _linear_text(banding, kind)})
            members.append({
                "id": ind.get("id"), "name_zh": ind.get("name_zh"), "name_en": ind.get("name_en"),
                "max_points": _number(ind.get("max_points"), 2), "expert_field": ind.get("expert_field"),
                "alternatives": alts, "best_of": "best_of" in ind,
                "weights": [_number((weights.get(s) or {}).get(ind.get("id")), 2) for s in stages],
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


@login_required
@require_http_methods(["GET", "POST"])
def standard_detail_view(request, standard_id: str, version: str):
    base = selectors.standard_get(standard_id=standard_id, version=version)
    if base is None:
        raise Http404
    is_admin = user_is_admin(request.user)
    errors: list[str] = []
    if request.method == "POST":
        _require_admin(request.user)
        form = StandardVersionForm(request.POST)
        if form.is_valid():
            try:
                created = services.standard_version_create(
                    actor=request.user, base=base, definition=form.cleaned_data["definition"],
                    version=form.cleaned_data["version"], note=form.cleaned_data.get("note") or "",
                )
            except Forbidden:
                raise PermissionDenied from None
            except InvalidInput as exc:
                errors = [exc.message, *(str(e) for e in exc.extra.get("errors") or [])]
                for field, messages in (exc.extra.get("fields") or {}).items():
                    errors.extend(f"{field}: {m}" for m in messages)
            else:
                url = reverse("points:standard-diff", args=[standard_id])
                return redirect(f"{url}?a={base.version}&b={created.version}")
        status = 422
    else:
        form = StandardVersionForm(initial={
            "version": _next_version(standard_id, base.version),
            "definition": json.dumps(base.definition, ensure_ascii=False, indent=2),
        }) if is_admin else None
        status = 200
    versions = list(selectors.standard_versions(standard_id=standard_id))
    context = {"version": base, "versions": versions, "is_admin": is_admin, "form": form, "errors": errors,
               **_standard_context(base)}
    return render(request, STANDARD_TEMPLATE, context, status=status)


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@login_required
@require_GET
def standard_diff_view(request, standard_id: str):
    versions = list(selectors.standard_versions(standard_id=standard_id))
    if not versions:
        raise Http404
    by_number = {v.version: v for v in versions}
    a = by_number.get(request.GET.get("a", ""))
    b = by_number.get(request.GET.get("b", ""))
    if a is None or b is None:
        ordered = sorted(versions, key=lambda v: v.created_at)
        a = a or (ordered[-2] if len(ordered) > 1 else ordered[0])
        b = b or ordered[-1]
    changes = [
        {"path": c["path"], "old": _json_text(c["old"]), "new": _json_text(c["new"]),
         "added": c["old"] is None, "removed": c["new"] is None}
        for c in selectors.standard_diff(a=a, b=b)
    ]
    return render(request, "points/standard_diff.html", {
        "standard_id": standard_id, "versions": versions, "a": a, "b": b, "changes": changes,
    })
