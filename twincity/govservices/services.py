"""The one write path of public services: catalogue items (create, new version, withdraw, import) and cases
(file, forward, accept / one-time notice / refuse at intake, pause / resume, decide, deliver, close, withdraw,
supply materials, rate) with their clocks. Every write is audited in its transaction.

Public API (keyword-only; `actor` is the acting user, `at` an aware datetime, default now):

Catalogue
    item_create(actor, code, city, name, item_type, department, implementing_body, legal_limit_days,
                promised_limit_days, definition, handling="new", legal_basis="", fee=0, fee_basis="",
                cross_city_mode="online", areas=(), note="") -> ServiceItem (version 1, published)
    item_version_create(actor, item, note="", **changes) -> ServiceItem   new published version; the old one
                superseded and kept (cases keep the version they were filed under)
    item_withdraw(actor, item, note="") -> ServiceItem
Cases (each step: one rules.transition, one CaseEvent, one audit entry, a notification)
    case_file(actor, item, applicant_name, channel, situations=(), materials=None, intake_office=None,
              enterprise=None, applicant_user=None, delivery="e_licence", at=None) -> ServiceCase
              state "received", or "collected" when filed at a window of the other city (then the forwarding
              task, registered by case_forwarder_register, is enqueued in the same transaction)
    case_forward(actor, case, at=None)                     collected → received
    case_accept(actor, case, comment="", at=None)          received → handling; starts the clock; 422
              materials_incomplete unless every required material is submitted, held by the government, or
              (容缺) pledged
    case_notify_correction(actor, case, comment, at=None)  received → correcting; the one-time notice lists
              every missing material; 409 correction_once on a second notice
    case_resubmit(actor, case, materials, at=None)         correcting → received
    case_refuse_intake(actor, case, comment, at=None)      received / correcting → not_accepted
    case_supply(actor, case, materials, at=None)           record materials supplied (e.g. the 容缺 ones)
    case_pause(actor, case, step, comment="", at=None)     handling → paused (a pause step of the item, or
              "correction"); the clock stops
    case_resume(actor, case, comment="", at=None)          paused → handling; due dates recomputed
    case_decide(actor, case, outcome, reason="", at=None)  handling → decided; approve needs every required
              material in hand (422 pledged_not_supplied)
    case_deliver(actor, case, delivery=None, result_ref="", at=None)   decided → delivered
    case_close(actor, case, at=None)                       delivered → closed
    case_withdraw(actor, case, comment, at=None)
    case_rate(actor, case, grade, comment="", at=None)     好差评, once, closed cases only
Clocks
    case_clock(case, today) -> Clock                       (selectors re-export it)
    cases_warn(now=None) -> list[int]                      the scheduled warning (govservices-clock-warn)

Refusals: 403 (access), 409 `illegal_transition` / `correction_once` / `already_rated` / `not_closed`,
422 `materials_incomplete` / `pledged_not_supplied` / `unknown_situation` / `unknown_pause_step` / ...; each
with the rule's message and details in `extra`.
"""

import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from twincity.accounts.models import City, Organisation, User
from twincity.core import workdays
from twincity.core.access import require
from twincity.core.audit import audit_record, plain, snapshot
from twincity.core.errors import Conflict, InvalidInput
from twincity.core.models import AuditEntry
from twincity.govservices import access, rules
from twincity.govservices.models import CaseEvent, CasePause, CaseRating, ServiceCase, ServiceHall, ServiceItem

logger = logging.getLogger("twincity.govservices")

ITEM_AUDIT_FIELDS = (
    "code",
    "version",
    "status",
    "city",
    "name",
    "item_type",
    "handling",
    "department_id",
    "implementing_body_id",
    "legal_basis",
    "legal_limit_days",
    "promised_limit_days",
    "fee",
    "fee_basis",
    "cross_city_mode",
    "areas",
    "definition",
    "note",
)
CASE_AUDIT_FIELDS = (
    "number",
    "item_id",
    "state",
    "situations",
    "materials",
    "applicant_name",
    "channel",
    "intake_city",
    "intake_office_id",
    "department_id",
    "delivery",
    "correction_notice",
    "outcome",
    "reason",
    "result_ref",
    "submitted_at",
    "forwarded_at",
    "accepted_at",
    "due_date",
    "legal_due_date",
    "paused_since",
    "decided_at",
    "delivered_at",
    "closed_at",
    "working_days_taken",
    "warned_at",
)
WARN_WORKING_DAYS = 2  # warn the department this many working days before the promised limit
NOT_YOUR_CASE = "无权办理该办件的这一步骤 (you may not take this step on this case)"
CONFLICT_CODES = frozenset({"illegal_transition", "correction_once", "already_rated", "not_closed"})


def _rule_error(exc: rules.RuleError) -> Exception:
    """A rule's refusal as the platform's error: 409 for a step out of order, 422 for what is missing or wrong."""
    cls = Conflict if exc.code in CONFLICT_CODES else InvalidInput
    return cls(exc.message, code=exc.code, extra=exc.extra)


# --- catalogue ----------------------------------------------------------------------------------------------


def _item_values(values: dict[str, Any]) -> dict[str, Any]:
    """Check an item's fields (the definition by the rules); InvalidInput naming the field otherwise."""
    if values.get("city") not in City.values:
        raise InvalidInput(
            "城市须为重庆或成都 / city is chongqing or chengdu", code="invalid_city", extra={"field": "city"}
        )
    if not str(values.get("name") or "").strip():
        raise InvalidInput("事项名称不能为空 / an item needs a name", extra={"field": "name"})
    values["name"] = str(values["name"]).strip()[:200]
    for field, vocabulary in (
        ("item_type", rules.ITEM_TYPES),
        ("handling", rules.HANDLING_KINDS),
        ("cross_city_mode", rules.CROSS_CITY_MODES),
    ):
        if values.get(field) not in vocabulary:
            raise InvalidInput(
                f"{field}: 须为 {sorted(vocabulary)} 之一 / one of these",
                code="invalid_choice",
                extra={"field": field, "allowed": sorted(vocabulary)},
            )
    areas = list(dict.fromkeys(values.get("areas") or []))
    unknown = [a for a in areas if a not in rules.AREAS]
    if unknown:
        raise InvalidInput(
            f"未知领域标签 {unknown} / unknown areas",
            code="invalid_choice",
            extra={"field": "areas", "allowed": sorted(rules.AREAS)},
        )
    values["areas"] = areas
    for field in ("department", "implementing_body"):
        org = values.get(field)
        if not isinstance(org, Organisation) or org.kind != Organisation.Kind.GOVERNMENT:
            raise InvalidInput(f"{field}: 须为政府部门 / must be a government organisation", extra={"field": field})
    try:
        rules.limits_check(values.get("legal_limit_days"), values.get("promised_limit_days"))
        values["definition"] = rules.definition_check(values.get("definition") or {})
    except rules.RuleError as exc:
        raise _rule_error(exc) from exc
    try:
        fee = Decimal(str(values.get("fee") or 0))
    except InvalidOperation:
        fee = Decimal(-1)
    if not fee.is_finite() or fee < 0 or fee >= Decimal("1e9"):
        raise InvalidInput("收费须为非负金额（元） / the fee is a non-negative amount in yuan", extra={"field": "fee"})
    values["fee"] = fee.quantize(Decimal("0.01"))
    return values


def _item_save(*, actor, item: ServiceItem, context: str) -> ServiceItem:
    item.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        instance=item,
        after=snapshot(item, ITEM_AUDIT_FIELDS),
        context=context,
    )
    return item


@transaction.atomic
def item_create(
    *,
    actor,
    code: str,
    city: str,
    name: str,
    item_type: str,
    department: Organisation,
    implementing_body: Organisation,
    legal_limit_days: int,
    promised_limit_days: int,
    definition: dict[str, Any],
    handling: str = "new",
    legal_basis: str = "",
    fee: Any = 0,
    fee_basis: str = "",
    cross_city_mode: str = "online",
    areas: Iterable[str] = (),
    note: str = "",
) -> ServiceItem:
    """Publish version 1 of a new catalogue item (409 item_exists when the code is taken)."""
    require(access.can_edit_catalogue(actor))
    code = (code or "").strip()
    if not code or len(code) > 64:
        raise InvalidInput("事项编码不能为空（最长64位） / an item code (up to 64 characters)", extra={"field": "code"})
    if ServiceItem.objects.filter(code=code).exists():
        raise Conflict(
            f"事项编码 {code} 已存在，请发布新版本 / the item exists: publish a new version",
            code="item_exists",
            extra={"code": code},
        )
    values = _item_values(
        dict(
            city=city,
            name=name,
            item_type=item_type,
            handling=handling,
            department=department,
            implementing_body=implementing_body,
            legal_limit_days=legal_limit_days,
            promised_limit_days=promised_limit_days,
            definition=definition,
            fee=fee,
            cross_city_mode=cross_city_mode,
            areas=list(areas),
        )
    )
    item = ServiceItem(
        code=code,
        version=1,
        legal_basis=legal_basis,
        fee_basis=fee_basis[:300],
        created_by=actor if getattr(actor, "pk", None) else None,
        note=note[:255],
        **values,
    )
    return _item_save(actor=actor, item=item, context=f"item v1: {note}")


EDITABLE = (
    "city",
    "name",
    "item_type",
    "handling",
    "department",
    "implementing_body",
    "legal_basis",
    "legal_limit_days",
    "promised_limit_days",
    "fee",
    "fee_basis",
    "cross_city_mode",
    "areas",
    "definition",
)


@transaction.atomic
def item_version_create(*, actor, item: ServiceItem, note: str = "", **changes: Any) -> ServiceItem:
    """Publish a new version of a published item with `changes` (fields of EDITABLE); the old version becomes
    superseded and is kept. 409 not_published for a superseded or withdrawn version."""
    require(access.can_edit_catalogue(actor))
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"不能修改这些字段：{unknown} / these fields cannot be changed", extra={"fields": unknown})
    current = ServiceItem.objects.select_for_update().get(pk=item.pk)
    if current.status != ServiceItem.Status.PUBLISHED:
        raise Conflict(
            "只能基于已发布的版本修改 / only the published version can be changed",
            code="not_published",
            extra={"status": current.status},
        )
    values = {name: getattr(current, name) for name in EDITABLE}
    values.update(changes)
    legal_basis, fee_basis = values.pop("legal_basis") or "", values.pop("fee_basis") or ""
    values = _item_values(values)
    before = snapshot(current, ITEM_AUDIT_FIELDS)
    current.status = ServiceItem.Status.SUPERSEDED
    current.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        instance=current,
        before=before,
        after=snapshot(current, ITEM_AUDIT_FIELDS),
        context=f"superseded by v{current.version + 1}",
    )
    new = ServiceItem(
        code=current.code,
        version=current.version + 1,
        legal_basis=legal_basis,
        fee_basis=fee_basis[:300],
        derived_from=current,
        note=note[:255],
        created_by=actor if getattr(actor, "pk", None) else None,
        **values,
    )
    return _item_save(actor=actor, item=new, context=f"item v{new.version}: {note}")


@transaction.atomic
def item_withdraw(*, actor, item: ServiceItem, note: str = "") -> ServiceItem:
    """Stop offering an item (its cases go on under their version)."""
    require(access.can_edit_catalogue(actor))
    current = ServiceItem.objects.select_for_update().get(pk=item.pk)
    if current.status != ServiceItem.Status.PUBLISHED:
        raise Conflict("只能停用已发布的版本 / only the published version can be withdrawn", code="not_published")
    before = snapshot(current, ITEM_AUDIT_FIELDS)
    current.status = ServiceItem.Status.WITHDRAWN
    current.note = note[:255] or current.note
    current.save(update_fields=["status", "note", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        instance=current,
        before=before,
        after=snapshot(current, ITEM_AUDIT_FIELDS),
        context=f"withdrawn: {note}",
    )
    return current


def hall_register(*, actor, organisation: Organisation, city: str) -> ServiceHall:
    """Make a government office a service hall (its clerks take cases at the window)."""
    require(access.can_edit_catalogue(actor))
    hall, created = ServiceHall.objects.get_or_create(organisation=organisation, defaults={"city": city})
    if created:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            instance=hall,
            after={"organisation_id": organisation.pk, "city": city},
        )
    return hall


# --- cases: the state machine applied ------------------------------------------------------------------------
# govservices.rules holds the transition table; `_transition` is the only code that sets a case's state: it
# asks the table, writes the event and the audit entry, and tells the parties, in the caller's transaction.


@dataclass(frozen=True)
class Clock:
    """A case's clock as the queues show it. status: "not_started" (before acceptance), "running", "warning"
    (within WARN_WORKING_DAYS of the promised limit), "overdue", "paused", "stopped" (decided: days_taken set)."""

    status: str
    due_date: date | None
    legal_due_date: date | None
    days_left: int | None
    days_used: int | None
    days_taken: int | None = None

    @property
    def days_over(self) -> int | None:
        """Working days past the promised limit (positive), None when not overdue."""
        return -self.days_left if self.days_left is not None and self.days_left < 0 else None

    @property
    def label(self) -> str:
        return {
            "not_started": "未开始计时",
            "running": "计时中",
            "warning": "即将到期",
            "overdue": "已超期",
            "paused": "暂停计时",
            "stopped": "已停止计时",
        }[self.status]


def _today(at: datetime) -> date:
    return workdays.shanghai_date(at)


def _pauses(case: ServiceCase) -> list[tuple[date, date | None]]:
    return [(_today(p.started_at), _today(p.ended_at) if p.ended_at else None) for p in case.pauses.all()]


def _due(case: ServiceCase, days: int) -> date | None:
    """The last day of a clock of `days` working days from acceptance, less the pauses; None while paused or
    while the calendar does not cover the year (the clock then shows no due date; never a guess)."""
    if case.accepted_at is None:
        return None
    try:
        return workdays.add_working_days_paused(_today(case.accepted_at), days, _pauses(case))
    except workdays.CalendarRangeError:
        logger.warning("working-day calendar does not cover the clock of a service case", extra={"case": case.pk})
        return None


def _clock_dates(case: ServiceCase) -> None:
    case.due_date = _due(case, case.item.promised_limit_days)
    case.legal_due_date = _due(case, case.item.legal_limit_days)


def case_clock(case: ServiceCase, today: date) -> Clock:
    """The clock of a case on `today` (a Shanghai date)."""
    if case.accepted_at is None:
        return Clock("not_started", None, None, None, None)
    start = _today(case.accepted_at)
    try:
        if case.state not in rules.CLOCKED:
            return Clock(
                "stopped", case.due_date, case.legal_due_date, None, case.working_days_taken, case.working_days_taken
            )
        used = workdays.working_days_used(start, max(today, start), _pauses(case))
        if case.state == "paused":
            return Clock("paused", None, None, None, used)
        if case.due_date is None:  # the calendar does not cover the due date's year yet: no guess
            return Clock("running", None, None, None, used)
        left = workdays.working_days_left(case.due_date, today)
    except workdays.CalendarRangeError:
        return Clock("running", case.due_date, case.legal_due_date, None, None)
    status = "overdue" if left < 0 else "warning" if left <= WARN_WORKING_DAYS else "running"
    return Clock(status, case.due_date, case.legal_due_date, left, used)


def _locked(case: ServiceCase) -> ServiceCase:
    return (
        ServiceCase.objects.select_for_update(of=("self",))
        .select_related("item", "department", "intake_office")
        .get(pk=case.pk)
    )


def _parties(case: ServiceCase, action: str) -> list[Any]:
    """Who hears of a step: the applicant (and its enterprise's users) and the department; the collecting hall
    of a cross-city case while it forwards."""
    told: list[Any] = [case.department]
    if case.applicant_user_id:
        told.append(case.applicant_user)
    if case.enterprise is not None and case.enterprise.organisation_id:
        told.append(case.enterprise.organisation)
    if action in ("intake", "forward") and case.intake_office_id:
        told.append(case.intake_office)
    return told


def _announce(case: ServiceCase, event: CaseEvent) -> None:
    from django.urls import reverse

    from twincity.notifications.services import notify

    name = rules.ACTION_NAMES.get(event.action, event.action)
    notify(
        _parties(case, event.action),
        event=f"govservices.case.{event.action}",
        title=f"办件 {case.number}（{case.item.name}）：{name}",
        body=event.comment,
        link=reverse("govservices:case", args=[case.pk]),
        actor=event.actor,
    )


def _record(
    case: ServiceCase,
    action: str,
    new_state: str,
    *,
    actor,
    comment: str = "",
    data: dict[str, Any] | None = None,
    at: datetime,
    organisation: Organisation | None = None,
    announce: bool = True,
    **changes: Any,
) -> ServiceCase:
    before = snapshot(case, CASE_AUDIT_FIELDS)
    old_state = case.state
    case.state = new_state
    for name, value in changes.items():
        setattr(case, name, value)
    case.save()
    if organisation is None and getattr(actor, "organisation_id", None):
        organisation = actor.organisation
    event = CaseEvent.objects.create(
        case=case,
        at=at,
        actor=actor if getattr(actor, "pk", None) else None,
        organisation=organisation,
        action=action,
        from_state=old_state,
        to_state=new_state,
        comment=(comment or "")[:500],
        data={k: plain(v) for k, v in (data or {}).items() if v is not None},
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        instance=case,
        before=before,
        after=snapshot(case, CASE_AUDIT_FIELDS),
        context=f"{action}: {comment}"[:255],
    )
    if announce:
        _announce(case, event)
    return case


def _transition(
    case: ServiceCase,
    action: str,
    *,
    actor,
    at: datetime | None = None,
    comment: str = "",
    data: dict[str, Any] | None = None,
    **changes: Any,
) -> ServiceCase:
    """The only state changer: check who (access.can_act: 403), the table (409 illegal_transition), a reason
    where one is required (422), then record the step."""
    require(access.can_act(actor, case, action), NOT_YOUR_CASE)
    try:
        new_state = rules.transition(case.state, action)
    except rules.RuleError as exc:
        raise _rule_error(exc) from exc
    if action in rules.REASON_REQUIRED and not (comment or "").strip():
        raise InvalidInput(
            "此步骤须说明理由 / this step needs a reason", code="reason_required", extra={"action": action}
        )
    return _record(case, action, new_state, actor=actor, comment=comment, data=data, at=at or timezone.now(), **changes)


def _given_materials(value: Mapping[str, Any] | None) -> dict[str, str]:
    given: dict[str, str] = {}
    for code, state in (value or {}).items():
        if state not in (rules.SUBMITTED, rules.PLEDGED):
            raise InvalidInput(
                f"材料 {code} 的状态须为 submitted 或 pledged / a material is submitted or pledged",
                code="invalid_material_state",
                extra={"material": code, "state": state},
            )
        given[str(code)] = state
    return given


def _known_materials(item: ServiceItem, given: Mapping[str, str]) -> None:
    known = {m["code"] for m in item.definition.get("materials", [])}
    unknown = sorted(set(given) - known)
    if unknown:
        raise InvalidInput(
            f"事项没有这些材料：{unknown} / unknown materials", code="unknown_material", extra={"unknown": unknown}
        )


def _case_number(city: str, at: datetime) -> str:
    return f"{'CQ' if city == City.CHONGQING else 'CD'}{_today(at):%Y%m%d}{secrets.token_hex(3).upper()}"


@transaction.atomic
def case_file(
    *,
    actor,
    item: ServiceItem,
    applicant_name: str,
    channel: str,
    situations: Iterable[str] = (),
    materials: Mapping[str, Any] | None = None,
    intake_office: Organisation | None = None,
    enterprise=None,
    applicant_user: User | None = None,
    delivery: str = "e_licence",
    at: datetime | None = None,
) -> ServiceCase:
    """File a case on the published version of `item` (the case keeps that version). Online: the applicant
    files for themselves (or their enterprise). At a window: a hall clerk files it for the applicant, at their
    hall (`intake_office`, defaulting to the clerk's); a window of the other city collects it ("collected")
    and the forwarding task sends it on once this transaction commits."""
    at = at or timezone.now()
    item = ServiceItem.objects.select_related("department", "implementing_body").get(pk=item.pk)
    if item.status != ServiceItem.Status.PUBLISHED:
        raise Conflict(
            "该事项版本已不再受理 / this item version is no longer offered",
            code="not_published",
            extra={"status": item.status},
        )
    if channel == ServiceCase.Channel.ONLINE:
        require(access.can_file_online(actor))
        applicant_user = actor if applicant_user is None else applicant_user
        intake_office, intake_city = None, item.city
    elif channel == ServiceCase.Channel.WINDOW:
        require(access.can_take_intake(actor), "只有政务服务大厅窗口可以窗口收件 (only a service hall takes cases)")
        hall = access.hall_of(actor)
        if intake_office is None and hall is not None:
            intake_office = hall.organisation
        hall_row = ServiceHall.objects.filter(organisation=intake_office).first() if intake_office else None
        if hall_row is None or (hall is not None and hall.organisation_id != hall_row.organisation_id):
            raise InvalidInput(
                "收件窗口须为本人所在的政务服务大厅 / the intake office is your service hall",
                code="invalid_intake_office",
                extra={"field": "intake_office"},
            )
        intake_city = hall_row.city
    else:
        raise InvalidInput(
            "渠道须为 window 或 online / channel is window or online",
            code="invalid_choice",
            extra={"field": "channel", "allowed": list(ServiceCase.Channel.values)},
        )
    if intake_city != item.city and item.cross_city_mode == "local":
        raise InvalidInput(
            "该事项不支持川渝通办，须在事项所在城市办理 / this item is handled only in its own city",
            code="not_cross_city",
            extra={"city": item.city},
        )
    if not (applicant_name or "").strip():
        raise InvalidInput("申请人不能为空 / an applicant name is required", extra={"field": "applicant_name"})
    if delivery not in rules.DELIVERY_MODES:
        raise InvalidInput(
            "送达方式无效 / invalid delivery mode",
            code="invalid_choice",
            extra={"field": "delivery", "allowed": list(rules.DELIVERY_MODES)},
        )
    try:
        chosen = rules.situations_check(item.definition, situations)
    except rules.RuleError as exc:
        raise _rule_error(exc) from exc
    given = _given_materials(materials)
    _known_materials(item, given)
    state = "collected" if intake_city != item.city else "received"
    case = ServiceCase(
        number=_case_number(item.city, at),
        item=item,
        state=state,
        situations=chosen,
        materials=given,
        applicant_name=applicant_name.strip()[:200],
        applicant_user=applicant_user,
        enterprise=enterprise,
        channel=channel,
        intake_city=intake_city,
        intake_office=intake_office,
        department=item.implementing_body,
        delivery=delivery,
        submitted_at=at,
    )
    case.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        instance=case,
        after=snapshot(case, CASE_AUDIT_FIELDS),
        context="intake",
    )
    event = CaseEvent.objects.create(
        case=case,
        at=at,
        actor=actor if getattr(actor, "pk", None) else None,
        organisation=intake_office,
        action="intake",
        from_state="",
        to_state=state,
        data={"channel": channel, "intake_city": intake_city},
    )
    _announce(case, event)
    if state == "collected":
        for forward in _FORWARDERS:
            forward(case)
    return case


# Who forwards a case collected at the other city's window: the forwarding task registers itself here
# (GovservicesConfig.ready), so the services do not import the tasks that call them.
_FORWARDERS: list[Callable[[ServiceCase], None]] = []


def case_forwarder_register(forward: Callable[[ServiceCase], None]) -> None:
    """`forward(case)` runs (in the filing transaction) for every case collected in the other city."""
    _FORWARDERS.append(forward)


@transaction.atomic
def case_forward(*, actor, case: ServiceCase, at: datetime | None = None) -> ServiceCase:
    """Send a case collected in the other city on to the item's city (异地代收代办). `actor` None: the task."""
    case = _locked(case)
    at = at or timezone.now()
    if actor is None:  # the forwarding task acts for the collecting hall
        try:
            new_state = rules.transition(case.state, "forward")
        except rules.RuleError as exc:
            raise _rule_error(exc) from exc
        return _record(
            case,
            "forward",
            new_state,
            actor=None,
            at=at,
            organisation=case.intake_office,
            comment="异地收件已转办至事项所在城市 / forwarded to the item's city",
            forwarded_at=at,
        )
    return _transition(
        case,
        "forward",
        actor=actor,
        at=at,
        forwarded_at=at,
        comment="异地收件已转办至事项所在城市 / forwarded to the item's city",
    )


@transaction.atomic
def case_accept(*, actor, case: ServiceCase, comment: str = "", at: datetime | None = None) -> ServiceCase:
    """Accept (受理): the clock starts. 422 materials_incomplete unless the required materials are submitted,
    held by the government or (容缺) pledged; a pledge is recorded in the event."""
    case = _locked(case)
    require(access.can_act(actor, case, "accept"), NOT_YOUR_CASE)
    if case.state == "received":
        try:
            rules.acceptance_check(case.item.definition, case.situations, case.materials)
        except rules.RuleError as exc:
            raise _rule_error(exc) from exc
    at = at or timezone.now()
    states = rules.material_states(case.item.definition, case.situations, case.materials)
    pledged = [code for code, state in states.items() if state == rules.PLEDGED]
    case.accepted_at = at
    _clock_dates(case)
    return _transition(
        case,
        "accept",
        actor=actor,
        at=at,
        comment=comment,
        data={"pledged": pledged or None, "due_date": case.due_date, "legal_due_date": case.legal_due_date},
        accepted_at=at,
        due_date=case.due_date,
        legal_due_date=case.legal_due_date,
    )


@transaction.atomic
def case_notify_correction(*, actor, case: ServiceCase, comment: str, at: datetime | None = None) -> ServiceCase:
    """一次性告知: tell the applicant, at once, every material still missing (the rules' list, plus the clerk's
    comment). Once a case: a second notice is refused (409 correction_once)."""
    case = _locked(case)
    require(access.can_act(actor, case, "notify_correction"), NOT_YOUR_CASE)
    if case.correction_notice:
        raise Conflict(
            "一次性告知只能发出一次，已告知的内容见办件 / the one-time correction notice was sent already",
            code="correction_once",
            extra={"notice": case.correction_notice},
        )
    at = at or timezone.now()
    missing = rules.missing_for_acceptance(case.item.definition, case.situations, case.materials)
    names = {m["code"]: m["name"] for m in case.item.definition.get("materials", [])}
    notice = {
        "at": at.isoformat(),
        "missing": [{"code": c, "name": names.get(c, c)} for c in missing],
        "comment": (comment or "")[:500],
    }
    return _transition(
        case,
        "notify_correction",
        actor=actor,
        at=at,
        comment=comment,
        data={"missing": missing},
        correction_notice=notice,
    )


@transaction.atomic
def case_resubmit(*, actor, case: ServiceCase, materials: Mapping[str, Any], at: datetime | None = None) -> ServiceCase:
    """The applicant supplies what the notice asked for: back to the window for acceptance."""
    case = _locked(case)
    given = _given_materials(materials)
    _known_materials(case.item, given)
    return _transition(
        case, "resubmit", actor=actor, at=at, data={"materials": given}, materials={**case.materials, **given}
    )


@transaction.atomic
def case_refuse_intake(*, actor, case: ServiceCase, comment: str, at: datetime | None = None) -> ServiceCase:
    """不予受理, with the reason."""
    case = _locked(case)
    return _transition(case, "refuse_intake", actor=actor, at=at, comment=comment, reason=(comment or "")[:500])


@transaction.atomic
def case_supply(*, actor, case: ServiceCase, materials: Mapping[str, Any], at: datetime | None = None) -> ServiceCase:
    """Record materials supplied while the case is handled (the 容缺 ones promised at acceptance)."""
    case = _locked(case)
    require(access.can_act(actor, case, "supply"), NOT_YOUR_CASE)
    if case.state not in ("received", "handling", "paused"):
        raise Conflict(
            "当前状态不能补交材料 / materials cannot be supplied in this state",
            code="illegal_transition",
            extra={"state": case.state},
        )
    given = _given_materials(materials)
    _known_materials(case.item, given)
    return _record(
        case,
        "supply",
        case.state,
        actor=actor,
        at=at or timezone.now(),
        data={"materials": given},
        materials={**case.materials, **given},
    )


@transaction.atomic
def case_pause(*, actor, case: ServiceCase, step: str, comment: str = "", at: datetime | None = None) -> ServiceCase:
    """Enter a special step (特殊环节) that the item's rules say does not count (or the correction wait): the
    clock stops."""
    case = _locked(case)
    require(access.can_act(actor, case, "pause"), NOT_YOUR_CASE)
    try:
        rules.transition(case.state, "pause")
        found = rules.pause_step(case.item.definition, step)
    except rules.RuleError as exc:
        raise _rule_error(exc) from exc
    at = at or timezone.now()
    CasePause.objects.create(case=case, step=found["code"], step_name=found["name"], started_at=at)
    return _transition(
        case,
        "pause",
        actor=actor,
        at=at,
        comment=comment,
        data={"step": found["code"], "step_name": found["name"], "max_days": found["max_days"]},
        paused_since=at,
        due_date=None,
        legal_due_date=None,
    )


@transaction.atomic
def case_resume(*, actor, case: ServiceCase, comment: str = "", at: datetime | None = None) -> ServiceCase:
    """End the special step: the clock counts again; the due dates are recomputed without the pause."""
    case = _locked(case)
    require(access.can_act(actor, case, "resume"), NOT_YOUR_CASE)
    try:
        rules.transition(case.state, "resume")
    except rules.RuleError as exc:
        raise _rule_error(exc) from exc
    at = at or timezone.now()
    pause = case.pauses.get(ended_at__isnull=True)
    if at < pause.started_at:
        raise InvalidInput("恢复时间不能早于暂停时间 / a pause cannot end before it starts", extra={"field": "at"})
    pause.ended_at = at
    pause.save(update_fields=["ended_at"])
    _clock_dates(case)
    paused_days = workdays.working_days_between(_today(pause.started_at), _today(at))
    return _transition(
        case,
        "resume",
        actor=actor,
        at=at,
        comment=comment,
        data={"step": pause.step, "paused_working_days": paused_days, "due_date": case.due_date},
        paused_since=None,
        due_date=case.due_date,
        legal_due_date=case.legal_due_date,
    )


@transaction.atomic
def case_decide(*, actor, case: ServiceCase, outcome: str, reason: str = "", at: datetime | None = None) -> ServiceCase:
    """The decision (准予 / 不予; a refusal states its reason). An approval needs every required material in
    hand (422 pledged_not_supplied while a 容缺 promise is open). The clock stops: the working days taken are
    kept for the dashboard."""
    case = _locked(case)
    require(access.can_act(actor, case, "decide"), NOT_YOUR_CASE)
    try:
        rules.transition(case.state, "decide")
        rules.decision_check(case.item.definition, case.situations, case.materials, outcome)
    except rules.RuleError as exc:
        raise _rule_error(exc) from exc
    if outcome == "refuse" and not (reason or "").strip():
        raise InvalidInput("不予许可须说明理由 / a refusal states its reason", code="reason_required")
    at = at or timezone.now()
    assert case.accepted_at is not None
    taken = workdays.working_days_used(_today(case.accepted_at), _today(at), _pauses(case))
    return _transition(
        case,
        "decide",
        actor=actor,
        at=at,
        comment=reason,
        data={"outcome": outcome, "working_days_taken": taken, "due_date": case.due_date},
        outcome=outcome,
        reason=(reason or "")[:500],
        decided_at=at,
        working_days_taken=taken,
    )


@transaction.atomic
def case_deliver(
    *, actor, case: ServiceCase, delivery: str | None = None, result_ref: str = "", at: datetime | None = None
) -> ServiceCase:
    """Deliver the result (e-licence, post, window), with the licence or tracking number."""
    case = _locked(case)
    delivery = delivery or case.delivery
    if delivery not in rules.DELIVERY_MODES:
        raise InvalidInput(
            "送达方式无效 / invalid delivery mode",
            code="invalid_choice",
            extra={"field": "delivery", "allowed": list(rules.DELIVERY_MODES)},
        )
    at = at or timezone.now()
    ref = (result_ref or "").strip()[:64] or (f"EL-{case.number}" if delivery == "e_licence" else "")
    return _transition(
        case,
        "deliver",
        actor=actor,
        at=at,
        data={"delivery": delivery, "result_ref": ref},
        delivery=delivery,
        result_ref=ref,
        delivered_at=at,
    )


@transaction.atomic
def case_close(*, actor, case: ServiceCase, at: datetime | None = None) -> ServiceCase:
    """办结: the applicant may now rate the service."""
    case = _locked(case)
    at = at or timezone.now()
    return _transition(case, "close", actor=actor, at=at, closed_at=at)


@transaction.atomic
def case_withdraw(*, actor, case: ServiceCase, comment: str, at: datetime | None = None) -> ServiceCase:
    case = _locked(case)
    at = at or timezone.now()
    changes: dict[str, Any] = {"reason": (comment or "")[:500]}
    open_pause = case.pauses.filter(ended_at__isnull=True).first()
    if open_pause is not None and access.can_act(actor, case, "withdraw") and case.state in ("paused",):
        open_pause.ended_at = at
        open_pause.save(update_fields=["ended_at"])
        changes["paused_since"] = None
    return _transition(case, "withdraw", actor=actor, at=at, comment=comment, **changes)


@transaction.atomic
def case_rate(*, actor, case: ServiceCase, grade: Any, comment: str = "", at: datetime | None = None) -> CaseRating:
    """好差评: the applicant grades a closed case once (409 not_closed / already_rated; 422 invalid_grade)."""
    case = _locked(case)
    require(access.can_act(actor, case, "rate"), "只有申请人可以评价 (only the applicant rates the service)")
    try:
        grade = rules.rating_check(case.state, CaseRating.objects.filter(case=case).exists(), grade)
    except rules.RuleError as exc:
        raise _rule_error(exc) from exc
    at = at or timezone.now()
    try:
        with transaction.atomic():
            rating = CaseRating.objects.create(
                case=case, grade=grade, comment=(comment or "")[:500], rated_by=actor, rated_at=at
            )
    except IntegrityError as exc:
        raise Conflict("每件只能评价一次 / a case is rated once", code="already_rated") from exc
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        instance=rating,
        after={"case_id": case.pk, "grade": grade, "comment": rating.comment},
        context="rate",
    )
    CaseEvent.objects.create(
        case=case,
        at=at,
        actor=actor,
        action="rate",
        from_state=case.state,
        to_state=case.state,
        comment=rating.comment,
        data={"grade": grade},
    )
    return rating


def case_step(*, actor, case: ServiceCase, data: Mapping[str, Any]) -> ServiceCase:
    """One step named by `data["action"]` (with its comment, step, outcome, delivery, result_ref, materials),
    dispatched to its service: the API's and the case page's one entry."""
    user = actor
    action, comment = data["action"], data.get("comment") or ""
    if action == "forward":
        return case_forward(actor=user, case=case)
    if action == "accept":
        return case_accept(actor=user, case=case, comment=comment)
    if action == "notify_correction":
        return case_notify_correction(actor=user, case=case, comment=comment)
    if action == "resubmit":
        return case_resubmit(actor=user, case=case, materials=data.get("materials") or {})
    if action == "refuse_intake":
        return case_refuse_intake(actor=user, case=case, comment=comment)
    if action == "supply":
        return case_supply(actor=user, case=case, materials=data.get("materials") or {})
    if action == "pause":
        return case_pause(actor=user, case=case, step=data.get("step") or "", comment=comment)
    if action == "resume":
        return case_resume(actor=user, case=case, comment=comment)
    if action == "decide":
        return case_decide(actor=user, case=case, outcome=data.get("outcome") or "", reason=comment)
    if action == "deliver":
        return case_deliver(actor=user, case=case, delivery=data.get("delivery"),
                                     result_ref=data.get("result_ref") or "")
    if action == "close":
        return case_close(actor=user, case=case)
    if action == "withdraw":
        return case_withdraw(actor=user, case=case, comment=comment)
    raise InvalidInput("未知步骤 / unknown step", code="invalid_choice",
                       extra={"field": "action", "allowed": [*rules.ACTIONS, "supply"]})


# --- the clock's schedule -------------------------------------------------------------------------------------


def cases_to_warn(*, today: date):
    """Running cases whose promised limit is within WARN_WORKING_DAYS and that were not warned yet."""
    try:
        horizon = workdays.add_working_days(today, WARN_WORKING_DAYS)
    except workdays.CalendarRangeError:  # the next year's notice is not in the calendar yet: warn on dates
        horizon = today + timedelta(days=WARN_WORKING_DAYS + 2)
    return ServiceCase.objects.filter(
        state="handling", warned_at__isnull=True, due_date__isnull=False, due_date__lte=horizon
    )


@transaction.atomic
def case_warn(*, case: ServiceCase, now: datetime) -> ServiceCase | None:
    """Warn the department of one case near (or past) its promised limit: once, recorded and announced."""
    case = _locked(case)
    if case.state != "handling" or case.warned_at is not None or case.due_date is None:
        return None
    clock = case_clock(case, _today(now))
    return _record(
        case,
        "warn",
        case.state,
        actor=None,
        at=now,
        comment=f"承诺办结日 {case.due_date:%Y-%m-%d}，剩余 {clock.days_left} 个工作日 / due soon",
        data={"due_date": case.due_date, "days_left": clock.days_left},
        warned_at=now,
    )


def cases_warn(*, now: datetime | None = None) -> list[int]:
    """The scheduled job: warn every case due within WARN_WORKING_DAYS working days; the ids warned."""
    now = now or timezone.now()
    done = []
    for case in cases_to_warn(today=_today(now)).order_by("pk"):
        if case_warn(case=case, now=now) is not None:
            done.append(case.pk)
    return done
