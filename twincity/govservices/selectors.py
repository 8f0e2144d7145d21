"""Reads of public services: the catalogue (filtered by city, area, department), the work queues with their
clocks, the overdue list per department, and the dashboard's figures (volumes, time taken against the promised
limit, ratings; by city and by item)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet

from twincity.accounts.models import Organisation
from twincity.core import workdays
from twincity.core.access import visible_to
from twincity.govservices import access, rules
from twincity.govservices.models import CaseRating, ServiceCase, ServiceItem
from twincity.govservices.services import Clock, case_clock

__all__ = ["Clock", "case_clock", "catalogue", "item_versions", "queue", "overdue_by_department", "dashboard"]


NO_ITEM = "事项不存在 (no such item)"
NO_CASE = "未找到该办件 (no such case)"
PK_RANGE = range(1, 2**31)  # a key outside it names nothing (and would overflow the database's integer)


def item_for(user, pk: int) -> ServiceItem:
    """A catalogue item (one version) `user` may see (404 otherwise)."""
    item = (ServiceItem.objects.select_related("department", "implementing_body").filter(pk=pk).first()
            if pk in PK_RANGE else None)
    return visible_to(user, item, access.can_view_item, NO_ITEM)


def item_latest_for(user, code: str) -> ServiceItem:
    """The latest version of the catalogue item `code` if `user` may see it (404 otherwise)."""
    item = (ServiceItem.objects.filter(code=code).select_related("department", "implementing_body")
            .order_by("-version").first())
    return visible_to(user, item, access.can_view_item, NO_ITEM)


def case_for(user, pk: int) -> ServiceCase:
    """A case `user` may see (404 otherwise): its pages and its API open it so."""
    case = (ServiceCase.objects.select_related("item", "department", "intake_office", "enterprise").filter(pk=pk).first()
            if pk in PK_RANGE else None)
    return visible_to(user, case, access.can_view_case, NO_CASE)


def catalogue(*, city: str = "", area: str = "", department_id: int | None = None, framework: bool = False,
              q: str = "") -> QuerySet[ServiceItem]:
    """The published items; `framework` keeps those tagged with an area of the 8-area HR / social security /
    disability framework (rules.FRAMEWORK_AREAS)."""
    items = ServiceItem.objects.filter(status=ServiceItem.Status.PUBLISHED).select_related(
        "department", "implementing_body")
    if city:
        items = items.filter(city=city)
    if department_id:
        items = items.filter(Q(department_id=department_id) | Q(implementing_body_id=department_id))
    if q:
        items = items.filter(Q(name__icontains=q) | Q(code__icontains=q))
    rows = list(items.order_by("city", "code"))
    if area:
        rows = [i for i in rows if area in i.areas]  # JSON containment differs between SQLite and PostgreSQL
    if framework:
        rows = [i for i in rows if set(i.areas) & set(rules.FRAMEWORK_AREAS)]
    return items.filter(pk__in=[i.pk for i in rows]).order_by("city", "code")


def item_versions(code: str) -> QuerySet[ServiceItem]:
    return ServiceItem.objects.filter(code=code).order_by("-version")


@dataclass(frozen=True)
class QueueRow:
    case: ServiceCase
    clock: Clock


def queue(user, *, today: date, department: Organisation | None = None, state: str = "",
          overdue_only: bool = False) -> list[QueueRow]:
    """The open cases this person works on (access.cases_visible ∩ rules.OPEN, or one department's), each with
    its clock; overdue first, then by days left, then by intake time."""
    cases = access.cases_visible(user).filter(state__in=rules.OPEN)
    if department is not None:
        cases = cases.filter(department=department)
    if state:
        cases = cases.filter(state=state)
    rows = [QueueRow(c, case_clock(c, today)) for c in cases.prefetch_related("pauses").order_by("submitted_at")]
    if overdue_only:
        rows = [r for r in rows if r.clock.status == "overdue"]
    big = 10_000
    rows.sort(key=lambda r: (r.clock.days_left if r.clock.days_left is not None else big, r.case.submitted_at))
    return rows


def overdue_by_department(user, *, today: date) -> list[dict[str, Any]]:
    """Per department: the running cases past their promised limit (clock not paused), most overdue first."""
    cases = (access.cases_visible(user).filter(state="handling", due_date__lt=today)
             .select_related("department", "item").order_by("due_date", "pk"))
    groups: dict[int, dict[str, Any]] = {}
    for case in cases:
        group = groups.setdefault(case.department_id, {"department": case.department, "cases": []})
        try:
            days_over: int | None = -workdays.working_days_left(case.due_date, today)
        except workdays.CalendarRangeError:
            days_over = None
        group["cases"].append({"case": case, "days_over": days_over})
    return sorted(groups.values(), key=lambda g: (-len(g["cases"]), g["department"].name))


def dashboard(user, *, since: date | None = None) -> dict[str, Any]:
    """Volumes by state and city, time taken against the promised limit (decided cases), ratings — by city and
    by item."""
    cases = access.cases_visible(user)
    if since is not None:
        cases = cases.filter(submitted_at__date__gte=since)
    by_state = dict(cases.values_list("state").annotate(n=Count("pk")).order_by())
    by_city: dict[str, dict[str, Any]] = defaultdict(lambda: {"filed": 0, "decided": 0, "on_time": 0,
                                                               "taken": 0, "promised": 0, "cross_city": 0})
    by_item: dict[str, dict[str, Any]] = {}
    decided = cases.filter(working_days_taken__isnull=False).select_related("item")
    for city, code, name, intake_city in cases.values_list("item__city", "item__code", "item__name",
                                                          "intake_city").order_by():
        by_city[city]["filed"] += 1
        by_city[city]["cross_city"] += intake_city != city
        row = by_item.setdefault(code, {"code": code, "name": name, "city": city, "filed": 0, "decided": 0,
                                        "on_time": 0, "taken": 0, "promised": 0, "ratings": 0, "grade_sum": 0})
        row["filed"] += 1
    for case in decided:
        promised = case.item.promised_limit_days
        taken = case.working_days_taken or 0
        for row in (by_city[case.item.city], by_item[case.item.code]):
            row["decided"] += 1
            row["on_time"] += taken <= promised
            row["taken"] += taken
            row["promised"] += promised
    ratings = CaseRating.objects.filter(case__in=cases).select_related("case__item")
    rating_city: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "sum": 0, "bad": 0})
    grades = dict.fromkeys(sorted(rules.RATING_GRADES, reverse=True), 0)
    for rating in ratings:
        city = rating.case.item.city
        rating_city[city]["n"] += 1
        rating_city[city]["sum"] += rating.grade
        rating_city[city]["bad"] += rating.grade <= 2
        by_item[rating.case.item.code]["ratings"] += 1
        by_item[rating.case.item.code]["grade_sum"] += rating.grade
        grades[rating.grade] += 1

    def finish(row: dict[str, Any]) -> dict[str, Any]:
        n = row["decided"]
        row["avg_taken"] = round(row["taken"] / n, 1) if n else None
        row["avg_promised"] = round(row["promised"] / n, 1) if n else None
        row["on_time_rate"] = round(100 * row["on_time"] / n, 1) if n else None
        if "grade_sum" in row:
            row["avg_grade"] = round(row["grade_sum"] / row["ratings"], 2) if row["ratings"] else None
        return row

    cities = []
    for city, row in sorted(by_city.items()):
        r = rating_city[city]
        cities.append(finish({"city": city, **row, "ratings": r["n"],
                              "avg_grade": round(r["sum"] / r["n"], 2) if r["n"] else None, "bad_ratings": r["bad"]}))
    items = sorted((finish(row) for row in by_item.values()), key=lambda r: (-r["filed"], r["code"]))
    return {
        "total": sum(by_state.values()), "by_state": {s: by_state.get(s, 0) for s in rules.STATES},
        "cities": cities, "items": items, "grades": grades,
        "avg_grade": CaseRating.objects.filter(case__in=cases).aggregate(a=Avg("grade"))["a"],
    }
