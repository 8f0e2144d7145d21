"""The public-services pages: 政务服务事项 (the catalogue, filtered by city and area; an item with its versions,
filed online or at a window), the catalogue editor (new versions; Excel import and export), 我的办件, 办件工作台
(the work queue per department with the clock, and the overdue list), a case with its steps, and the dashboard.
Every decision is an access predicate; every write a service."""

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from twincity.accounts.models import Organisation
from twincity.core import workdays
from twincity.core.access import require, visible
from twincity.core.errors import ApplicationError
from twincity.enterprises.access import own_enterprise
from twincity.govservices import access, catalogue_io, rules, selectors, services
from twincity.govservices.models import ServiceCase, ServiceItem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CITY_NAMES = {"chongqing": "重庆", "chengdu": "成都"}


def _today():
    return workdays.shanghai_date(timezone.now())


def _error_text(exc: ApplicationError) -> str:
    text = exc.message
    if exc.extra.get("missing"):
        text += f"（{', '.join(exc.extra['missing'])}）"
    return f"{text} [{exc.code}]"


def _item_row(item: ServiceItem) -> dict[str, Any]:
    return {"item": item, "city": CITY_NAMES.get(item.city, item.city), "type": rules.ITEM_TYPES[item.item_type],
            "handling": rules.HANDLING_KINDS[item.handling], "mode": rules.CROSS_CITY_MODES[item.cross_city_mode],
            "areas": [rules.AREAS.get(a, a) for a in item.areas]}


@login_required
@require_GET
def catalogue(request):
    require(access.can_view_catalogue(request.user))
    city, area = request.GET.get("city", ""), request.GET.get("area", "")
    framework = request.GET.get("framework") == "1"
    items = selectors.catalogue(city=city if city in CITY_NAMES else "", area=area if area in rules.AREAS else "",
                                framework=framework, q=request.GET.get("q", "")[:100])
    return render(request, "govservices/catalogue.html", {
        "rows": [_item_row(i) for i in items], "city": city, "area": area, "framework": framework,
        "areas": rules.AREAS, "framework_areas": [(a, rules.AREAS[a]) for a in rules.FRAMEWORK_AREAS],
        "can_edit": access.can_edit_catalogue(request.user), "can_export": access.can_export_catalogue(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def item_detail(request, pk: int):
    """An item version, its versions, and the filing form (online, or at the clerk's window)."""
    item = selectors.item_for(request.user, pk)
    if request.method == "POST":
        channel = "window" if request.POST.get("channel") == "window" else "online"
        materials = {m["code"]: request.POST.get(f"m_{m['code']}") for m in item.definition.get("materials", [])
                     if request.POST.get(f"m_{m['code']}") in (rules.SUBMITTED, rules.PLEDGED)}
        try:
            case = services.case_file(
                actor=request.user, item=item, applicant_name=request.POST.get("applicant_name", ""),
                channel=channel, situations=request.POST.getlist("situations"), materials=materials,
                enterprise=own_enterprise(request.user) if channel == "online" else None,
                delivery=request.POST.get("delivery", "e_licence"))
        except ApplicationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"已收件：{case.number}")
            if access.can_view_case(request.user, case):
                return redirect("govservices:case", case.pk)
            return redirect("govservices:item", item.pk)
    return render(request, "govservices/item.html", {
        "row": _item_row(item), "item": item, "versions": selectors.item_versions(item.code),
        "definition": item.definition, "can_edit": access.can_edit_catalogue(request.user),
        "can_file": item.status == ServiceItem.Status.PUBLISHED and access.can_file_online(request.user),
        "can_intake": item.status == ServiceItem.Status.PUBLISHED and access.can_take_intake(request.user),
        "delivery_modes": rules.DELIVERY_MODES,
    })


@login_required
@require_http_methods(["GET", "POST"])
def item_new_version(request, pk: int):
    """The catalogue editor: a change is published as the item's next version (never edited in place)."""
    require(access.can_edit_catalogue(request.user))
    item = selectors.item_for(request.user, pk)
    departments = Organisation.objects.filter(kind=Organisation.Kind.GOVERNMENT).order_by("city", "name")
    if request.method == "POST":
        post = request.POST
        try:
            definition = json.loads(post.get("definition") or "{}")
        except ValueError:
            messages.error(request, "事项定义须为 JSON [definition_invalid]")
        else:
            try:
                changes: dict[str, Any] = {
                    "name": post.get("name", ""), "item_type": post.get("item_type"), "handling": post.get("handling"),
                    "legal_basis": post.get("legal_basis", ""), "fee": post.get("fee") or "0",
                    "fee_basis": post.get("fee_basis", ""), "cross_city_mode": post.get("cross_city_mode"),
                    "areas": post.getlist("areas"), "definition": definition,
                    "legal_limit_days": int(post.get("legal_limit_days") or -1),
                    "promised_limit_days": int(post.get("promised_limit_days") or -1),
                    "department": departments.filter(pk=post.get("department") or 0).first(),
                    "implementing_body": departments.filter(pk=post.get("implementing_body") or 0).first(),
                }
                new = services.item_version_create(actor=request.user, item=item, note=post.get("note", ""),
                                                   **changes)
            except ValueError:
                messages.error(request, "时限须为整数工作日 [invalid_limit]")
            except ApplicationError as exc:
                messages.error(request, _error_text(exc) + " " + "; ".join(map(str, exc.extra.get("errors", []))))
            else:
                messages.success(request, f"已发布第 {new.version} 版")
                return redirect("govservices:item", new.pk)
    return render(request, "govservices/item_edit.html", {
        "item": item, "departments": departments, "item_types": rules.ITEM_TYPES,
        "handlings": rules.HANDLING_KINDS, "modes": rules.CROSS_CITY_MODES, "areas": rules.AREAS,
        "definition_json": json.dumps(item.definition, ensure_ascii=False, indent=2),
    })


@login_required
@require_GET
def catalogue_export(request):
    require(access.can_export_catalogue(request.user))
    response = HttpResponse(catalogue_io.catalogue_xlsx(selectors.catalogue()), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="govservices-catalogue.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def catalogue_import(request):
    require(access.can_edit_catalogue(request.user))
    result = errors = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择 Excel 文件")
        else:
            try:
                result = catalogue_io.catalogue_import(actor=request.user, content=upload.read())
            except ApplicationError as exc:
                messages.error(request, exc.message)
                errors = exc.extra.get("errors", [])
    return render(request, "govservices/import.html", {"result": result, "errors": errors}, status=422 if errors else 200)


def _case_row(case: ServiceCase, clock) -> dict[str, Any]:
    return {"case": case, "clock": clock, "state": rules.STATE_NAMES.get(case.state, case.state),
            "city": CITY_NAMES.get(case.item.city, ""), "cross": case.intake_city != case.item.city}


@login_required
@require_GET
def my_cases(request):
    require(access.can_file_online(request.user))
    today = _today()
    cases = access.cases_visible(request.user).filter(applicant_user=request.user).prefetch_related("pauses")
    enterprise = own_enterprise(request.user)
    if enterprise is not None:
        cases = access.cases_visible(request.user).filter(enterprise=enterprise) | cases
    rows = [_case_row(c, selectors.case_clock(c, today)) for c in cases.order_by("-submitted_at")[:200]]
    return render(request, "govservices/my_cases.html", {"rows": rows})


@login_required
@require_GET
def queue(request):
    """办件工作台: the open cases with the clock (days left, paused, overdue), per department; the overdue list."""
    require(access.can_view_queue(request.user))
    today = _today()
    departments = list(access.queue_departments(request.user).order_by("city", "name"))
    chosen = None
    if request.GET.get("department"):
        chosen = next((d for d in departments if str(d.pk) == request.GET["department"]), None)
        visible(chosen)
    rows = selectors.queue(request.user, today=today, department=chosen,
                           overdue_only=request.GET.get("overdue") == "1")
    counts = {"overdue": 0, "warning": 0, "paused": 0, "running": 0, "not_started": 0, "stopped": 0}
    for row in rows:
        counts[row.clock.status] += 1
    return render(request, "govservices/queue.html", {
        "rows": [_case_row(r.case, r.clock) for r in rows], "departments": departments, "chosen": chosen,
        "counts": counts, "overdue": selectors.overdue_by_department(request.user, today=today), "today": today,
        "office": access.gov_office_of(request.user),
    })


STEP_FORMS = {
    "forward": "转办至事项所在城市", "accept": "受理", "notify_correction": "一次性告知（补正）", "refuse_intake": "不予受理",
    "resubmit": "补正后重新提交", "pause": "进入特殊环节（暂停计时）", "resume": "结束特殊环节（恢复计时）",
    "decide": "作出决定", "deliver": "送达结果", "close": "办结", "withdraw": "撤回",
}


@login_required
@require_GET
def case_detail(request, pk: int):
    case = selectors.case_for(request.user, pk)
    definition = case.item.definition
    states = rules.material_states(definition, case.situations, case.materials)
    names = {m["code"]: m for m in definition.get("materials", [])}
    steps = [(a, STEP_FORMS[a]) for a in rules.allowed_actions(case.state) if access.can_act(request.user, case, a)]
    events = list(case.events.select_related("actor", "organisation"))
    for event in events:
        event.label = rules.ACTION_NAMES.get(event.action, event.action)  # type: ignore[attr-defined]
        event.state_label = rules.STATE_NAMES.get(event.to_state, event.to_state)  # type: ignore[attr-defined]
    return render(request, "govservices/case.html", {
        "case": case, "row": _case_row(case, selectors.case_clock(case, _today())),
        "materials": [{"code": c, "name": names[c]["name"], "state": s, "tolerated": names[c]["tolerated"]}
                      for c, s in states.items()],
        "steps": steps, "events": events, "action_names": rules.ACTION_NAMES, "state_names": rules.STATE_NAMES,
        "pause_steps": [*definition.get("pause_steps", []), rules.CORRECTION_STEP],
        "can_supply": case.state in ("received", "handling", "paused") and access.can_act(request.user, case, "supply"),
        "can_rate": case.state == "closed" and not hasattr(case, "rating") and access.can_act(request.user, case,
                                                                                              "rate"),
        "rating": getattr(case, "rating", None), "grades": sorted(rules.RATING_GRADES.items(), reverse=True),
        "delivery_modes": rules.DELIVERY_MODES, "pauses": list(case.pauses.all()),
    })


@login_required
@require_POST
def case_step(request, pk: int):
    case = selectors.case_for(request.user, pk)
    action = request.POST.get("action", "")
    try:
        if action == "rate":
            services.case_rate(actor=request.user, case=case, grade=int(request.POST.get("grade") or 0),
                               comment=request.POST.get("comment", ""))
        else:
            materials = {k[2:]: v for k, v in request.POST.items()
                         if k.startswith("m_") and v in (rules.SUBMITTED, rules.PLEDGED)}
            services.case_step(actor=request.user, case=case, data={
                "action": action, "comment": request.POST.get("comment", ""), "step": request.POST.get("step"),
                "outcome": request.POST.get("outcome"), "delivery": request.POST.get("delivery") or None,
                "result_ref": request.POST.get("result_ref", ""), "materials": materials})
    except ApplicationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"已完成：{rules.ACTION_NAMES.get(action, action)}")
    return redirect("govservices:case", pk)


@login_required
@require_GET
def dashboard(request):
    require(access.can_view_dashboard(request.user))
    board = selectors.dashboard(request.user)
    charts = {
        "cities": {"labels": [CITY_NAMES.get(c["city"], c["city"]) for c in board["cities"]],
                   "filed": [c["filed"] for c in board["cities"]],
                   "avg_taken": [c["avg_taken"] for c in board["cities"]],
                   "avg_promised": [c["avg_promised"] for c in board["cities"]],
                   "avg_grade": [c["avg_grade"] for c in board["cities"]]},
        "items": {"labels": [i["name"] for i in board["items"][:12]],
                  "avg_taken": [i["avg_taken"] for i in board["items"][:12]],
                  "avg_promised": [i["avg_promised"] for i in board["items"][:12]]},
        "grades": {"labels": [rules.RATING_GRADES[g] for g in board["grades"]], "counts": list(board["grades"].values())},
        "states": {"labels": [rules.STATE_NAMES[s] for s in board["by_state"]], "counts": list(board["by_state"].values())},
    }
    return render(request, "govservices/dashboard.html", {
        "board": board, "charts": charts, "state_names": rules.STATE_NAMES, "city_names": CITY_NAMES,
    })
