"""The instrument-sharing JSON endpoints: the catalogue (search with availability, an instrument with its
prices in force and its rules, its busy periods), the rules (owner staff), and bookings (book, change in place,
approve, refuse, cancel, waive a fee, complete; a person's own bookings and an owner's approval queue).

A request the booking rules refuse answers 409 `booking_refused` with `extra.refusals`: each names the rule, the
timestamp it measured (`at`) and who may override it; an overlap answers 409 `booking_conflict`, for everyone."""

from datetime import time, timedelta
from uuid import UUID

from django.http import HttpResponse
from django.utils import timezone
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from twincity.core.access import require, visible
from twincity.core.api import Pagination, errors
from twincity.core.errors import InvalidInput
from twincity.core.keyset import InvalidCursor, keyset_page
from twincity.enterprises.imports.jobs import upload_check_size
from twincity.instruments import access, catalogue_io, payments, selectors, services
from twincity.instruments.models import Booking, Instrument, RateClass, UserQualification
from twincity.instruments.schemas import (
    BookingChangeIn,
    BookingIn,
    BookingOut,
    BusyFilters,
    BusyOut,
    CancelIn,
    CategoryOut,
    InstrumentDetailOut,
    InstrumentPageOut,
    NoteIn,
    QualificationIn,
    QualificationOut,
    RefuseIn,
    RevokeIn,
    RulesIn,
    SearchFilters,
    SeriesCancelIn,
    SeriesChangeIn,
    SeriesIn,
    SeriesOut,
    VoucherPayIn,
    WaiveIn,
)
from twincity.vouchers.selectors import voucher_get

router = Router(tags=["instruments 大型仪器共享"])


class CatalogueImportOut(Schema):
    rows: int
    created: int
    updated: int
    unchanged: int
    items: int
    price_lines: int

MAX_WINDOW = timedelta(days=62)


def _aware(value):
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _detail(instrument: Instrument) -> dict:
    prices = [{"service_item": line.item.code, "name_zh": line.item.name_zh, "unit": line.item.unit,
               "rate_class": rate_class, "amount": price.amount, "valid_from": price.valid_from}
              for line in selectors.prices_in_force(instrument=instrument, on=timezone.localdate())
              for rate_class, price in line.prices.items() if price is not None]
    return {**{f: getattr(instrument, f) for f in (
        "public_id", "name_zh", "name_en", "model", "maker", "owner_id", "city", "site", "status", "operation",
        "original_value", "is_large", "required_qualification", "specifications", "rules", "rules_version")},
        "category.code": instrument.category.code, "category.name_zh": instrument.category.name_zh,
        "owner.name": instrument.owner.name, "prices": prices}


# --- the catalogue ---------------------------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _xlsx_doc(description: str) -> dict:
    return {"responses": {"200": {"description": description, "content": {XLSX: {"schema": {
        "type": "string", "format": "binary"}}}}}}


@router.get("/catalogue/export.xlsx", response={200: None, **errors(401, 403)},
            summary="The catalogue I manage in the Excel import template (administrators: all of it)",
            openapi_extra=_xlsx_doc("XLSX: one row per service item, with today's prices by rate class"))
def catalogue_export_api(request):
    return _xlsx(catalogue_io.catalogue_xlsx(actor=request.user), "instruments.xlsx")


@router.get("/catalogue/gbt30523.xlsx", response={200: None, **errors(401)},
            summary="The catalogue in the core metadata elements of GB/T 30523 (where they map)",
            openapi_extra=_xlsx_doc("XLSX: one row per instrument not retired; the mapping is documented in "
                                    "twincity.instruments.catalogue_io"))
def catalogue_gbt30523_api(request):
    base = request.build_absolute_uri("/")
    return _xlsx(catalogue_io.gbt30523_xlsx(actor=request.user, base_url=base), "instruments-gbt30523.xlsx")


@router.post("/catalogue/import", response={200: CatalogueImportOut, **errors(401, 403, 413, 422)},
             summary="Import the catalogue's Excel template (administrators; owners' staff: their instruments)",
             description="All or nothing, through the services: a file with any error is refused with 422, code "
                         "`import_rejected`, `extra.errors` = [{row, column, value, reason_zh, reason_en}]; nothing "
                         "is written. A blank `public_id` adds an instrument; prices add dated price lines.")
def catalogue_import_api(request, file: File[UploadedFile]):
    require(access.can_import_catalogue(request.user))
    upload_check_size(file)
    data = b"".join(file.chunks())
    return catalogue_io.catalogue_import(actor=request.user, data=data, filename=file.name or "upload").as_dict()



@router.get("/categories", response={200: list[CategoryOut], **errors(401)},
            summary="The instrument classification (national classes and subclasses)")
def category_list_api(request):
    require(access.can_view_catalogue(request.user))
    return selectors.categories().select_related("parent")


@router.get("", response={200: InstrumentPageOut, **errors(401, 422)},
            summary="Search the catalogue (text, category, city, owner, price, free in a window)",
            description="Keyset pages in name order: pass `next_cursor` back as `after`. A window "
                        "(`free_from`, `free_until`, at most 62 days) keeps the instruments in service that no "
                        "booking holding its slot (with its set-up and clean-up) nor a blackout overlaps. A cursor "
                        "that does not decode, or a window that ends before it starts, answers 422; an unknown "
                        "category finds nothing.")
def instrument_search_api(request, filters: Query[SearchFilters]):
    require(access.can_view_catalogue(request.user))
    category = None
    if filters.category:
        category = selectors.category_get(code=filters.category)
        if category is None:  # an unknown class has no instruments
            return {"items": [], "next_cursor": None}
    free_from = _aware(filters.free_from) if filters.free_from else None
    free_until = _aware(filters.free_until) if filters.free_until else None
    if (free_from is None) != (free_until is None) or (
            free_from is not None and not (free_from < free_until <= free_from + MAX_WINDOW)):
        raise InvalidInput("时间窗无效：须同时给出起止，结束晚于开始且不超过62天 (an invalid window)",
                           extra={"fields": {"free_until": ["after free_from, within 62 days"]}})
    qs = selectors.catalogue_search(
        text=filters.q, category=category, city=filters.city or "", owner_id=filters.owner_id,
        max_price=filters.max_price, rate_class=filters.rate_class or RateClass.INDUSTRY, on=timezone.localdate(),
        free_from=free_from, free_until=free_until, now=timezone.now())
    try:
        page = keyset_page(qs, ["name_zh"], size=filters.limit, after=filters.after)
    except (InvalidCursor, ValueError, TypeError) as exc:
        raise InvalidInput("分页游标无效 (invalid cursor)", extra={"fields": {"after": ["invalid"]}}) from exc
    return {"items": page.object_list, "next_cursor": page.next_cursor}


@router.get("/bookings", response={200: list[BookingOut], **errors(401, 422)},
            summary="My bookings, the latest first")
@paginate(Pagination)
def my_bookings_api(request):
    return selectors.bookings_of(user=request.user).select_related("user")


@router.get("/approvals", response={200: list[BookingOut], **errors(401, 403, 422)},
            summary="The pending bookings of the instruments I manage (owner staff, administrators)",
            description="The soonest hold to expire first; a pending booking past its hold is released, not listed.")
@paginate(Pagination)
def approval_queue_api(request):
    require(access.can_approve_any(request.user))
    return selectors.approval_queue(instruments=access.instruments_managed(request.user), now=timezone.now())


@router.get("/bookings/{public_id}", response={200: BookingOut, **errors(401, 404, 422)},
            summary="A booking (its booker, its paying organisation, the owner's staff, administrators)")
def booking_detail_api(request, public_id: UUID):
    return selectors.booking_for(request.user, public_id)


@router.post("/bookings/{public_id}/change", response={200: BookingOut, **errors(403, 404, 409, 422)},
             summary="Move or resize a booking in place (its booker, administrators)",
             description="The new period obeys the rules (the change notice counts from the earlier start): 409 "
                         "`booking_refused` names each rule; 409 `booking_conflict` for an overlap; 409 "
                         "`booking_state` when the booking no longer holds its slot.")
def booking_change_api(request, public_id: UUID, payload: BookingChangeIn):
    booking = selectors.booking_for(request.user, public_id)
    return services.booking_change(actor=request.user, booking=booking, starts_at=_aware(payload.starts_at),
                                   ends_at=_aware(payload.ends_at), override_reason=payload.override_reason)


@router.post("/bookings/{public_id}/approve", response={200: BookingOut, **errors(403, 404, 409, 422)},
             summary="Confirm a pending booking (owner staff, administrators)",
             description="409 `booking_state` when it is not pending (e.g. its hold expired).")
def booking_approve_api(request, public_id: UUID, payload: NoteIn):
    return services.booking_approve(actor=request.user, booking=selectors.booking_for(request.user, public_id), note=payload.note)


@router.post("/bookings/{public_id}/refuse", response={200: BookingOut, **errors(403, 404, 409, 422)},
             summary="Refuse a pending booking with the reason (owner staff, administrators)")
def booking_refuse_api(request, public_id: UUID, payload: RefuseIn):
    return services.booking_refuse(actor=request.user, booking=selectors.booking_for(request.user, public_id), note=payload.note)


@router.post("/bookings/{public_id}/cancel", response={200: BookingOut, **errors(403, 404, 409, 422)},
             summary="Cancel a booking (its booker; the owner's staff and administrators without a fee)",
             description="The booker cancels no later than the cancel notice (409 `booking_refused` after it; an "
                         "administrator may override with a reason) and owes the fee of the rules' tiers.")
def booking_cancel_api(request, public_id: UUID, payload: CancelIn):
    return services.booking_cancel(actor=request.user, booking=selectors.booking_for(request.user, public_id), reason=payload.reason,
                                   override_reason=payload.override_reason)


@router.post("/bookings/{public_id}/waive-fee", response={200: BookingOut, **errors(403, 404, 409, 422)},
             summary="Waive a cancellation fee with the reason (owner staff, administrators)")
def booking_fee_waive_api(request, public_id: UUID, payload: WaiveIn):
    return services.booking_fee_waive(actor=request.user, booking=selectors.booking_for(request.user, public_id), reason=payload.reason)


@router.post("/bookings/{public_id}/complete", response={200: BookingOut, **errors(403, 404, 409, 422)},
             summary="Mark a confirmed booking completed once it has started (owner staff, administrators)")
def booking_complete_api(request, public_id: UUID):
    return services.booking_complete(actor=request.user, booking=selectors.booking_for(request.user, public_id))


@router.post("/bookings/{public_id}/voucher", response={200: BookingOut, **errors(403, 404, 409, 422)},
             summary="Pay part of a booking with an innovation voucher (its booker; at booking time or before "
                     "approval)",
             description="Reserves the voucher part; `cash_amount` is the rest. 409 `voucher_refused` with "
                         "`extra.refusals` (validity, category, region, provider, copay, balance…); 409 "
                         "`already_claimed` with `extra.claim` when the booking is claimed already (voucher, test "
                         "subsidy, post-subsidy); 409 `booking_state` after approval, once started, or already "
                         "paid with a voucher.")
def booking_voucher_apply_api(request, public_id: UUID, payload: VoucherPayIn):
    booking = selectors.booking_for(request.user, public_id)
    voucher = voucher_get(public_id=payload.voucher)
    if voucher is None or voucher.holder_id != request.user.organisation_id:
        visible(None, "创新券不存在 (no such voucher)")
    return payments.booking_voucher_apply(actor=request.user, booking=booking, voucher=voucher, wanted=payload.amount)


@router.delete("/bookings/{public_id}/voucher", response={200: BookingOut, **errors(403, 404, 409, 422)},
               summary="Take the voucher off a booking (its booker; before approval and before it starts)")
def booking_voucher_remove_api(request, public_id: UUID):
    return payments.booking_voucher_remove(actor=request.user, booking=selectors.booking_for(request.user, public_id))


@router.get("/{public_id}", response={200: InstrumentDetailOut, **errors(401, 404, 422)},
            summary="An instrument with its rules and the price lines in force today")
def instrument_detail_api(request, public_id: UUID):
    return _detail(selectors.instrument_for(request.user, public_id))


@router.put("/{public_id}/rules", response={200: InstrumentDetailOut, **errors(403, 404, 422)},
            summary="Replace an instrument's booking rules (owner staff, administrators)",
            description="Invalid rules answer 422 with every error (`extra.errors`). Bookings already made keep "
                        "their period and buffers.")
def instrument_rules_api(request, public_id: UUID, payload: RulesIn):
    instrument = selectors.instrument_for(request.user, public_id)
    return _detail(services.instrument_rules_set(actor=request.user, instrument=instrument, definition=payload.rules))


@router.get("/{public_id}/bookings", response={200: list[BusyOut], **errors(401, 404, 422)},
            summary="The busy periods of an instrument in a window (at most 62 days)",
            description="The bookings that hold their slot, with what they hold (set-up and clean-up); no names.")
def instrument_busy_api(request, filters: Query[BusyFilters], public_id: UUID):
    instrument = selectors.instrument_for(request.user, public_id)
    start, until = _aware(filters.start), _aware(filters.until)
    if not start < until <= start + MAX_WINDOW:
        raise InvalidInput("时间窗无效 (an invalid window)", extra={"fields": {"until": ["after from, within 62 days"]}})
    return (Booking.objects.holding(timezone.now())
            .filter(instrument=instrument, blocked_from__lt=until, blocked_until__gt=start).order_by("blocked_from"))


@router.post("/{public_id}/bookings", response={201: BookingOut, **errors(403, 404, 409, 422)},
             summary="Book an instrument (researchers, enterprise users, administrators)",
             description="201 with the booking, confirmed or pending (holding the slot until `hold_expires_at`). "
                         "409 `booking_refused`: `extra.refusals` lists each rule refused with the timestamp it "
                         "measured and who may override it (`administrator`, with `override_reason`). 409 "
                         "`booking_conflict`: the slot is taken (nobody overrides that). 422: an end before the "
                         "start, or an unknown service item.")
def booking_create_api(request, public_id: UUID, payload: BookingIn):
    instrument = selectors.instrument_for(request.user, public_id)
    item = None
    if payload.service_item:
        item = instrument.service_items.filter(code=payload.service_item, active=True).first()
        if item is None:
            raise InvalidInput("服务项目不存在 (no such service item)",
                               extra={"fields": {"service_item": [payload.service_item]}})
    booking = services.booking_create(
        actor=request.user, instrument=instrument, starts_at=_aware(payload.starts_at), ends_at=_aware(payload.ends_at),
        service_item=item, purpose=payload.purpose, override_reason=payload.override_reason)
    return Status(201, booking)


# --- recurring series, no-shows, qualifications ----------------------------------------------------------------


def _item(instrument: Instrument, code: str | None):
    if not code:
        return None
    item = instrument.service_items.filter(code=code, active=True).first()
    if item is None:
        raise InvalidInput("服务项目不存在 (no such service item)", extra={"fields": {"service_item": [code]}})
    return item


@router.post("/{public_id}/series", response={201: SeriesOut, **errors(403, 404, 409, 422)},
             summary="Book a recurring series (RFC 5545 RRULE with EXDATE exceptions)",
             description="The rule is expanded in Asia/Shanghai from `first_start`; every occurrence is checked "
                         "against the rules in one transaction, counting the series' earlier occurrences toward "
                         "quotas. Without `skip_conflicts`, one refused occurrence refuses the whole series: 409 "
                         "`booking_refused` (or `booking_conflict` when only overlaps/capacity refuse) with "
                         "`extra.occurrences` = [{starts_at, refusals: [{rule, at, override, message_zh, "
                         "message_en}]}]. With it, the refused dates are skipped and listed in `skipped` (409 "
                         "when none is left). 422 `invalid_series`: a rule that does not parse or does not end.")
def series_create_api(request, public_id: UUID, payload: SeriesIn):
    instrument = selectors.instrument_for(request.user, public_id)
    series, _bookings = services.series_create(
        actor=request.user, instrument=instrument, rrule=payload.rrule, first_start=_aware(payload.first_start),
        first_end=_aware(payload.first_end), exdates=payload.exdates, skip_conflicts=payload.skip_conflicts,
        service_item=_item(instrument, payload.service_item), purpose=payload.purpose,
        override_reason=payload.override_reason)
    return Status(201, series)


@router.get("/series/{public_id}", response={200: SeriesOut, **errors(401, 404, 422)},
            summary="A recurring series with its occurrences (its booker, its organisation, the owner's staff)")
def series_detail_api(request, public_id: UUID):
    return selectors.series_for(request.user, public_id)


@router.post("/series/{public_id}/change", response={200: SeriesOut, **errors(403, 404, 409, 422)},
             summary="Move a series' coming occurrences to a new local time and length, in place",
             description="All coming occurrences (or those from `from_day`) move together or none does (409 with "
                         "`extra.occurrences`); each keeps its id; the audit trail records every change.")
def series_change_api(request, public_id: UUID, payload: SeriesChangeIn):
    series = selectors.series_for(request.user, public_id)
    services.series_change(actor=request.user, series=series, start=time.fromisoformat(payload.start),
                           minutes=payload.minutes, from_day=payload.from_day,
                           override_reason=payload.override_reason)
    return selectors.series_for(request.user, public_id)


@router.post("/series/{public_id}/cancel", response={200: SeriesOut, **errors(403, 404, 409, 422)},
             summary="Cancel the rest of a series (from `from_start`, default now)",
             description="Each occurrence as a single cancellation would be (notice, fee tiers); one inside the "
                         "cancel notice refuses the request (409 with `extra.occurrences`). Cancel one occurrence "
                         "with /bookings/{id}/cancel: it becomes an exception (EXDATE) of the series.")
def series_cancel_api(request, public_id: UUID, payload: SeriesCancelIn):
    series = selectors.series_for(request.user, public_id)
    services.series_cancel(actor=request.user, series=series,
                           from_start=_aware(payload.from_start) if payload.from_start else None,
                           reason=payload.reason, override_reason=payload.override_reason)
    return selectors.series_for(request.user, public_id)


@router.post("/bookings/{public_id}/no-show", response={200: BookingOut, **errors(403, 404, 409, 422)},
             summary="Mark a confirmed booking a no-show once it has started (owner staff, administrators)",
             description="The rules' no-show fee (percent of the amount or fixed) is owed, less the share of the "
                         "slot someone else rebooks; waive it with /waive-fee and a reason.")
def booking_no_show_api(request, public_id: UUID, payload: NoteIn):
    return services.booking_no_show(actor=request.user, booking=selectors.booking_for(request.user, public_id), note=payload.note)


@router.get("/{public_id}/qualifications", response={200: list[QualificationOut], **errors(401, 403, 404, 422)},
            summary="The qualification records of an instrument (owner staff, administrators)")
def qualification_list_api(request, public_id: UUID):
    instrument = selectors.instrument_for(request.user, public_id)
    require(access.can_manage_instrument(request.user, instrument))
    return (UserQualification.objects.filter(instrument=instrument)
            .select_related("instrument", "user", "granted_by").order_by("user__username", "-valid_until"))


@router.post("/{public_id}/qualifications", response={201: QualificationOut, **errors(403, 404, 422)},
             summary="Record a person's qualification (training) for an instrument (owner staff, administrators)",
             description="Valid on the local days [valid_from, valid_until]. Self-run instruments that require a "
                         "qualification are booked only with one valid on the booking's days (409 "
                         "`booking_refused`, rule `qualification`, otherwise).")
def qualification_grant_api(request, public_id: UUID, payload: QualificationIn):
    from django.contrib.auth import get_user_model

    instrument = selectors.instrument_for(request.user, public_id)
    require(access.can_manage_instrument(request.user, instrument))
    user = get_user_model().objects.filter(username=payload.username, is_active=True).first()
    if user is None:
        raise InvalidInput("用户不存在 (no such user)", extra={"fields": {"username": [payload.username]}})
    qualification = services.qualification_grant(actor=request.user, instrument=instrument, user=user,
                                                 valid_from=payload.valid_from, valid_until=payload.valid_until,
                                                 note=payload.note)
    return Status(201, qualification)


@router.post("/qualifications/{qualification_id}/revoke", response={200: QualificationOut, **errors(403, 404, 409, 422)},
             summary="Revoke a qualification with the reason (owner staff, administrators)")
def qualification_revoke_api(request, qualification_id: int, payload: RevokeIn):
    qualification = (UserQualification.objects.select_related("instrument", "instrument__owner", "user", "granted_by")
                     .filter(pk=qualification_id).first())
    if qualification is None or not access.can_manage_instrument(request.user, qualification.instrument):
        visible(None, "资质记录不存在 (no such qualification)")
    assert qualification is not None
    return services.qualification_revoke(actor=request.user, qualification=qualification, reason=payload.reason)
