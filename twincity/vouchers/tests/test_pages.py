"""The voucher pages: 我的创新券, the office's batches (define, issue, exports), the provider's redemptions, a
redemption with its evidence; and booking with a voucher from the instrument page."""

import io
from datetime import date, timedelta

from django.utils import timezone

from twincity.accounts.models import User
from twincity.instruments.models import Booking
from twincity.instruments.tests.conftest import make_instrument
from twincity.vouchers import services
from twincity.vouchers.models import Redemption, Voucher, VoucherBatch
from twincity.vouchers.tests.conftest import chengdu_office, make_batch

VALID = (date(2026, 1, 1), date(2027, 12, 31))


def _voucher(cast):
    batch = make_batch(cast.olivia, valid=VALID)
    [voucher] = services.vouchers_issue(actor=cast.olivia, batch=batch, holders=[cast.alice_org])
    return voucher


def _book_from_the_page(client, instrument, voucher=None):
    day = timezone.localdate() + timedelta(days=2)
    data = {"day": day.isoformat(), "start": "09:00", "end": "10:00", "purpose": "形貌表征"}
    if voucher is not None:
        data["voucher"] = str(voucher.public_id)
    return client.post(f"/instruments/{instrument.public_id}/book", data)


def test_alice_books_with_her_voucher_from_the_instrument_page_and_sees_it_in_my_vouchers(client, cast, scu):
    voucher = _voucher(cast)
    sem = make_instrument(scu, city="chengdu")
    client.force_login(cast.alice)
    page = client.get(f"/instruments/{sem.public_id}/").content.decode()
    assert f'<option value="{voucher.public_id}">{voucher.code} 余额 10000.00 元</option>' in page
    response = _book_from_the_page(client, sem, voucher)
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert (booking.voucher_amount, booking.cash_amount) == (420, 180)
    page = client.get("/vouchers/").content.decode()
    assert "我的创新券" in page and voucher.code in page
    assert "9580.00" in page  # the use is labelled with the instrument's name and start
    assert "场发射扫描电子显微镜" in page and "已预留" in page


def test_the_booking_shows_its_voucher_and_cash_parts_to_the_booker_and_the_approver(client, cast, scu):
    """The booking panel (HTMX), 我的预约 and the owner's 预约审批 show how a booking is paid: the voucher part and
    the cash part (1 h at 600.00, 30 % co-pay: 420.00 + 180.00); a booking paid in cash shows no parts."""
    voucher = _voucher(cast)
    sem = make_instrument(scu, city="chengdu", actor=cast.olivia, rules={"approval": {"required": True}})
    client.force_login(cast.alice)
    day = timezone.localdate() + timedelta(days=2)
    panel = client.post(f"/instruments/{sem.public_id}/book", {
        "day": day.isoformat(), "start": "09:00", "end": "10:00", "voucher": str(voucher.public_id)},
        headers={"HX-Request": "true"}).content.decode()
    assert ('<span data-payment>费用 <span data-part="amount">600.00</span> 元：创新券抵扣 '
            '<span data-part="voucher">420.00</span> 元，现金支付 <span data-part="cash">180.00</span> 元。</span>'
            ) in panel
    cash = client.post(f"/instruments/{sem.public_id}/book", {"day": day.isoformat(), "start": "11:00",
                                                                "end": "12:00"}, headers={"HX-Request": "true"})
    assert "data-payment" not in cash.content.decode()
    parts = ('<span class="small" data-payment>创新券 <span data-part="voucher">420.00</span> · 现金 '
             '<span data-part="cash">180.00</span></span>')
    mine = client.get("/instruments/bookings/").content.decode()
    assert mine.count(parts) == 1 and mine.count("data-payment") == 1
    staff = User.objects.create_user("sam", password="x", role="instrument_owner", organisation=scu)
    client.force_login(staff)
    queue = client.get("/instruments/approvals/").content.decode()
    assert queue.count(parts) == 1 and queue.count("data-booking=") == 2


def test_my_vouchers_shows_the_co_pay_share_of_a_direct_mode_batch_as_a_percentage(client, cast):
    """自付 30%, not the stored fraction 0.300; a share with a fraction of a percent keeps it (12.5%)."""
    _voucher(cast)
    half = make_batch(cast.olivia, code="EIGHTH", copay="0.125", valid=VALID)
    services.vouchers_issue(actor=cast.olivia, batch=half, holders=[cast.alice_org])
    client.force_login(cast.alice)
    page = client.get("/vouchers/").content.decode()
    direct = "企业申领、机构兑付（企业付自付部分，服务机构兑付券额）"
    assert f"<td>{direct}；自付 30%</td>" in page and f"<td>{direct}；自付 12.5%</td>" in page
    assert "0.300" not in page and "0.125" not in page


def test_a_voucher_refused_on_the_page_books_nothing_and_says_why(client, cast):
    voucher = _voucher(cast)
    other = make_instrument(cast.institute, name="电镜")
    narrow = make_batch(cast.olivia, code="NARROW", categories=["02"], valid=VALID)
    [narrow_voucher] = services.vouchers_issue(actor=cast.olivia, batch=narrow, holders=[cast.alice_org])
    client.force_login(cast.alice)
    response = _book_from_the_page(client, other, narrow_voucher)
    assert response.status_code == 422
    assert "服务类别 0106 不在可用类别内" in response.content.decode()
    assert Booking.objects.count() == 0
    assert Voucher.objects.get(pk=voucher.pk).balance == 10000


def test_the_office_defines_a_batch_and_issues_from_the_pages(client, cast):
    client.force_login(cast.olivia)
    assert client.get("/vouchers/batches/").status_code == 200
    response = client.post("/vouchers/batches/", {
        "code": "CQ-PAGE", "name": "页面批次", "city": "chongqing", "amount": "5000", "valid_from": "2026-01-01",
        "valid_until": "2026-12-31", "categories": "01，04", "regions": ["chongqing", "chengdu"],
        "settlement_mode": "direct", "copay_share": "0.25"})
    batch = VoucherBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/vouchers/batches/{batch.public_id}/"
    assert (batch.categories, batch.regions) == (["01", "04"], ["chengdu", "chongqing"])
    response = client.post(f"/vouchers/batches/{batch.public_id}/issue", {"holders": [cast.alice_org.pk]})
    assert response.status_code == 302
    page = client.get(f"/vouchers/batches/{batch.public_id}/").content.decode()
    assert "CQ-PAGE-00001" in page and cast.alice_org.name in page
    assert "企业自付比例 25%。" in page and "0.250" not in page
    assert client.get(f"/vouchers/batches/{batch.public_id}/export.xlsx").status_code == 200
    assert client.get(f"/vouchers/batches/{batch.public_id}/export.zip").status_code == 200
    client.force_login(chengdu_office())
    assert client.get(f"/vouchers/batches/{batch.public_id}/").status_code == 404
    client.force_login(cast.alice)
    assert client.get("/vouchers/batches/").status_code == 403


def test_the_provider_attaches_evidence_and_claims_from_the_pages(client, cast, scu, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    voucher = _voucher(cast)
    sem = make_instrument(scu, city="chengdu")
    client.force_login(cast.alice)
    _book_from_the_page(client, sem, voucher)
    from twincity.instruments import services as instruments

    booking = Booking.objects.get()
    instruments.booking_complete(actor=cast.olivia, booking=booking, now=booking.ends_at)
    redemption = Redemption.objects.get()
    staff = cast.owen.__class__.objects.create_user("sun", password="x", role="instrument_owner", organisation=scu)
    client.force_login(staff)
    page = client.get("/vouchers/redemptions/").content.decode()
    assert voucher.code in page and str(redemption.public_id) in page
    url = f"/vouchers/redemptions/{redemption.public_id}/"
    assert "尚缺：服务合同、检测/服务报告、发票、付款凭证" in client.get(url).content.decode()
    for kind in ("contract", "report", "invoice", "payment"):
        upload = io.BytesIO(b"%PDF-1.4 demo")
        upload.name = f"{kind}.pdf"
        assert client.post(f"{url}evidence", {"kind": kind, "file": upload}).status_code == 302
    assert "材料齐全" in client.get(url).content.decode()
    client.post(f"{url}claim")
    assert Redemption.objects.get().status == "claimed"
    client.force_login(cast.olivia)
    client.post(f"{url}decide", {"decision": "settle"})
    assert Redemption.objects.get().status == "settled"
    evidence = redemption.evidence.first()
    assert client.get(f"/vouchers/evidence/{evidence.pk}").status_code == 200
    client.force_login(cast.bob)
    assert client.get(f"/vouchers/evidence/{evidence.pk}").status_code == 404
    assert client.get(url).status_code == 404
