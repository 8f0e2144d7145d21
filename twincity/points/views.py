"""The innovation-points pages: an enterprise's points and what-if, scoring runs with rankings and the
whitelist export, and the scoring standards with their editor and diff.

Each view asks the access predicates, validates its input, calls one selector or service and hands the result
to `presentation`, which shapes it for the template.
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import points_engine
from twincity.core.access import require, visible
from twincity.core.caching import REGISTRY, cached
from twincity.core.errors import InvalidInput
from twincity.enterprises.access import own_enterprise
from twincity.enterprises.fields import INDUSTRY_CLUSTERS
from twincity.enterprises.selectors import enterprise_get_visible, tech_innovative_tiers
from twincity.points import access, presentation, selectors, services, tasks
from twincity.points.forms import (
    GRADES,
    GROUP_BYS,
    EvaluationInputForm,
    RankingsForm,
    RenewalRuleForm,
    RunStartForm,
    StandardVersionForm,
    WhatIfForm,
    WhitelistForm,
    figure_kind,
    figure_label,
)
from twincity.points.models import ScoringRun

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENTERPRISE_TEMPLATE = "points/enterprise_points.html"
RUNS_TEMPLATE = "points/run_list.html"
RUN_TEMPLATE = "points/run_detail.html"
STANDARD_TEMPLATE = "points/standard_detail.html"
STANDARDS_TEMPLATE = "points/standard_list.html"


def _htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


# --- an enterprise's points ----------------------------------------------------------------------------------


def _points_of(user, credit_code: str):
    enterprise = visible(enterprise_get_visible(user=user, credit_code=credit_code))
    require(access.can_view_points(user, enterprise), _("You may not see this enterprise's points."))
    return enterprise


def _what_if_form(points, data=None) -> WhatIfForm:
    facts = dict(points.result.facts) if points.result is not None else {}
    year = points.result.run.evaluation_date.year if points.result is not None else None
    return WhatIfForm(data, facts=facts, evaluation_year=year)


def _result_fragments(points, *, current, can_what_if: bool, can_manage_runs: bool) -> dict | None:
    """What the page shows of a finished result alone, rendered once: its summary, conditions, categories, reasons
    and indicator rows, and the what-if form's fields pre-filled from its facts snapshot. Cached like the result's
    explanation (`selectors.result_explanation`): the key names the result, the run's finish time, the engines
    and the language, and any audited write computes it again. None while the run is not done."""
    result = points.result
    run = result.run
    if run.status != ScoringRun.Status.DONE or run.finished_at is None:
        return None
    key = (f"points-page:{result.pk}:{run.pk}:{run.finished_at.isoformat()}:{run.engine_version}:"
           f"{points_engine.ENGINE_VERSION}:{translation.get_language()}")

    def render() -> dict:
        section = presentation.enterprise_page(selectors.points_explain(points), current=current,
                                               can_what_if=can_what_if, can_manage_runs=can_manage_runs, form=None)
        return {
            "result_section": render_to_string(ENTERPRISE_TEMPLATE + "#result-section", section),
            "has_indicators": bool(section["indicators"]),
            "what_if_fields": render_to_string(ENTERPRISE_TEMPLATE + "#what-if-fields",
                                               {"form": _what_if_form(points)}),
        }

    fragments = cached(REGISTRY, key, render)
    # The templates' own escaped output.
    return {**fragments, "result_section": mark_safe(fragments["result_section"]),  # noqa: S308
            "what_if_fields": mark_safe(fragments["what_if_fields"])}  # noqa: S308


def _enterprise_context(request, enterprise, points, *, form=None) -> dict:
    """The page's context. `points` may come without its explanation (enterprise_points(explain=False)): it is
    computed only when the result's fragments are (`_result_fragments`)."""
    # Without a result there is no version to show: name the standard asked for (or the default).
    asked = request.GET.get("standard") or request.POST.get("standard")
    current = points.current or selectors.standard_latest(standard_id=asked or selectors.DEFAULT_STANDARD_ID)
    can_record = access.can_record_evaluation_inputs(request.user, enterprise)
    can_what_if = access.can_view_points(request.user, enterprise)
    can_manage_runs = access.can_manage_runs(request.user)
    fragments = None
    if points.result is not None:
        fragments = _result_fragments(points, current=current, can_what_if=can_what_if,
                                      can_manage_runs=can_manage_runs)
        if fragments is None:
            selectors.points_explain(points)
            form = form or _what_if_form(points)
    context = {
        "enterprise": enterprise,
        "inputs": selectors.evaluation_inputs(enterprise=enterprise),
        "input_form": EvaluationInputForm() if can_record else None,
        **presentation.enterprise_page(points, current=current, can_what_if=can_what_if,
                                       can_manage_runs=can_manage_runs, form=form),
    }
    context["has_indicators"] = bool(context.get("indicators"))
    context.update(fragments or {})
    return context


@login_required
def my_points_view(request):
    enterprise = visible(own_enterprise(request.user))
    return redirect("points:enterprise", credit_code=enterprise.credit_code)


@login_required
@require_GET
def enterprise_points_view(request, credit_code: str):
    enterprise = _points_of(request.user, credit_code)
    points = selectors.enterprise_points(enterprise=enterprise, standard_id=request.GET.get("standard") or None,
                                         kind=request.GET.get("kind") or None, explain=False)
    return render(request, ENTERPRISE_TEMPLATE, _enterprise_context(request, enterprise, points))


@login_required
@require_POST
def what_if_view(request, credit_code: str):
    """Score changed figures without saving anything; answers the what-if partial (or the whole page)."""
    enterprise = _points_of(request.user, credit_code)
    points = selectors.enterprise_points(enterprise=enterprise, standard_id=request.POST.get("standard") or None,
                                         explain=False)
    result = visible(points.result)
    form = _what_if_form(points, request.POST)
    context: dict = {}
    if form.is_valid():
        changes = form.changes()
        try:
            before, after = services.what_if(user=request.user, enterprise=enterprise, standard=points.current,
                                             changes=changes)
        except InvalidInput as exc:
            context["what_if_error"] = exc.message
            context["what_if_field_errors"] = [
                f"{figure_label(name)}: {', '.join(map(str, messages))}"
                for name, messages in (exc.extra.get("fields") or {}).items()
            ]
        else:
            context["what_if"] = presentation.what_if_result(
                before, after, changes, form.facts, definition=points.current.definition,
                evaluation_year=result.run.evaluation_date.year, figure_label=figure_label, figure_kind=figure_kind,
            )
    if _htmx(request):
        context.update({"enterprise": enterprise, "current": points.current, "form": form})
        return render(request, ENTERPRISE_TEMPLATE + "#what-if-result", context)
    page = _enterprise_context(request, enterprise, points)
    page.update(context, form=form, what_if_fields=None)  # the form as sent, with its errors
    return render(request, ENTERPRISE_TEMPLATE, page)


# --- scoring runs ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def run_list_view(request):
    require(access.can_manage_runs(request.user))
    standards = list(selectors.standard_list(definitions=False))
    form = RunStartForm(request.POST or None, standards=standards)
    if request.method == "POST" and form.is_valid():
        chosen, day = form.cleaned_data["standard"], form.cleaned_data["evaluation_date"]
        application = form.cleaned_data["application"]
        standard = (selectors.standard_in_force(kind=chosen, on=day, application=application)
                    if isinstance(chosen, str) else chosen)
        if standard is None:
            form.add_error("standard", _("No version of this kind of evaluation is in force on that date."))
        else:
            try:
                run = services.scoring_run_create(actor=request.user, standard=standard, evaluation_date=day,
                                                  application=application)
                tasks.scoring_run_start(run=run)
            except InvalidInput as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("points:runs")
    rows = [presentation.run_row(run) for run in selectors.run_list(details=False)[:100]]
    return render(request, RUNS_TEMPLATE, {"form": form, "rows": rows})


def _run(user, public_id) -> ScoringRun:
    return visible(selectors.run_get_visible(user=user, public_id=public_id))


@login_required
@require_GET
def run_row_view(request, public_id):
    """The polling partial of one run: its row in the list, or its status card on the detail page."""
    run = _run(request.user, public_id)
    row = presentation.run_row(run)
    if request.GET.get("on") == "detail":
        response = render(request, RUN_TEMPLATE + "#run-status", {"row": row, "run": run})
        if not row["active"]:
            response["HX-Refresh"] = "true"
        return response
    return render(request, RUNS_TEMPLATE + "#run-row", {"row": row})


@login_required
@require_GET
def run_detail_view(request, public_id):
    run = _run(request.user, public_id)
    rankings_form = RankingsForm(request.GET or None)
    group_by = "industry_cluster"
    if rankings_form.is_valid() and rankings_form.cleaned_data.get("group_by"):
        group_by = rankings_form.cleaned_data["group_by"]
    context = {
        "run": run,
        "row": presentation.run_row(run),
        "group_by": group_by,
        "group_bys": GROUP_BYS,
        "grades": GRADES,
        "whitelist_form": WhitelistForm(),
    }
    if run.status == ScoringRun.Status.DONE:
        rankings = selectors.rankings(run=run, group_by=group_by)
        context.update(presentation.rankings_page(
            rankings, cluster_labels={key: zh for key, (zh, _en) in INDUSTRY_CLUSTERS.items()}, grades=GRADES,
            tiers=tech_innovative_tiers(enterprise_ids=[r.enterprise_id for r in rankings.top],
                                        on=run.evaluation_date),
        ))
    template = RUN_TEMPLATE + ("#rankings" if _htmx(request) and "group_by" in request.GET else "")
    return render(request, template, context)


@login_required
@require_GET
def whitelist_export_view(request, public_id, fmt: str):
    run = _run(request.user, public_id)
    form = WhitelistForm(request.GET)
    if not form.is_valid():
        return HttpResponse("; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()), status=400,
                            content_type="text/plain; charset=utf-8")
    try:
        rows = selectors.whitelist(run=run, min_grade=form.cleaned_data.get("min_grade") or None,
                                   min_score=form.cleaned_data.get("min_score"))
        body = services.whitelist_export(rows=rows, fmt=fmt)
    except InvalidInput as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    standard = run.standard
    filename = f"whitelist-{standard.standard_id}-{standard.version}-{run.evaluation_date.isoformat()}.{fmt}"
    response = HttpResponse(body, content_type="text/csv; charset=utf-8" if fmt == "csv" else XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- scoring standards ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def standard_list_view(request):
    """Every standard and its versions; which version is in force on a date (today by default) for each kind of
    evaluation, for new applications and renewals, and why; administrators set the renewals' version."""
    require(access.can_view_standards(request.user))
    can_edit = access.can_edit_standards(request.user)
    rule_form = RenewalRuleForm(request.POST or None) if can_edit else None
    if request.method == "POST":
        require(can_edit)
        if rule_form.is_valid():
            try:
                services.renewal_rule_set(actor=request.user, **rule_form.cleaned_data)
            except InvalidInput as exc:
                rule_form.add_error(None, exc.message)
            else:
                return redirect("points:standards")
    on = parse_date(request.GET.get("on") or "") or timezone.localdate()

    def page() -> dict:
        standards: dict[str, list] = {}
        versions = list(selectors.standard_list(definitions=False))
        for version in versions:
            standards.setdefault(version.standard_id, []).append(version)
        return {
            "standards": [{"id": sid, "versions": items, "latest": items[0]} for sid, items in standards.items()],
            "can_edit_standards": can_edit,
            "on": on,
            "in_force": selectors.kinds_in_force(on=on, versions=versions),
            "rules": selectors.renewal_rules(),
            "rule_form": rule_form,
        }

    if can_edit:  # the renewal rule's form (with its CSRF token) is part of the page: rendered each time
        return render(request, STANDARDS_TEMPLATE, page(), status=422 if rule_form.errors else 200)
    # Everyone else reads the same page for a date: rendered once until an audited write changes the registry
    # (a new version, a renewal rule: both audited; twincity.core.caching).
    body = cached(REGISTRY, f"standards-page:{on.isoformat()}:{translation.get_language()}",
                  lambda: render_to_string(STANDARDS_TEMPLATE + "#standards-body", page()))
    return render(request, STANDARDS_TEMPLATE, {"standards_body": mark_safe(body)})  # noqa: S308


@login_required
@require_POST
def evaluation_input_view(request, credit_code: str):
    """Record a fact the registry cannot derive (administrators), from the enterprise's points page."""
    enterprise = _points_of(request.user, credit_code)
    require(access.can_record_evaluation_inputs(request.user, enterprise))
    form = EvaluationInputForm(request.POST)
    if form.is_valid():
        try:
            services.evaluation_input_set(actor=request.user, enterprise=enterprise, **form.cleaned_data)
        except InvalidInput as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Recorded."))
    else:
        messages.error(request, "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()))
    return redirect(reverse("points:enterprise", args=[enterprise.credit_code]) + "#inputs")


@login_required
@require_POST
def evaluation_input_delete_view(request, credit_code: str, input_id: int):
    enterprise = _points_of(request.user, credit_code)
    item = visible(selectors.evaluation_inputs(enterprise=enterprise).filter(pk=input_id).first())
    services.evaluation_input_clear(actor=request.user, item=item)
    messages.success(request, _("Removed."))
    return redirect(reverse("points:enterprise", args=[enterprise.credit_code]) + "#inputs")


@login_required
@require_http_methods(["GET", "POST"])
def standard_detail_view(request, standard_id: str, version: str):
    require(access.can_view_standards(request.user))
    base = visible(selectors.standard_get(standard_id=standard_id, version=version))
    can_edit = access.can_edit_standards(request.user)
    versions = list(selectors.standard_versions(standard_id=standard_id))
    errors: list[str] = []
    status = 200
    form = None
    if request.method == "POST":
        require(can_edit)
        form = StandardVersionForm(request.POST)
        if form.is_valid():
            try:
                created = services.standard_version_create(
                    actor=request.user, base=base, definition=form.cleaned_data["definition"],
                    version=form.cleaned_data["version"], note=form.cleaned_data.get("note") or "",
                )
            except InvalidInput as exc:
                errors = [exc.message, *(str(e) for e in exc.extra.get("errors") or [])]
                for field, messages in (exc.extra.get("fields") or {}).items():
                    errors.extend(f"{field}: {m}" for m in messages)
            else:
                url = reverse("points:standard-diff", args=[standard_id])
                return redirect(f"{url}?a={base.version}&b={created.version}")
        status = 422
    elif can_edit:
        form = StandardVersionForm(initial={
            "version": presentation.next_version(base.version, {v.version for v in versions}),
            "definition": json.dumps(base.definition, ensure_ascii=False, indent=2),
        })
    context = {"version": base, "versions": versions, "can_edit_standards": can_edit, "form": form,
               "errors": errors, **presentation.standard_page(base)}
    return render(request, STANDARD_TEMPLATE, context, status=status)


@login_required
@require_GET
def standard_diff_view(request, standard_id: str):
    require(access.can_view_standards(request.user))
    versions = list(selectors.standard_versions(standard_id=standard_id))
    visible(versions or None)
    by_number = {v.version: v for v in versions}
    a = by_number.get(request.GET.get("a", ""))
    b = by_number.get(request.GET.get("b", ""))
    if a is None or b is None:
        ordered = sorted(versions, key=lambda v: v.created_at)
        a = a or (ordered[-2] if len(ordered) > 1 else ordered[0])
        b = b or ordered[-1]
    return render(request, "points/standard_diff.html", {
        "standard_id": standard_id, "versions": versions, "a": a, "b": b,
        "changes": presentation.diff_rows(selectors.standard_diff(a=a, b=b)),
    })
