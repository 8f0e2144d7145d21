"""Instrument sharing in a real browser: alice (enterprise user) opens 仪器共享 from the navigation, searches the
catalogue by text, opens an SEM that needs approval and sees its week (bob's pending request, a blackout). A
30-minute request inside the blackout is refused with each rule named (min_length, blackout), who may override it
and nothing booked; a free two-hour slot is then booked, pending. It shows in 我的预约 as pending; owen, of the
owner institution, approves it in 预约审批; alice sees it confirmed, and the audit trail has both steps."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from twincity.core.models import AuditEntry
from twincity.instruments import services
from twincity.instruments.models import Booking
from twincity.instruments.tests.conftest import make_instrument
from twincity.testing import PASSWORD, Cast

from .conftest import login, nav_click

SH = ZoneInfo("Asia/Shanghai")
OVERRIDE = "平台管理员（须说明理由并留痕）"


def booking_day(today: date) -> date:
    """The Tuesday (the rules open Monday to Friday) of the week after the one the calendar opens on (the week of
    tomorrow, Asia/Shanghai): 9 to 15 days ahead, inside the 30-day advance window."""
    tomorrow = today + timedelta(days=1)
    return tomorrow - timedelta(days=tomorrow.weekday()) + timedelta(days=8)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


def hm(moment: datetime, fmt: str) -> str:
    return moment.astimezone(SH).strftime(fmt)


def slots(page, day: date) -> list[str]:
    return [" ".join(text.split()) for text in page.locator(f"#calendar td[data-day='{day}'] div.slot").all_inner_texts()]


def test_alice_books_an_instrument_needing_approval_and_owen_approves_it(page, browser):
    cast = Cast.create()
    today = datetime.now(SH).date()
    day = booking_day(today)
    sem = make_instrument(cast.institute, actor=cast.owen, rules={
        "slot_minutes": 30, "open_from": "08:00", "open_until": "20:00", "weekdays": [1, 2, 3, 4, 5],
        "min_minutes": 60, "max_minutes": 240, "advance_days": 30, "notice_minutes": {"create": 120},
        "blackouts": [{"from": f"{day}T13:00:00+08:00", "until": f"{day}T18:00:00+08:00", "reason": "年度维护"}],
        "approval": {"required": True, "hold_hours": 48},
    })
    make_instrument(cast.institute, name="核磁共振波谱仪", city="chengdu")  # not an electron microscope
    bobs = services.booking_create(actor=cast.bob, instrument=sem, starts_at=at(day, 9), ends_at=at(day, 10))
    assert bobs.status == "pending"

    # alice opens 仪器共享 › 仪器目录 from the navigation (she has 我的预约, not the owners' 预约审批).
    login(page, "alice", PASSWORD)
    nav = page.locator("nav.mainnav details.navmenu:has(a[href='/instruments/'])")
    assert nav.locator("summary").inner_text() == "大型仪器共享"
    assert [t.strip() for t in nav.locator("a").all_text_contents()] == ["仪器目录", "我的预约", "我的使用记录", "送样检测",
                                                                  "结算单"]  # menu closed
    nav_click(page, "/instruments/")
    page.wait_for_url(f"{page.base_url}/instruments/")
    results = page.locator("#results tbody tr[data-instrument]")
    expect(results).to_have_count(2)

    # She searches by text: only the SEM is an electron microscope.
    page.fill("#id_q", "电子显微镜")
    page.click("form.filters button[type=submit]")
    expect(results).to_have_count(1)
    assert results.get_attribute("data-instrument") == str(sem.public_id)
    assert results.locator("td").nth(0).inner_text() == "场发射扫描电子显微镜 大型"
    assert results.locator("td").nth(3).inner_text() == "重庆大学分析测试中心"
    assert results.locator("td").nth(6).inner_text() == "600.00 元"  # the industry rate, per hour
    results.locator("a").click()
    page.wait_for_url(f"{page.base_url}/instruments/{sem.public_id}/")
    rules = dict(zip(page.locator("table.rules th").all_inner_texts(), page.locator("table.rules td").all_inner_texts(),
                     strict=True))
    assert rules["审批"] == "需要审批；申请保留时段 48 小时"

    # The week calendar opens on the week of tomorrow; the booking day is in the next one.
    monday = day - timedelta(days=day.weekday())
    expect(page.locator("#calendar h2")).to_have_text(f"{monday - timedelta(days=7)} 起一周（北京时间）")
    page.click("#calendar a:text('下一周')")
    expect(page.locator("#calendar h2")).to_have_text(f"{monday} 起一周（北京时间）")
    assert slots(page, day) == ["09:00–10:00 已预约 · 待审批", "13:00–18:00 停用: 年度维护"]  # bob's name hidden

    # A 30-minute request inside the blackout: refused, each broken rule named, with the time it measured.
    page.fill("#id_day", day.isoformat())
    page.fill("#id_start", "14:00")
    page.fill("#id_end", "14:30")
    page.fill("#id_purpose", "28nm 失效分析")
    page.click("#booking-panel button[type=submit]")
    refusals = page.locator("#booking-panel table.refusals tbody tr")
    expect(refusals).to_have_count(2)
    assert [[" ".join(c.split()) for c in row.locator("td").all_inner_texts()] for row in refusals.all()] == [
        ["min_length", "时长 30 min 短于最短 1h00", f"{day} 14:00", OVERRIDE],
        ["blackout", f"{day} 13:00–{day} 18:00 停用：年度维护", f"{day} 13:00", OVERRIDE],
    ]
    assert page.locator("#booking-panel ul.errorlist.nonfield li").inner_text() == (
        "不符合预约规则：时长 30 min 短于最短 1h00 (30 min is shorter than the minimum of 1h00)")
    assert Booking.objects.filter(user=cast.alice).count() == 0

    # A free two-hour slot, right after bob's: booked, pending the owner's approval.
    page.fill("#id_start", "10:00")
    page.fill("#id_end", "12:00")
    page.click("#booking-panel button[type=submit]")
    booked = page.locator("#booking-panel p[data-booked]")
    expect(booked).to_have_count(1)
    booking = Booking.objects.get(user=cast.alice)
    assert booked.get_attribute("data-booked") == str(booking.public_id)
    assert booking.hold_expires_at is not None
    until = hm(booking.hold_expires_at, "%Y-%m-%d %H:%M")
    assert " ".join(booked.inner_text().split()) == (
        f"已预约 {day} 10:00–12:00：待审批。 仪器所属单位须在 {until} 前审批，否则时段将被释放。 我的预约")
    assert page.locator("#booking-panel table.refusals").count() == 0

    # 我的预约: pending, held until the hold expires, 1,200.00 元 (2 h at the industry rate).
    nav_click(page, "/instruments/bookings/")
    page.wait_for_url(f"{page.base_url}/instruments/bookings/")
    row = page.locator(f"tr[data-booking='{booking.public_id}']")
    cells = [" ".join(c.split()) for c in row.locator("td").all_inner_texts()]
    assert cells == ["场发射扫描电子显微镜 重庆大学分析测试中心", f"{day} 10:00–12:00",
                     f"待审批 保留至 {hm(booking.hold_expires_at, '%m-%d %H:%M')}", "1,200.00 元", "", "取消"]
    assert row.locator("span.badge").get_attribute("class") == "badge warn"

    # owen (重庆大学分析测试中心's lab manager): 预约审批 lists both requests, the sooner hold first; he approves alice's.
    owen = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    owen.set_default_timeout(15_000)
    owen.base_url = page.base_url
    login(owen, "owen", PASSWORD)
    nav_click(owen, "/instruments/approvals/")
    owen.wait_for_url(f"{owen.base_url}/instruments/approvals/")
    queue = owen.locator("tbody tr[data-booking]")
    assert [r.get_attribute("data-booking") for r in queue.all()] == [str(bobs.public_id), str(booking.public_id)]
    request = owen.locator(f"tr[data-booking='{booking.public_id}']")
    assert [" ".join(c.split()) for c in request.locator("td").all_inner_texts()[:5]] == [
        "场发射扫描电子显微镜", f"{day} 10:00–12:00", "Alice 艾丽 重庆金凤微电子科技有限公司 · 企业 28nm 失效分析",
        "1,200.00 元", hm(booking.hold_expires_at, "%m-%d %H:%M")]
    request.locator("input[name=note]").first.fill("请提前10分钟到场")
    request.locator("form[action$='/approve'] button[type=submit]").click()
    expect(owen.locator("ul.messages li.success")).to_have_text("预约已确认。")
    assert [r.get_attribute("data-booking") for r in queue.all()] == [str(bobs.public_id)]
    owen.context.close()

    # alice: confirmed in 我的预约, with owen's note, no longer held; her slot in the week is hers and confirmed.
    page.reload()
    cells = [" ".join(c.split()) for c in row.locator("td").all_inner_texts()]
    assert cells == ["场发射扫描电子显微镜 重庆大学分析测试中心", f"{day} 10:00–12:00", "已确认", "1,200.00 元",
                     "请提前10分钟到场", "取消"]
    assert row.locator("span.badge").get_attribute("class") == "badge ok"
    page.goto(f"{page.base_url}/instruments/{sem.public_id}/?week={day}")
    assert slots(page, day) == ["09:00–10:00 已预约 · 待审批", "10:00–12:00 Alice 艾丽 · 已确认",
                                "13:00–18:00 停用: 年度维护"]
    assert page.locator(f"#calendar td[data-day='{day}'] div.slot.mine").get_attribute("class") == (
        "slot confirmed mine")

    # The database: alice's booking confirmed by owen at the frozen price; bob's still pending; nothing else booked.
    booking.refresh_from_db()
    assert (booking.status, booking.decided_by, booking.decision_note, booking.hold_expires_at) == (
        "confirmed", cast.owen, "请提前10分钟到场", None)
    assert (booking.starts_at, booking.ends_at, booking.rate_class, booking.unit_price, booking.amount,
            booking.purpose) == (at(day, 10), at(day, 12), "industry", Decimal("600.00"), Decimal("1200.00"),
                                 "28nm 失效分析")
    bobs.refresh_from_db()
    assert bobs.status == "pending"
    assert Booking.objects.count() == 2
    trail = [(e.action, e.actor, e.changes["status"]["after"], e.context) for e in AuditEntry.objects.filter(
        object_type="instruments.booking", object_id=str(booking.pk)).order_by("id")]
    assert trail == [("create", cast.alice, "pending", ""), ("update", cast.owen, "confirmed", "approved 请提前10分钟到场")]
