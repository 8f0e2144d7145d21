"""The instrument pages: 仪器共享 (catalogue search with availability), an instrument with its week calendar and
the booking form (refusals shown with their rule, timestamp and who may override), 我的预约 and the owner's
approval queue (审批). HTMX requests get the partial they swap in."""

from datetime import date, timedelta
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from twincity.core.access import require, visible
from twincity.core.errors import ApplicationError, TooLarge
from twincity.core.keyset import InvalidCursor, keyset_page
from twincity.enterprises.imports.jobs import upload_check_size
from twincity.instruments import access, catalogue_io, feeds, presentation, selectors, services
from twincity.instruments.forms import BookingForm, CatalogueImportForm, SearchForm, SeriesForm
from twincity.instruments.models import RateClass
from twincity.vouchers import access as voucher_access
from twincity.vouchers import selectors as voucher_selectors

PAGE_SIZE = 20


def _htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


@login_required
@require_GET
def catalogue_view(request):
    require(access.can_view_catalogue(request.user))
    form = SearchForm(request.GET or None)
    rows, next_cursor, window = [], None, (None, None)
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        window = form.window() if form.is_bound else (None, None)
        rate_class = data.get("rate_class") or RateClass.INDUSTRY
        qs = selectors.catalogue_search(
            text=data.get("q", ""), category=data.get("category"), city=data.get("city", ""),
            owner_id=data["owner"].pk if data.get("owner") else None, max_price=data.get("max_price"),
            rate_class=rate_class, on=timezone.localdate(), free_from=window[0], free_until=window[1],
            now=timezone.now())
        try:
            page = keyset_page(qs, ["name_zh"], size=PAGE_SIZE, after=request.GET.get("after") or None)
        except (InvalidCursor, ValueError, TypeError):
            page = keyset_page(qs, ["name_zh"], size=PAGE_SIZE)
        next_cursor = page.next_cursor
        prices = selectors.prices_from(instruments=page.object_list, rate_class=rate_class, on=timezone.localdate())
        rows = [{"instrument": i, "name": presentation.name(i), "value": presentation.wan(i.original_value),
                 "price": presentation.yuan(prices.get(i.pk)) if i.pk in prices else "—",
                 "category": presentation.name(i.category)} for i in page.object_list]
    query = request.GET.copy()
    query.pop("after", None)
    context = {"form": form, "rows": rows, "next_cursor": next_cursor, "query": query.urlencode(),
               "window": window, "first_page": not request.GET.get("after"),
               "can_import": access.can_import_catalogue(request.user)}
    template = "instruments/catalogue.html#results" if _htmx(request) else "instruments/catalogue.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def catalogue_import_view(request):
    """导入仪器目录: the Excel template through the API's one write path (catalogue_io.catalogue_import), for
    the people the API lets import; all or nothing: a refused file shows the API's message and its errors
    (row, column, value, reasons) and nothing is written."""
    require(access.can_import_catalogue(request.user))
    form = CatalogueImportForm(request.POST or None, request.FILES or None)
    result, refusal, status = None, None, 200
    if form.is_bound:
        status = 422
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                upload_check_size(upload)
                result = catalogue_io.catalogue_import(actor=request.user, data=b"".join(upload.chunks()),
                                                       filename=upload.name or "upload")
                status = 200
            except ApplicationError as exc:
                status = 413 if isinstance(exc, TooLarge) else 422
                refusal = {"message": exc.message, "errors": exc.extra.get("errors", []),
                           "error_count": exc.extra.get("error_count", 0)}
    context = {"form": form, "result": result, "refusal": refusal, "filename": request.FILES.get("file")}
    return render(request, "instruments/catalogue_import.html", context, status=status)


def _monday(request) -> date:
    try:
        day = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        day = timezone.localdate() + timedelta(days=1)  # the week of tomorrow (on a Sunday, the coming week)
    return presentation.week_start(day)


def _detail_context(request, instrument, form=None, refusals=None, booked=None, series_form=None,
                    series_refusals=None, series_made=None) -> dict:
    monday = _monday(request)
    start = presentation.local_midnight(monday)
    now = timezone.now()
    can_manage = access.can_manage_instrument(request.user, instrument)
    days = presentation.week_days(
        monday=monday, bookings=selectors.week_bookings(instrument=instrument, week_start=start, now=now),
        blackouts=selectors.week_blackouts(instrument=instrument, week_start=start), viewer=request.user,
        can_see_names=can_manage)
    prices = selectors.prices_in_force(instrument=instrument, on=timezone.localdate())
    return {
        "instrument": instrument, "name": presentation.name(instrument), "value": presentation.wan(instrument.original_value),
        "days": days, "monday": monday, "previous_week": monday - timedelta(days=7), "next_week": monday + timedelta(days=7),
        "prices": [{"item": presentation.name(line.item), "unit": line.item.get_unit_display(),
                    "amounts": [presentation.yuan(line.prices[rc].amount) if line.prices[rc] else "—"
                                for rc in RateClass.values]} for line in prices],
        "rate_classes": RateClass.labels, "rules": presentation.rules_summary(instrument),
        "form": form or BookingForm(initial={"day": timezone.localdate() + timedelta(days=1)}),
        "can_book": access.can_book(request.user, instrument), "can_override": access.can_override_rules(request.user),
        "refusals": refusals or [], "booked": booked,
        "series_form": series_form or SeriesForm(initial={"first_day": timezone.localdate() + timedelta(days=1)}),
        "series_refusals": series_refusals or [], "series_made": series_made,
        "vouchers": list(voucher_selectors.usable_vouchers(queryset=voucher_access.vouchers_held(request.user),
                                                           on=timezone.localdate())),
    }


@login_required
@require_GET
def instrument_view(request, public_id: UUID):
    instrument = selectors.instrument_for(request.user, public_id)
    context = _detail_context(request, instrument)
    template = "instruments/instrument.html#calendar" if _htmx(request) else "instruments/instrument.html"
    return render(request, template, context)


@login_required
@require_POST
def booking_create_view(request, public_id: UUID):
    instrument = selectors.instrument_for(request.user, public_id)
    require(access.can_book(request.user, instrument))
    form = BookingForm(request.POST)
    refusals, booked = [], None
    if form.is_valid():
        starts_at, ends_at = form.period()
        voucher = None
        if request.POST.get("voucher"):  # pay part with one of the enterprise's vouchers (twincity.vouchers)
            voucher = voucher_access.vouchers_held(request.user).filter(public_id=request.POST["voucher"]).first()
        try:
            booked = services.booking_create_paid(
                actor=request.user, voucher=voucher, instrument=instrument, starts_at=starts_at, ends_at=ends_at,
                purpose=form.cleaned_data["purpose"], override_reason=form.cleaned_data["override_reason"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)  # a voucher's refusals are named in its message
            refusals = presentation.refusal_rows(exc.extra.get("refusals", []) if exc.code.startswith("booking_") else [])
    if not _htmx(request):
        if booked is not None:
            messages.success(request, _("Booked: %(status)s.") % {"status": booked.get_status_display()})
            return redirect("instruments:instrument", public_id=instrument.public_id)
        return render(request, "instruments/instrument.html", _detail_context(request, instrument, form, refusals),
                      status=409 if refusals else 422)
    context = _detail_context(request, instrument, form if booked is None else None, refusals, booked)
    return render(request, "instruments/instrument.html#booking-panel", context)


@login_required
@require_POST
def series_create_view(request, public_id: UUID):
    """Book a recurring series from the instrument page: all or nothing, or skipping the refused dates (listed
    with the rule that refused each)."""
    instrument = selectors.instrument_for(request.user, public_id)
    require(access.can_book(request.user, instrument))
    form = SeriesForm(request.POST)
    refusals, made = [], None
    if form.is_valid():
        first_start, first_end = form.first_period()
        try:
            made, _bookings = services.series_create(
                actor=request.user, instrument=instrument, rrule=form.cleaned_data["rrule"], first_start=first_start,
                first_end=first_end, exdates=form.exceptions(), skip_conflicts=form.cleaned_data["skip_conflicts"],
                purpose=form.cleaned_data["purpose"], override_reason=form.cleaned_data["override_reason"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            refusals = presentation.series_refusal_rows(exc.extra.get("occurrences", []))
    if made is not None:
        refusals = presentation.series_refusal_rows(made.skipped)
    context = _detail_context(request, instrument, series_form=form if made is None else None,
                              series_refusals=refusals, series_made=made)
    if not _htmx(request):
        status = 200 if made is not None else (409 if refusals else 422)
        return render(request, "instruments/instrument.html", context, status=status)
    return render(request, "instruments/instrument.html#series-panel", context)


@login_required
@require_GET
def my_bookings_view(request):
    require(access.can_book_any(request.user))
    bookings = list(selectors.bookings_of(user=request.user)[:200])
    now = timezone.now()
    rows = [{"booking": b, "name": presentation.name(b.instrument), "amount": presentation.yuan(b.amount),
             "fee": presentation.yuan(b.cancellation_fee or b.no_show_fee) if b.cancellation_fee or b.no_show_fee
             else "",
             "badge": presentation.status_badge(b), "can_cancel": b.holds_slot and b.ends_at > now}
            for b in bookings]
    return render(request, "instruments/my_bookings.html",
                  {"rows": rows, "calendar_token": feeds.calendar_token_live(user=request.user)})


@login_required
@require_GET
def approvals_view(request):
    require(access.can_approve_any(request.user))
    queue = selectors.approval_queue(instruments=access.instruments_managed(request.user), now=timezone.now())
    rows = [{"booking": b, "name": presentation.name(b.instrument), "amount": presentation.yuan(b.amount)}
            for b in queue[:200]]
    return render(request, "instruments/approvals.html", {"rows": rows})


def _act(request, public_id: UUID, action, done: str, back: str):
    booking = selectors.booking_for(request.user, public_id)
    try:
        action(booking)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        for row in presentation.refusal_rows(exc.extra.get("refusals", [])):
            messages.error(request, f"{row['rule']}: {row['message']} ({row['at']})")
    else:
        messages.success(request, done)
    return redirect(back)


@login_required
@require_POST
def booking_cancel_view(request, public_id: UUID):
    reason = request.POST.get("reason", "")[:255]
    override = request.POST.get("override_reason", "")[:255]
    return _act(request, public_id, lambda b: services.booking_cancel(
        actor=request.user, booking=b, reason=reason, override_reason=override),
        _("The booking is cancelled."), request.POST.get("next") == "approvals" and "instruments:approvals"
        or "instruments:my-bookings")


@login_required
@require_POST
def booking_approve_view(request, public_id: UUID):
    note = request.POST.get("note", "")[:255]
    return _act(request, public_id, lambda b: services.booking_approve(actor=request.user, booking=b, note=note),
                _("The booking is confirmed."), "instruments:approvals")


@login_required
@require_POST
def booking_refuse_view(request, public_id: UUID):
    note = request.POST.get("note", "")[:255]
    return _act(request, public_id, lambda b: services.booking_refuse(actor=request.user, booking=b, note=note),
                _("The booking is refused."), "instruments:approvals")


# --- calendar feeds (twincity.instruments.feeds) -----------------------------------------------------------------


def _ics(body: bytes, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{name}.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_GET
def instrument_feed_view(request, public_id: UUID):
    """An instrument's public busy/free feed (no sign-in: calendar apps cannot sign in)."""
    instrument = visible(feeds.instrument_for_feed(public_id=public_id))
    return _ics(feeds.instrument_feed(instrument=instrument), f"instrument-{public_id}")


@require_GET
def token_instrument_feed_view(request, token: str, public_id: UUID):
    """An instrument's feed through a person's secret address: the bookings they may see in detail."""
    viewer = visible(feeds.calendar_token_user(token=token))
    instrument = visible(feeds.instrument_for_feed(public_id=public_id))
    return _ics(feeds.instrument_feed(instrument=instrument, viewer=viewer), f"instrument-{public_id}")


@require_GET
def token_bookings_feed_view(request, token: str):
    """A person's own bookings, through their secret address."""
    user = visible(feeds.calendar_token_user(token=token))
    return _ics(feeds.user_feed(user=user), "my-bookings")


@login_required
@require_POST
def calendar_token_view(request):
    """Make a new feed address (revoking the old one), shown once; or stop it (`action=revoke`)."""
    require(access.can_book_any(request.user))
    if request.POST.get("action") == "revoke":
        feeds.calendar_token_revoke(actor=request.user)
        messages.success(request, "日历订阅地址已停用 (the calendar feed address is revoked)")
        return redirect("instruments:my-bookings")
    token = feeds.calendar_token_rotate(actor=request.user)
    url = request.build_absolute_uri(reverse("instruments:feed-bookings", kwargs={"token": token}))
    messages.success(request, f"新的日历订阅地址（仅显示一次，请复制到日历应用）：{url}")
    return redirect("instruments:my-bookings")
