"""An instrument in Chengdu paid with a Chongqing innovation voucher, in a real browser. Set up through the services
(the one write path): an X-ray diffractometer of owen's institute (重庆大学分析测试中心) sited in Chengdu, needing
approval, with an hourly 机时 item priced per rate class; another Chengdu instrument that bob holds tomorrow
afternoon; one in Chongqing; a Chongqing voucher batch (川渝互认: accepted in Chengdu, 30 % co-pay) with a voucher
issued to alice's company.

alice searches the catalogue for Chengdu instruments free for the whole of tomorrow afternoon (Asia/Shanghai; the
search form's day and window fields): only the diffractometer. She books 14:00–16:30 choosing her voucher; the
booking shows its voucher part and its cash part, in the booking panel and in 我的预约. owen approves it in 预约审批
(where he sees the parts too). The check-in window opens an hour before the start, which is tomorrow, so the
session is recorded through the usage service at tomorrow's times (check-in 14:00, check-out 16:30: the booking
is completed, charged and its voucher used); owen sees it on 使用登记. The month's statement for alice's company is
generated and issued (the service, at tomorrow 17:00: a statement only takes bookings that are over), and alice
opens it from 结算单: the line and the totals show the amount, the voucher part and the cash part."""

from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from twincity.core.models import AuditEntry
from twincity.instruments import selectors, services, usage
from twincity.instruments.models import Booking, BookingCharge, RateClass, Statement, UsageSession
from twincity.notifications.models import Notification
from twincity.testing import PASSWORD, Cast
from twincity.vouchers import services as vouchers
from twincity.vouchers.models import Redemption, SubsidyClaim

from .conftest import assert_nav_one_line, login, nav_click

SH = ZoneInfo("Asia/Shanghai")
FEN = Decimal("0.01")
RULES = {"slot_minutes": 30, "open_from": "08:00", "open_until": "20:00", "weekdays": [1, 2, 3, 4, 5, 6, 7],
         "min_minutes": 60, "max_minutes": 480, "advance_days": 30, "notice_minutes": {"create": 120},
         "approval": {"required": True, "hold_hours": 24}}
PRICES = {RateClass.INTERNAL: Decimal("180.00"), RateClass.ACADEMIC: Decimal("320.00"),
          RateClass.INDUSTRY: Decimal("456.50")}
COPAY = Decimal("0.30")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


def texts(row) -> list[str]:
    return [" ".join(cell.split()) for cell in row.locator("td").all_inner_texts()]


def instrument(cast, *, name: str, model: str, city: str, category, price_from: date):
    made = services.instrument_create(actor=cast.owen, owner=cast.institute, rules=RULES, values={
        "name_zh": name, "name_en": "X-ray instrument", "model": model, "maker": "Rigaku 理学",
        "category_id": category.pk, "original_value": Decimal("2860000"), "city": city,
        "site": "成都天府国际生物城联合实验室" if city == "chengdu" else "重庆大学虎溪校区理科楼"})
    item = services.service_item_set(actor=cast.owen, instrument=made, code="machine-time", name_zh="机时",
                                     name_en="Machine time")
    for rate_class, amount in PRICES.items():
        services.price_set(actor=cast.owen, item=item, rate_class=rate_class, amount=amount, valid_from=price_from)
    return made


def test_alice_books_a_chengdu_instrument_with_a_voucher_and_the_statement_splits_voucher_and_cash(page, browser):
    cast = Cast.create()
    today = datetime.now(SH).date()
    tomorrow = today + timedelta(days=1)
    services.categories_sync()  # the national classification (a transactional test starts from empty tables)
    xray = selectors.category_get(code="0102")
    xrd = instrument(cast, name="X射线衍射仪", model="SmartLab 9kW", city="chengdu", category=xray,
                     price_from=today - timedelta(days=30))
    xps = instrument(cast, name="X射线光电子能谱仪", model="ESCALAB Xi+", city="chengdu", category=xray,
                     price_from=today - timedelta(days=30))
    xrf = instrument(cast, name="X射线荧光光谱仪", model="ZSX Primus IV", city="chongqing", category=xray,
                     price_from=today - timedelta(days=30))
    bobs = services.booking_create(actor=cast.bob, instrument=xps, starts_at=at(tomorrow, 15),
                                   ends_at=at(tomorrow, 16))  # xps is busy tomorrow afternoon (pending holds)
    assert bobs.status == "pending"
    batch = vouchers.batch_create(actor=cast.olivia, code="CQ-KJCXQ-T1", name="重庆市科技创新券（川渝互认）",
                                  city="chongqing", amount="5000", valid_from=today - timedelta(days=30),
                                  valid_until=today + timedelta(days=90), categories=["01"],
                                  regions=["chongqing", "chengdu"], settlement_mode="direct", copay_share=COPAY)
    [voucher] = vouchers.vouchers_issue(actor=cast.olivia, batch=batch, holders=[cast.alice_org])

    # The figures, by hand: 14:00–16:30 is 2.5 h at the industry rate; the voucher pays all but the 30 % co-pay,
    # rounded down to the fen; the rest is cash.
    hours = Decimal("2.5")
    amount = (hours * PRICES[RateClass.INDUSTRY]).quantize(FEN)
    voucher_part = (amount * (1 - COPAY)).quantize(FEN, rounding=ROUND_DOWN)
    cash_part = amount - voucher_part
    assert (amount, voucher_part, cash_part) == (Decimal("1141.25"), Decimal("798.87"), Decimal("342.38"))

    # alice searches 仪器目录 for Chengdu instruments: two; free for the whole of tomorrow 13:00–18:00: one.
    login(page, "alice", PASSWORD)
    assert_nav_one_line(page)  # an enterprise user's bar (nine entries and menus) fits one line at 1280 px
    nav_click(page, "/instruments/")
    page.wait_for_url(f"{page.base_url}/instruments/")
    results = page.locator("#results tbody tr[data-instrument]")
    expect(results).to_have_count(3)
    page.select_option("#id_city", "chengdu")
    page.click("form.filters button[type=submit]")
    expect(results).to_have_count(2)
    assert sorted(r.get_attribute("data-instrument") for r in results.all()) == sorted(
        [str(xrd.public_id), str(xps.public_id)])
    page.fill("#id_day", tomorrow.isoformat())
    page.fill("#id_free_from", "13:00")
    page.fill("#id_free_until", "18:00")
    page.click("form.filters button[type=submit]")
    expect(results).to_have_count(1)
    assert results.get_attribute("data-instrument") == str(xrd.public_id)
    assert texts(results)[0] == "X射线衍射仪 大型"
    assert texts(results)[3:5] == ["重庆大学分析测试中心", "成都"]
    assert texts(results)[6] == "456.50 元"  # the industry rate, per hour
    assert f"{tomorrow} 13:00–18:00" in page.locator("#results p.muted").inner_text()
    assert Booking.objects.filter(instrument=xrf).count() == 0

    # She opens it and books 14:00–16:30 tomorrow, paying with her voucher.
    results.locator("a").click()
    page.wait_for_url(f"{page.base_url}/instruments/{xrd.public_id}/")
    prices = page.locator("section.card table").first.locator("tbody tr")
    assert texts(prices) == ["机时", "按机时", "180.00 元", "320.00 元", "456.50 元"]
    choice = page.locator("#booking-panel select[name=voucher] option")
    assert choice.all_inner_texts() == ["不使用（现金支付）", f"{voucher.code} 余额 5000.00 元"]
    page.fill("#id_day", tomorrow.isoformat())
    page.fill("#id_start", "14:00")
    page.fill("#id_end", "16:30")
    page.fill("#id_purpose", "锂电正极材料物相分析")
    page.select_option("#booking-panel select[name=voucher]", str(voucher.public_id))
    page.click("#booking-panel button[type=submit]")
    booked = page.locator("#booking-panel p[data-booked]")
    expect(booked).to_have_count(1)
    booking = Booking.objects.get(user=cast.alice)
    assert booked.get_attribute("data-booked") == str(booking.public_id)
    parts = booked.locator("[data-payment]")
    assert " ".join(parts.inner_text().split()) == (
        f"费用 {amount} 元：创新券抵扣 {voucher_part} 元，现金支付 {cash_part} 元。")
    assert [parts.locator(f"[data-part={p}]").inner_text() for p in ("amount", "voucher", "cash")] == [
        str(amount), str(voucher_part), str(cash_part)]
    assert booked.inner_text().startswith(f"已预约 {tomorrow} 14:00–16:30：待审批。")

    # 我的预约: pending, the amount with its voucher and cash parts.
    nav_click(page, "/instruments/bookings/")
    page.wait_for_url(f"{page.base_url}/instruments/bookings/")
    row = page.locator(f"tr[data-booking='{booking.public_id}']")
    assert texts(row)[1:4] == [f"{tomorrow} 14:00–16:30", f"待审批 保留至 {booking.hold_expires_at.astimezone(SH):%m-%d %H:%M}",
                               f"1,141.25 元 创新券 {voucher_part} · 现金 {cash_part}"]

    # owen approves it in 预约审批, seeing how it is paid.
    owen = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    owen.set_default_timeout(15_000)
    owen.base_url = page.base_url
    login(owen, "owen", PASSWORD)
    nav_click(owen, "/instruments/approvals/")
    owen.wait_for_url(f"{owen.base_url}/instruments/approvals/")
    request = owen.locator(f"tr[data-booking='{booking.public_id}']")
    assert texts(request)[:4] == [
        "X射线衍射仪", f"{tomorrow} 14:00–16:30", "Alice 艾丽 重庆金凤微电子科技有限公司 · 企业 锂电正极材料物相分析",
        f"1,141.25 元 创新券 {voucher_part} · 现金 {cash_part}"]
    request.locator("input[name=note]").first.fill("请按时到场")
    request.locator("form[action$='/approve'] button[type=submit]").click()
    expect(owen.locator("ul.messages li.success")).to_have_text("预约已确认。")
    expect(owen.locator(f"tr[data-booking='{booking.public_id}']")).to_have_count(0)

    # The session. 使用登记 lists tomorrow's booking, not checked in and with no check-in button yet (the window
    # opens an hour before the start), so it is recorded through the service at tomorrow's times: checked in
    # 14:00, out 16:30 (completed and charged).
    nav_click(owen, "/instruments/usage/")
    owen.wait_for_url(f"{owen.base_url}/instruments/usage/")
    coming = owen.locator(f"#current-bookings tr[data-booking='{booking.public_id}']")
    assert texts(coming) == ["X射线衍射仪", f"{tomorrow} 14:00–16:30", "Alice 艾丽 重庆金凤微电子科技有限公司", "未上机", ""]
    assert coming.locator("button").count() == 0
    session = usage.session_check_in(actor=cast.owen, booking=booking, now=at(tomorrow, 14))
    charge = usage.session_check_out(actor=cast.owen, booking=booking, now=at(tomorrow, 16, 30))
    assert (charge.basis, charge.billable_minutes, charge.quantity, charge.unit_price, charge.amount) == (
        "booked", 150, Decimal("2.5000"), PRICES[RateClass.INDUSTRY], amount)
    owen.reload()
    recorded = owen.locator(f"#sessions tr[data-session='{session.public_id}']")
    assert texts(recorded)[:6] == ["X射线衍射仪", f"{tomorrow} 14:00", f"{tomorrow} 16:30", "正常使用", "机组人员登记",
                                   "Alice 艾丽"]
    owen.context.close()

    # The month's statement to alice's company, generated and issued once the booking is over (tomorrow 17:00).
    statement = usage.statement_generate(actor=cast.owen, owner=cast.institute, payer=cast.alice_org,
                                         year=tomorrow.year, month=tomorrow.month, issue=True, now=at(tomorrow, 17))

    # alice opens 结算单: the month's statement, then its line with the voucher and cash parts.
    nav_click(page, "/instruments/statements/")
    page.wait_for_url(f"{page.base_url}/instruments/statements/")
    listed = page.locator(f"tr[data-statement='{statement.public_id}']")
    assert texts(listed) == [f"{tomorrow:%Y-%m}", "重庆大学分析测试中心", "重庆金凤微电子科技有限公司", "已出具",
                             str(amount), str(voucher_part), str(cash_part)]
    listed.locator("a").click()
    page.wait_for_url(f"{page.base_url}/instruments/statements/{statement.public_id}/")
    lines = page.locator("#statement-lines tbody tr")
    expect(lines).to_have_count(1)
    assert texts(lines.first) == [
        tomorrow.isoformat(), "X射线衍射仪", f"X射线衍射仪 {tomorrow:%m-%d} 14:00（按预约机时）", "2.5", "小时",
        "456.50", "企业", (today - timedelta(days=30)).isoformat(), str(amount), str(voucher_part), str(cash_part)]
    assert [page.locator(f"#statement-lines tfoot [data-total={t}]").inner_text() for t in ("amount", "voucher", "cash")
            ] == [str(amount), str(voucher_part), str(cash_part)]

    # The database: completed at the frozen price, paid by the voucher part (used) and the cash part.
    booking.refresh_from_db()
    assert (booking.status, booking.decided_by, booking.decision_note, booking.starts_at, booking.ends_at) == (
        "completed", cast.owen, "请按时到场", at(tomorrow, 14), at(tomorrow, 16, 30))
    assert (booking.rate_class, booking.unit_price, booking.amount, booking.voucher_amount, booking.cash_amount) == (
        "industry", PRICES[RateClass.INDUSTRY], amount, voucher_part, cash_part)
    assert BookingCharge.objects.get(booking=booking).amount == amount
    session.refresh_from_db()
    assert (session.started_at, session.ended_at, session.user, session.organisation, session.kind) == (
        at(tomorrow, 14), at(tomorrow, 16, 30), cast.alice, cast.alice_org, "normal")
    assert UsageSession.objects.count() == 1
    redemption = Redemption.objects.get()
    assert (redemption.job_kind, redemption.job_ref, redemption.status, redemption.job_amount,
            redemption.voucher_amount, redemption.provider_id, redemption.provider_city, redemption.job_date) == (
        "instruments.booking", str(booking.public_id), "used", amount, voucher_part, cast.institute.pk, "chengdu",
        tomorrow)
    voucher.refresh_from_db()
    assert (voucher.reserved, voucher.used, voucher.balance) == (Decimal("0.00"), voucher_part,
                                                                 Decimal("5000.00") - voucher_part)
    assert list(SubsidyClaim.objects.filter(active=True).values_list("job_key", "kind", "amount")) == [
        (f"instruments.booking:{booking.public_id}", "voucher", voucher_part)]
    statement.refresh_from_db()
    assert (statement.status, statement.month, statement.total_amount, statement.total_voucher,
            statement.total_cash) == ("issued", date(tomorrow.year, tomorrow.month, 1), amount, voucher_part, cash_part)
    [line] = statement.lines.all()
    assert (line.kind, line.booking, line.quantity, line.amount, line.voucher_amount, line.cash_amount) == (
        "booking", booking, Decimal("2.5000"), amount, voucher_part, cash_part)
    assert Statement.objects.count() == 1
    bobs.refresh_from_db()
    assert (bobs.status, bobs.voucher_amount) == ("pending", Decimal("0.00"))
    assert Booking.objects.count() == 2
    assert list(Notification.objects.filter(recipient=cast.alice).order_by("pk").values_list("event", flat=True)) == [
        "vouchers.voucher.issued", "vouchers.redemption.used", "instruments.statement.issued"]

    # The audit trail: each step by its person.
    def trail(instance):
        return [(e.action, e.actor, e.context) for e in AuditEntry.objects.filter(
            object_type=instance._meta.label_lower, object_id=str(instance.pk)).order_by("id")]

    assert trail(booking) == [("create", cast.alice, ""), ("update", cast.alice, f"paid with voucher {voucher.code}"),
                              ("update", cast.owen, "approved 请按时到场"),
                              ("update", cast.owen, "completed at check-out")]
    assert trail(voucher) == [
        ("create", cast.olivia, f"issued from {batch.code}"),
        ("update", cast.alice, f"reserved for instruments.booking:{booking.public_id}"),
        ("update", cast.owen, f"used by instruments.booking:{booking.public_id}")]
    assert trail(redemption) == [("create", cast.alice, ""), ("update", cast.owen, "job done")]
    assert trail(session) == [("create", cast.owen, "session opened (operator)"),
                              ("update", cast.owen, "checked out")]
    assert trail(charge) == [("create", cast.owen, "charge on booked time: as booked"),
                             ("update", cast.owen, "charge on booked time: as booked")]  # settled again on the statement
    assert trail(statement) == [("create", cast.owen, "issued: 1 lines")]
