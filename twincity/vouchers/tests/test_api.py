"""The voucher API (and the instruments endpoint that pays a booking with a voucher) through real URLs: the one
error shape, every status, the exports."""

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from twincity.instruments import services as instruments
from twincity.instruments.models import Booking
from twincity.vouchers import services
from twincity.vouchers.models import Redemption, SubsidyClaim, VoucherBatch
from twincity.vouchers.tests.conftest import chengdu_office, make_batch

H = timedelta(hours=1)
VALID = (date(2026, 1, 1), date(2027, 12, 31))


def post(client, url, body, method="post"):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def slot():
    day = timezone.localdate() + timedelta(days=2)
    start = timezone.make_aware(timezone.datetime(day.year, day.month, day.day, 9, 0))
    return start, start + H


@pytest.fixture
def voucher(cast):
    batch = make_batch(cast.olivia, valid=VALID)
    [voucher] = services.vouchers_issue(actor=cast.olivia, batch=batch, holders=[cast.alice_org])
    return voucher


BATCH = {"code": "CQ-API", "name": "重庆创新券 API", "city": "chongqing", "amount": "20000",
         "valid_from": "2026-01-01", "valid_until": "2026-12-31", "categories": ["01"], "regions": ["chongqing"],
         "settlement_mode": "reimbursement", "copay_share": "0.2"}


def test_an_office_creates_a_batch_and_issues_vouchers(client, cast):
    client.force_login(cast.olivia)
    r = post(client, "/api/vouchers/batches", BATCH)
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["code"], body["office"], body["amount"], body["regions"], body["copay_share"]) == (
        "CQ-API", cast.committee.name, "20000.00", ["chongqing"], "0.200")
    r = post(client, f"/api/vouchers/batches/{body['public_id']}/issue", {"holders": [cast.alice_org.pk]})
    assert r.status_code == 201, r.content
    assert [(v["code"], v["holder"], v["balance"]) for v in r.json()] == [
        ("CQ-API-00001", cast.alice_org.name, "20000.00")]
    r = post(client, f"/api/vouchers/batches/{body['public_id']}/issue", {"holders": [cast.alice_org.pk]})
    assert r.status_code == 422 and r.json()["code"] == "invalid"
    r = post(client, f"/api/vouchers/batches/{body['public_id']}/issue", {"holders": [999999]})
    assert r.status_code == 422
    assert [b["code"] for b in client.get("/api/vouchers/batches").json()] == ["CQ-API"]


def test_batch_errors_have_the_one_shape(client, cast):
    client.force_login(cast.olivia)
    r = post(client, "/api/vouchers/batches", {**BATCH, "city": "chengdu", "regions": ["chengdu"]})
    assert r.status_code == 403
    assert set(r.json()) == {"message", "code", "extra"}
    r = post(client, "/api/vouchers/batches", {**BATCH, "copay_share": "1"})
    assert r.status_code == 422
    client.force_login(cast.alice)
    assert post(client, "/api/vouchers/batches", BATCH).status_code == 403
    assert client.get("/api/vouchers/batches").status_code == 403
    batch = make_batch(cast.olivia)
    client.force_login(chengdu_office())  # another city's batch is not found
    assert post(client, f"/api/vouchers/batches/{batch.public_id}/issue",
                {"holders": [cast.bob_org.pk]}).status_code == 404
    assert VoucherBatch.objects.count() == 1


def test_alice_pays_a_booking_with_her_voucher_and_sees_the_use(client, cast, scu, voucher, slot):
    from twincity.instruments.tests.conftest import make_instrument

    sem = make_instrument(scu, city="chengdu")
    client.force_login(cast.alice)
    r = post(client, f"/api/instruments/{sem.public_id}/bookings",
             {"starts_at": slot[0].isoformat(), "ends_at": slot[1].isoformat()})
    booking_id = r.json()["public_id"]
    assert (r.json()["voucher_amount"], r.json()["cash_amount"]) == ("0.00", "600.00")
    r = post(client, f"/api/instruments/bookings/{booking_id}/voucher",
             {"voucher": str(voucher.public_id), "amount": "500"})
    assert r.status_code == 409 and r.json()["code"] == "voucher_refused"
    assert [x["rule"] for x in r.json()["extra"]["refusals"]] == ["copay"]
    r = post(client, f"/api/instruments/bookings/{booking_id}/voucher", {"voucher": str(voucher.public_id)})
    assert r.status_code == 200, r.content
    assert (r.json()["amount"], r.json()["voucher_amount"], r.json()["cash_amount"]) == ("600.00", "420.00", "180.00")
    r = post(client, f"/api/instruments/bookings/{booking_id}/voucher", {"voucher": str(voucher.public_id)})
    assert r.status_code == 409 and r.json()["code"] == "booking_state"
    [mine] = client.get("/api/vouchers/mine").json()
    assert (mine["reserved"], mine["balance"], mine["regions"]) == ("420.00", "9580.00", ["chengdu", "chongqing"])
    [use] = client.get(f"/api/vouchers/mine/{voucher.public_id}/uses").json()
    assert (use["job_key"], use["status"], use["voucher_amount"], use["cash_amount"]) == (
        f"instruments.booking:{booking_id}", "reserved", "420.00", "180.00")
    # bob cannot pay with alice's voucher, nor see it.
    client.force_login(cast.bob)
    assert client.get(f"/api/vouchers/mine/{voucher.public_id}/uses").status_code == 404
    r = post(client, f"/api/instruments/bookings/{booking_id}/voucher", {"voucher": str(voucher.public_id)},
             method="delete")
    assert r.status_code == 404
    client.force_login(cast.alice)
    r = client.delete(f"/api/instruments/bookings/{booking_id}/voucher")
    assert r.status_code == 200 and r.json()["voucher_amount"] == "0.00"


def test_a_test_subsidy_on_a_voucher_paid_job_answers_409_naming_the_claim(client, cast, voucher, cq_sem, slot):
    booking = instruments.booking_create(actor=cast.alice, instrument=cq_sem, starts_at=slot[0], ends_at=slot[1])
    client.force_login(cast.alice)
    post(client, f"/api/instruments/bookings/{booking.public_id}/voucher", {"voucher": str(voucher.public_id)})
    client.force_login(cast.olivia)
    body = {"kind": "test_subsidy", "job_kind": "instruments.booking", "job_ref": str(booking.public_id),
            "claimant_id": cast.alice_org.pk, "amount": "100"}
    r = post(client, "/api/vouchers/claims", body)
    assert r.status_code == 409
    assert (r.json()["code"], r.json()["extra"]["claim"]["kind"]) == ("already_claimed", "voucher")
    r = post(client, "/api/vouchers/claims", {**body, "job_ref": "other"})
    assert r.status_code == 201 and r.json()["kind"] == "test_subsidy"
    claims = client.get("/api/vouchers/claims", {"job_key": f"instruments.booking:{booking.public_id}"}).json()
    assert [c["kind"] for c in claims] == ["voucher"]
    r = post(client, f"/api/vouchers/claims/{claims[0]['id']}/withdraw", {"reason": "x"})
    assert r.status_code == 409 and r.json()["code"] == "voucher_state"
    client.force_login(cast.alice)
    assert post(client, "/api/vouchers/claims", body).status_code == 403


def test_evidence_claim_settle_and_the_exports(client, cast, scu, voucher, slot, settings, tmp_path):
    from twincity.instruments.tests.conftest import make_instrument

    settings.MEDIA_ROOT = tmp_path
    sem = make_instrument(scu, city="chengdu")
    booking = instruments.booking_create(actor=cast.alice, instrument=sem, starts_at=slot[0], ends_at=slot[1])
    client.force_login(cast.alice)
    post(client, f"/api/instruments/bookings/{booking.public_id}/voucher", {"voucher": str(voucher.public_id)})
    instruments.booking_complete(actor=cast.olivia, booking=booking, now=slot[1])
    redemption = Redemption.objects.get()
    url = f"/api/vouchers/redemptions/{redemption.public_id}"
    for kind in ("contract", "report", "invoice", "payment"):
        r = client.post(f"{url}/evidence", {"kind": kind, "file": io.BytesIO(f"{kind}".encode())})
        assert r.status_code == 201, r.content
    r = client.post(f"{url}/evidence", {"kind": "other", "file": io.BytesIO(b"x")})
    assert r.status_code == 422
    detail = client.get(url).json()
    assert (detail["missing"], sorted(e["kind"] for e in detail["evidence"])) == (
        [], ["contract", "invoice", "payment", "report"])
    assert client.post(f"{url}/claim").status_code == 403  # direct mode: the provider claims
    staff = cast.owen.__class__.objects.create_user("sun", password="x", role="instrument_owner", organisation=scu)
    client.force_login(staff)
    assert [r["public_id"] for r in client.get("/api/vouchers/redemptions").json()] == [str(redemption.public_id)]
    r = client.post(f"{url}/claim")
    assert r.status_code == 200 and r.json()["status"] == "claimed"
    assert client.post(f"{url}/claim").status_code == 409
    client.force_login(cast.olivia)
    r = post(client, f"{url}/decide", {"approve": True})
    assert r.status_code == 200 and r.json()["status"] == "settled"
    batch = voucher.batch
    r = client.get(f"/api/vouchers/batches/{batch.public_id}/export.xlsx")
    assert r.status_code == 200 and r["Content-Disposition"] == f'attachment; filename="{batch.code}.xlsx"'
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("创新券编号", "持券企业", "服务机构")
    assert rows[1][:2] == (voucher.code, cast.alice_org.name)
    assert (rows[1][7], rows[1][8], rows[1][9], rows[1][11], rows[1][12]) == (600, 420, 180, "已兑付核销", "是")
    day = timezone.localtime(slot[0]).date()
    r = client.get(f"/api/vouchers/batches/{batch.public_id}/export.zip",
                   {"period_from": day.isoformat(), "period_until": day.isoformat()})
    assert r.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    folder = f"{voucher.code}/{booking.public_id}/"
    assert names[0] == f"{batch.code}-{day}_{day}.xlsx"
    assert sorted(n.removeprefix(folder).split("-")[0] for n in names[1:]) == [
        "contract", "invoice", "payment", "report"]
    assert all(n.startswith(folder) for n in names[1:])
    r = client.get(f"/api/vouchers/batches/{batch.public_id}/export.zip", {"period_from": "2020-01-01",
                                                                          "period_until": "2020-01-31"})
    assert zipfile.ZipFile(io.BytesIO(r.content)).namelist() == [f"{batch.code}-2020-01-01_2020-01-31.xlsx"]
    client.force_login(cast.alice)
    assert client.get(f"/api/vouchers/batches/{batch.public_id}/export.xlsx").status_code == 404
    assert SubsidyClaim.objects.filter(active=True).count() == 1
    assert Booking.objects.get().status == "completed"
