"""How the instrument pages show things: names in the viewer's language, yuan to the fen, the week calendar in
Asia/Shanghai, refusals with their rule, timestamp and who may override them."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from twincity.instruments import rules as booking_rules
from twincity.instruments.models import Booking, Instrument


def english() -> bool:
    return (get_language() or "").startswith("en")


def name(obj) -> str:
    """An object's Chinese name, or its English one on the English pages (when it has one)."""
    return (obj.name_en or obj.name_zh) if english() else obj.name_zh


def yuan(amount: Decimal | None) -> str:
    if amount is None:
        return "—"
    unit = _("yuan")
    return f"{amount.quantize(Decimal('0.01')):,f} {unit}"


def wan(amount: Decimal) -> str:
    unit = _("10,000 yuan")
    return f"{(amount / 10000).normalize():,f} {unit}"


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@dataclass(frozen=True)
class Slot:
    start: str
    end: str
    status: str
    label: str
    mine: bool


def week_days(*, monday: date, bookings, blackouts, viewer, can_see_names: bool) -> list[dict]:
    """The seven local days from `monday`, each with its bookings and blackouts as local HH:MM periods."""
    days = [{"date": monday + timedelta(days=i), "slots": []} for i in range(7)]
    for booking in bookings:
        start, end = timezone.localtime(booking.starts_at), timezone.localtime(booking.ends_at)
        index = (start.date() - monday).days
        if 0 <= index < 7:
            mine = booking.user_id == getattr(viewer, "pk", None)
            label = str(booking.user) if (can_see_names or mine) else _("Booked")
            days[index]["slots"].append(Slot(f"{start:%H:%M}", f"{end:%H:%M}", booking.status,
                                             f"{label} · {booking.get_status_display()}", mine))
    for blackout in blackouts:
        for day in days:
            low, high = local_midnight(day["date"]), local_midnight(day["date"] + timedelta(days=1))
            if blackout.starts_at < high and low < blackout.ends_at:
                start = timezone.localtime(max(blackout.starts_at, low))
                end = timezone.localtime(min(blackout.ends_at, high))
                closed = _("Closed")
                day["slots"].append(Slot(f"{start:%H:%M}", "24:00" if end == high else f"{end:%H:%M}",
                                         "blackout", f"{closed}: {blackout.reason}", False))
    for day in days:
        day["slots"].sort(key=lambda slot: slot.start)
    return days


def refusal_rows(refusals: list[dict]) -> list[dict]:
    """Refusals (as the errors carry them) for the page: the message in the viewer's language, the rule, the
    timestamp in Asia/Shanghai and who may override."""
    rows = []
    for r in refusals:
        at = datetime.fromisoformat(r["at"])
        rows.append({
            "rule": r["rule"], "message": r["message_en"] if english() else r["message_zh"],
            "at": timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
            "override": _("an administrator, with a logged reason") if r["override"] == booking_rules.ADMINISTRATOR
            else _("nobody"),
        })
    return rows


def rules_summary(instrument: Instrument) -> list[tuple[str, str]]:
    r = booking_rules.Rules.from_dict(instrument.rules)
    weekdays = "".join("一二三四五六日"[d - 1] for d in sorted(r.weekdays))
    weekdays_label = _("weekdays")
    rows = [
        (_("Slot grid"), f"{r.slot_minutes} min"),
        (_("Opening hours"), f"{r.open_from // 60:02d}:{r.open_from % 60:02d}–{r.open_until // 60:02d}:"
                             f"{r.open_until % 60:02d} · {weekdays_label} {weekdays}"),
        (_("Length"), f"{r.min_minutes}–{r.max_minutes} min"),
        (_("Advance window"), _("%(days)s days") % {"days": r.advance_days}),
        (_("Notice (book / change / cancel)"), f"{r.notice_create} / {r.notice_change} / {r.notice_cancel} min"),
        (_("Set-up / clean-up buffer"), f"{r.setup_minutes} / {r.cleanup_minutes} min"),
        (_("Gap between one person's bookings"), f"{r.user_gap_minutes} min"),
        (_("Approval"), (_("required; a request holds the slot for %(hours)s h") % {"hours": r.hold_hours})
         if r.approval_required else _("not required")),
    ]
    for q in r.quotas:
        limit = f"{q.minutes / 60:g} h" if q.minutes is not None else f"{q.count} ×"
        rows.append((_("Quota"), f"{limit} / {q.per} / {q.scope}"))
    for tier in r.cancellation:
        rows.append((_("Cancellation fee"), f"< {tier.within_hours} h: {tier.percent}%"))
    if r.no_show_percent is not None:
        rows.append(("未到场费", f"{r.no_show_percent}%"))
    elif r.no_show_fixed is not None:
        rows.append(("未到场费", f"{r.no_show_fixed} 元"))
    if r.capacity > 1:
        rows.append(("容量（可同时预约）", f"{r.capacity}"))
    if instrument.required_qualification and instrument.operation == Instrument.Operation.SELF:
        rows.append(("资质要求", f"自主操作须持有「{instrument.required_qualification}」的有效资质"))
    return rows


def series_refusal_rows(occurrences: list[dict]) -> list[dict]:
    """A series' refused (or skipped) occurrences for the page: each occurrence's local start with the rows of
    its refusals."""
    rows = []
    for occurrence in occurrences:
        start = timezone.localtime(datetime.fromisoformat(occurrence["starts_at"])).strftime("%Y-%m-%d %H:%M")
        rows += [{**row, "occurrence": start} for row in refusal_rows(occurrence["refusals"])]
    return rows


def status_badge(booking: Booking) -> str:
    return {"pending": "warn", "confirmed": "ok", "refused": "bad", "expired": "muted", "cancelled": "muted",
            "completed": "ok", "no_show": "bad"}.get(booking.status, "")
