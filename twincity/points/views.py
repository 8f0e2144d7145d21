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
from twincity.points import presentation

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENTERPRISE_TEMPLATE = "points/enterprise_points.html"
RUNS_TEMPLATE = "points/run_list.html"
RUN_TEMPLATE = "points/run_detail.html"
STANDARD_TEMPLATE = "points/standard_detail.html"


def _require_admin(user) -> None:
    if not user_is_admin(user):
        raise PermissionDenied


def _htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


# --- formatting --------------------------------------------------------------------------------------------


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
        context["summary"] = presentation.summary(
            result.verdict, result.score_min, result.score_max, result.grade
        )
        context["run"] = result.run
        context["reasons"] = presentation.reason_list(
            explanation.reasons if explanation is not None else result.reasons
        )
        context["indicators"] = (
            presentation.indicator_rows(explanation, current.definition, categories)
            if explanation is not None
            else []
        )
        context["category_rows"] = [
            {
                **c,
                "points_text": presentation.number(c.get("points"), 1),
                "max_text": presentation.number(c.get("max_points"), 1),
            }
            for c in points.categories
        ]
        context["category_data"] = {
            "labels": [c.get("name_zh") or c["id"] for c in points.categories],
            "points": [presentation.rounded(c.get("points")) for c in points.categories],
            "max_points": [presentation.rounded(c.get("max_points")) for c in points.categories],
            "series": [_("Points"), _("Maximum")],
        }
        context["form"] = _what_if_form(points)
    context["history"] = [
        {**h, **presentation.summary(h["verdict"], h["score_min"], h["score_max"], h.get("grade"))}
        for h in points.history
    ]
    context["history_data"] = {
        "dates": [h["evaluation_date"].isoformat() for h in points.history],
        "min": [presentation.rounded(h["score_min"]) for h in points.history],
        "max": [presentation.rounded(h["score_max"]) for h in points.history],
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
    definitions = presentation.indicator_definitions(points.current.definition)
    year = points.result.run.evaluation_date.year
    kinds = dict(WHAT_IF_FIGURES)
    changed_figures = [
        {
            "name": name,
            "label": figure_label(name, year),
            "old": presentation.value_text(facts.get(name), kinds.get(name, "number")),
            "new": presentation.value_text(value, kinds.get(name, "number")),
        }
        for name, value in changes.items()
    ]
    indicator_changes = []
    for old, new in zip(before.indicators, after.indicators, strict=True):
        if (old.points, old.points_min, old.points_max, old.band, old.value) == (
            new.points,
            new.points_min,
            new.points_max,
            new.band,
            new.value,
        ):
            continue
        kind = presentation.value_kind(definitions.get(old.id))
        indicator_changes.append(
            {
                "id": old.id,
                "name_zh": old.name_zh,
                "name_en": old.name_en,
                "old_value": presentation.value_text(old.value, kind),
                "new_value": presentation.value_text(new.value, kind),
                "old_band": old.band or "—",
                "new_band": new.band or "—",
                "old_points": presentation.indicator_points(old),
                "new_points": presentation.indicator_points(new),
            }
        )
    delta = None
    if None not in (before.score_min, before.score_max, after.score_min, after.score_max):
        low = float(after.score_min) - float(before.score_min)
        high = float(after.score_max) - float(before.score_max)
        delta = (
            presentation.signed(low)
            if abs(low - high) < 0.05
            else f"{presentation.signed(low)} / {presentation.signed(high)}"
        )
    return {
        "before": presentation.summary(before.verdict, before.score_min, before.score_max, before.grade),
        "after": presentation.summary(after.verdict, after.score_min, after.score_max, after.grade),
        "delta": delta,
        "figures": changed_figures,
        "indicators": indicator_changes,
        "reasons": presentation.reason_list(after.reasons),
    }


# --- scoring runs ------------------------------------------------------------------------------------------


def _run_row(run: ScoringRun) -> dict[str, Any]:
    labels = presentation.verdict_labels()
    return {
        "run": run,
        "counts": [
            {
                "verdict": verdict,
                "label": labels.get(verdict, verdict),
                "count": count,
                "badge": presentation.VERDICT_BADGES.get(verdict, ""),
            }
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
                actor=request.user,
                standard=form.cleaned_data["standard"],
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
        groups = [
            {**g, "label": g.get("label") or _label_for(group_by, g.get("key"))} for g in rankings.groups
        ]
        grade_keys = [g for g in GRADES if any((grp.get("grade_counts") or {}).get(g) for grp in groups)]
        context.update(
            {
                "groups": [
                    {
                        **g,
                        "mean_text": presentation.number(g.get("mean"), 1),
                        "median_text": presentation.number(g.get("median"), 1),
                        "p90_text": presentation.number(g.get("p90"), 1),
                        "grades_text": " · ".join(
                            f"{k} {v}" for k, v in sorted((g.get("grade_counts") or {}).items()) if v
                        ),
                    }
                    for g in groups
                ],
                "top": [
                    {
                        "rank": i,
                        "result": r,
                        "enterprise": r.enterprise,
                        "score": presentation.score_text(r.score_min, r.score_max),
                        "cluster": INDUSTRY_CLUSTERS.get(r.enterprise.industry_cluster, ("—", ""))[0],
                        **presentation.summary(r.verdict, r.score_min, r.score_max, r.grade),
                    }
                    for i, r in enumerate(list(rankings.top)[:20], start=1)
                ],
                "group_data": {
                    "labels": [g["label"] for g in groups],
                    "mean": [presentation.rounded(g.get("mean")) for g in groups],
                    "median": [presentation.rounded(g.get("median")) for g in groups],
                    "p90": [presentation.rounded(g.get("p90")) for g in groups],
                    "series": [_("Mean"), _("Median"), _("90th percentile")],
                },
                "grade_data": {
                    "labels": [g["label"] for g in groups],
                    "grades": grade_keys,
                    "counts": {
                        k: [int((g.get("grade_counts") or {}).get(k, 0)) for g in groups] for k in grade_keys
                    },
                },
                "histogram_data": {
                    "labels": [
                        f"{presentation.number(b['bucket_start'], 0)}–{presentation.number(b['bucket_end'], 0)}"
                        for b in rankings.histogram
                    ],
                    "counts": [int(b["count"]) for b in rankings.histogram],
                    "series": [_("Enterprises")],
                },
            }
        )
    template = RUN_TEMPLATE + ("#rankings" if _htmx(request) and "group_by" in request.GET else "")
    return render(request, template, context)


@login_required
@require_GET
def whitelist_export_view(request, public_id, fmt: str):
    run = _run_or_404(request.user, public_id)
    form = WhitelistForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    try:
        rows = selectors.whitelist(
            user=request.user,
            run=run,
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
    return render(
        request,
        "points/standard_list.html",
        {
            "standards": [
                {"id": sid, "versions": items, "latest": items[0]} for sid, items in standards.items()
            ],
            "is_admin": user_is_admin(request.user),
        },
    )


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
            kind = presentation.value_kind(ind)
            alts = []
            for alt in presentation.alternatives(ind):
                banding = alt.get("banding") or {}
                bands = [
                    {
                        "label": b.get("label"),
                        "range": presentation.band_range(ind, b.get("label"), kind)
                        if "equals" not in b
                        else f"= {b['equals']}",
                        "points": presentation.points_text(b.get("points")),
                    }
                    for b in banding.get("bands") or []
                    if isinstance(b, dict)
                ]
                alts.append(
                    {
                        "id": alt.get("id"),
                        "value": alt.get("value"),
                        "type": banding.get("type"),
                        "bands": bands,
                        "banding": banding,
                        "linear": presentation.linear_text(banding, kind),
                    }
                )
            members.append(
                {
                    "id": ind.get("id"),
                    "name_zh": ind.get("name_zh"),
                    "name_en": ind.get("name_en"),
                    "max_points": presentation.number(ind.get("max_points"), 2),
                    "expert_field": ind.get("expert_field"),
                    "alternatives": alts,
                    "best_of": "best_of" in ind,
                    "weights": [
                        presentation.number((weights.get(s) or {}).get(ind.get("id")), 2) for s in stages
                    ],
                }
            )
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
                    actor=request.user,
                    base=base,
                    definition=form.cleaned_data["definition"],
                    version=form.cleaned_data["version"],
                    note=form.cleaned_data.get("note") or "",
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
        form = (
            StandardVersionForm(
                initial={
                    "version": _next_version(standard_id, base.version),
                    "definition": json.dumps(base.definition, ensure_ascii=False, indent=2),
                }
            )
            if is_admin
            else None
        )
        status = 200
    versions = list(selectors.standard_versions(standard_id=standard_id))
    context = {
        "version": base,
        "versions": versions,
        "is_admin": is_admin,
        "form": form,
        "errors": errors,
        **_standard_context(base),
    }
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
        {
            "path": c["path"],
            "old": _json_text(c["old"]),
            "new": _json_text(c["new"]),
            "added": c["old"] is None,
            "removed": c["new"] is None,
        }
        for c in selectors.standard_diff(a=a, b=b)
    ]
    return render(
        request,
        "points/standard_diff.html",
        {
            "standard_id": standard_id,
            "versions": versions,
            "a": a,
            "b": b,
            "changes": changes,
        },
    )
