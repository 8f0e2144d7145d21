"""Vouchers through the services: batches and issuing (city offices only), paying bookings (reserve, release,
use), the once-only claim registry, the evidence bundle and settlement in both modes."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile

from twincity.accounts.models import Organisation
from twincity.core.errors import Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.instruments import payments, usage
from twincity.instruments import services as instruments
from twincity.instruments.errors import BookingState
from twincity.instruments.models import Booking
from twincity.notifications.models import Notification
from twincity.vouchers import services
from twincity.vouchers.errors import AlreadyClaimed, EvidenceIncomplete, VoucherRefused, VoucherState
from twincity.vouchers.models import Redemption, SubsidyClaim, Voucher
from twincity.vouchers.tests.conftest import NOW, TUE9, chengdu_office, make_batch

H = timedelta(hours=1)
D = Decimal


def book(actor, instrument, *, voucher=None, hours=1, start=TUE9, **kw):
    return instruments.booking_create_paid(actor=actor, voucher=voucher, instrument=instrument, starts_at=start,
                                           ends_at=start + hours * H, now=NOW, **kw)


def balances(voucher):
    voucher.refresh_from_db()
    return voucher.reserved, voucher.used, voucher.balance


# --- batches and issuing ---------------------------------------------------------------------------------------


def test_a_city_office_defines_a_batch_of_its_own_city_only(cast):
    batch = make_batch(cast.olivia)
    assert (batch.city, batch.office, batch.amount, batch.regions, batch.categories, batch.copay_share) == (
        "chongqing", cast.committee, D("10000.00"), ["chengdu", "chongqing"], ["01"], D("0.300"))
    assert AuditEntry.objects.filter(object_type="vouchers.voucherbatch", action="create").count() == 1
    with pytest.raises(Forbidden):
        make_batch(cast.olivia, code="CD-1", city="chengdu")
    dora = chengdu_office()
    assert make_batch(dora, code="CD-1", city="chengdu", regions=["chengdu"]).office.name == "成都市科学技术局"
    for outsider in (cast.alice, cast.owen, cast.bella, cast.charlie):
        with pytest.raises(Forbidden):
            make_batch(outsider, code="X")


@pytest.mark.parametrize(("field", "kwargs"), [
    ("regions", {"regions": ["beijing"]}),
    ("regions", {"regions": []}),
    ("copay_share", {"copay": "1"}),
    ("categories", {"categories": ["0a"]}),
    ("valid_until", {"valid": (date(2026, 2, 1), date(2026, 1, 1))}),
])
def test_invalid_batch_terms_are_refused_with_the_field(cast, field, kwargs):
    with pytest.raises(InvalidInput) as refused:
        make_batch(cast.olivia, **kwargs)
    assert field in refused.value.extra["fields"]


def test_issuing_notifies_the_enterprise_and_is_audited(cast, cq_batch):
    [voucher] = services.vouchers_issue(actor=cast.olivia, batch=cq_batch, holders=[cast.alice_org], now=NOW)
    assert (voucher.code, voucher.holder, voucher.amount, voucher.balance, voucher.valid_until) == (
        "CQ2026-01-00001", cast.alice_org, D("10000.00"), D("10000.00"), date(2026, 12, 31))
    [note] = Notification.objects.filter(recipient=cast.alice)
    assert (note.event, note.title) == ("vouchers.voucher.issued", "您获得一张科技创新券（10000.00 元）")
    assert AuditEntry.objects.filter(object_type="vouchers.voucher", action="create", actor=cast.olivia).count() == 1
    with pytest.raises(InvalidInput):  # one voucher per holder per batch
        services.vouchers_issue(actor=cast.olivia, batch=cq_batch, holders=[cast.alice_org], now=NOW)
    with pytest.raises(InvalidInput):  # enterprises only
        services.vouchers_issue(actor=cast.olivia, batch=cq_batch, holders=[cast.institute], now=NOW)
    with pytest.raises(Forbidden):
        services.vouchers_issue(actor=chengdu_office(), batch=cq_batch, holders=[cast.bob_org], now=NOW)
    assert Voucher.objects.count() == 1


# --- paying a booking ------------------------------------------------------------------------------------------


def test_a_chongqing_voucher_pays_part_of_a_chengdu_booking(cast, cd_sem, alice_voucher):
    booking = book(cast.alice, cd_sem, voucher=alice_voucher, hours=2)
    booking.refresh_from_db()
    # 2 h at the industry price 600: 1200; the voucher covers 70 % (co-pay 30 %).
    assert (booking.amount, booking.voucher_amount, booking.cash_amount) == (D("1200.00"), D("840.00"), D("360.00"))
    assert balances(alice_voucher) == (D("840.00"), D("0.00"), D("9160.00"))
    [redemption] = Redemption.objects.all()
    assert (redemption.job_key, redemption.status, redemption.provider_city, redemption.category_code) == (
        f"instruments.booking:{booking.public_id}", "reserved", "chengdu", "0106")
    [claim] = SubsidyClaim.objects.all()
    assert (claim.kind, claim.active, claim.claimant, claim.amount) == ("voucher", True, cast.alice_org, D("840.00"))


def test_a_chengdu_voucher_is_not_accepted_in_chongqing_and_nothing_is_booked(cast, cq_sem):
    dora = chengdu_office()
    batch = make_batch(dora, code="CD2026-01", city="chengdu", regions=["chengdu"], mode="reimbursement")
    [voucher] = services.vouchers_issue(actor=dora, batch=batch, holders=[cast.bob_org], now=NOW)
    with pytest.raises(VoucherRefused) as refused:
        book(cast.bob, cq_sem, voucher=voucher)
    assert [r["rule"] for r in refused.value.extra["refusals"]] == ["region"]
    assert refused.value.status == 409
    assert Booking.objects.count() == 0 and Redemption.objects.count() == 0 and SubsidyClaim.objects.count() == 0
    assert balances(voucher) == (D(0), D(0), D("10000.00"))


def test_each_voucher_rule_is_named(cast, cd_sem, alice_voucher, scu):
    other = make_batch(cast.olivia, code="CQ-NARROW", categories=["02"], providers=[cast.institute.pk],
                       regions=["chongqing"], valid=(date(2026, 1, 1), date(2026, 12, 7)))
    [voucher] = services.vouchers_issue(actor=cast.olivia, batch=other, holders=[cast.alice_org], now=NOW)
    with pytest.raises(VoucherRefused) as refused:
        book(cast.alice, cd_sem, voucher=voucher)
    assert [r["rule"] for r in refused.value.extra["refusals"]] == ["validity", "category", "region", "provider"]


def test_the_holders_users_only_may_pay_with_it(cast, cd_sem, alice_voucher):
    with pytest.raises(Forbidden):
        book(cast.bob, cd_sem, voucher=alice_voucher)
    assert Booking.objects.count() == 0


@pytest.mark.parametrize("end", ["cancel", "refuse", "expire"])
def test_a_booking_that_does_not_happen_releases_the_reservation(cast, cd_sem, alice_voucher, scu, end):
    instruments.instrument_rules_set(actor=cast.olivia, instrument=cd_sem, definition={"approval": {"required": True,
                                                                                           "hold_hours": 2}})
    booking = book(cast.alice, cd_sem, voucher=alice_voucher)
    assert balances(alice_voucher) == (D("420.00"), D(0), D("9580.00"))
    if end == "cancel":
        instruments.booking_cancel(actor=cast.alice, booking=booking, now=NOW)
    elif end == "refuse":
        instruments.booking_refuse(actor=cast.olivia, booking=booking, note="设备检修", now=NOW)
    else:
        assert instruments.booking_holds_expire(now=NOW + 3 * H) == 1
    booking.refresh_from_db()
    assert (booking.voucher_amount, booking.cash_amount) == (D(0), D("600.00"))
    assert balances(alice_voucher) == (D(0), D(0), D("10000.00"))
    assert Redemption.objects.get().status == "released"
    assert not SubsidyClaim.objects.filter(active=True).exists()


def test_a_completed_booking_uses_the_voucher_and_a_change_reprices_it(cast, cd_sem, alice_voucher):
    booking = book(cast.alice, cd_sem, voucher=alice_voucher, hours=2)
    booking = instruments.booking_change(actor=cast.alice, booking=booking, starts_at=TUE9, ends_at=TUE9 + H,
                                         now=NOW - timedelta(days=1))
    booking.refresh_from_db()
    assert (booking.amount, booking.voucher_amount, booking.cash_amount) == (D("600.00"), D("420.00"), D("180.00"))
    assert balances(alice_voucher) == (D("420.00"), D(0), D("9580.00"))
    instruments.booking_complete(actor=cast.olivia, booking=booking, now=TUE9 + 2 * H)
    assert balances(alice_voucher) == (D(0), D("420.00"), D("9580.00"))
    assert Redemption.objects.get().status == "used"
    assert Notification.objects.filter(recipient=cast.alice, event="vouchers.redemption.used").count() == 1


def test_checking_a_booking_out_completes_it_and_uses_its_voucher(cast, cd_sem, alice_voucher):
    """Check-out (使用登记) completes the booking as booking_complete does: the reserved part becomes used."""
    booking = book(cast.alice, cd_sem, voucher=alice_voucher, hours=2)
    assert balances(alice_voucher) == (D("840.00"), D(0), D("9160.00"))
    usage.session_check_in(actor=cast.olivia, booking=booking, now=TUE9)
    charge = usage.session_check_out(actor=cast.olivia, booking=booking, now=TUE9 + 2 * H)
    booking.refresh_from_db()
    assert (booking.status, booking.amount, booking.voucher_amount, booking.cash_amount, charge.amount) == (
        "completed", D("1200.00"), D("840.00"), D("360.00"), D("1200.00"))
    assert balances(alice_voucher) == (D(0), D("840.00"), D("9160.00"))
    assert Redemption.objects.get().status == "used"
    assert Notification.objects.filter(recipient=cast.alice, event="vouchers.redemption.used").count() == 1


def test_a_voucher_is_applied_before_approval_only(cast, cd_sem, alice_voucher):
    instruments.instrument_rules_set(actor=cast.olivia, instrument=cd_sem, definition={"approval": {"required": True}})
    booking = book(cast.alice, cd_sem)
    instruments.booking_approve(actor=cast.olivia, booking=booking, now=NOW)
    with pytest.raises(BookingState):
        payments.booking_voucher_apply(actor=cast.alice, booking=booking, voucher=alice_voucher, now=NOW)
    assert balances(alice_voucher) == (D(0), D(0), D("10000.00"))


def test_the_booker_takes_the_voucher_off_before_approval(cast, cd_sem, alice_voucher):
    booking = book(cast.alice, cd_sem, voucher=alice_voucher)
    booking = payments.booking_voucher_remove(actor=cast.alice, booking=booking, now=NOW)
    assert (booking.voucher_amount, booking.cash_amount) == (D(0), D("600.00"))
    assert balances(alice_voucher) == (D(0), D(0), D("10000.00"))
    # ... and may apply it again (the released claim no longer counts).
    booking = payments.booking_voucher_apply(actor=cast.alice, booking=booking, voucher=alice_voucher, now=NOW)
    assert booking.voucher_amount == D("420.00")


def test_the_balance_caps_the_voucher_part_and_never_goes_below_zero(cast, cd_sem):
    batch = make_batch(cast.olivia, code="SMALL", amount="500", copay="0")
    [voucher] = services.vouchers_issue(actor=cast.olivia, batch=batch, holders=[cast.alice_org], now=NOW)
    first = book(cast.alice, cd_sem, voucher=voucher)  # 600 wanted, 500 left
    assert (first.voucher_amount, first.cash_amount) == (D("500.00"), D("100.00"))
    with pytest.raises(VoucherRefused) as refused:
        book(cast.alice, cd_sem, voucher=voucher, start=TUE9 + 2 * H)
    assert [r["rule"] for r in refused.value.extra["refusals"]] == ["balance"]
    assert balances(voucher) == (D("500.00"), D(0), D(0))


# --- once-only -------------------------------------------------------------------------------------------------


def test_a_job_paid_by_a_voucher_cannot_be_claimed_as_a_test_subsidy(cast, cd_sem, alice_voucher):
    booking = book(cast.alice, cd_sem, voucher=alice_voucher)
    with pytest.raises(AlreadyClaimed) as refused:
        services.subsidy_claim_register(actor=cast.olivia, kind="test_subsidy", job_kind="instruments.booking",
                                        job_ref=str(booking.public_id), claimant=cast.alice_org, amount="300")
    assert refused.value.status == 409
    assert refused.value.extra["claim"]["kind"] == "voucher"
    assert refused.value.extra["claim"]["claimant"] == cast.alice_org.name
    assert "科技创新券" in refused.value.message
    assert SubsidyClaim.objects.count() == 1


def test_a_job_claimed_as_a_test_subsidy_cannot_be_paid_by_a_voucher(cast, cd_sem, alice_voucher):
    booking = book(cast.alice, cd_sem)
    claim = services.subsidy_claim_register(actor=cast.olivia, kind="test_subsidy", job_kind="instruments.booking",
                                            job_ref=str(booking.public_id), claimant=cast.alice_org, amount="300")
    with pytest.raises(AlreadyClaimed) as refused:
        payments.booking_voucher_apply(actor=cast.alice, booking=booking, voucher=alice_voucher, now=NOW)
    assert refused.value.extra["claim"] == {
        "id": claim.pk, "kind": "test_subsidy", "kind_name": "检测补贴", "job_key": claim.job_key,
        "claimant": cast.alice_org.name, "amount": "300.00", "at": claim.created_at.isoformat()}
    booking.refresh_from_db()
    assert (booking.voucher_amount, booking.cash_amount) == (D(0), D("600.00"))
    assert balances(alice_voucher) == (D(0), D(0), D("10000.00"))
    assert Redemption.objects.count() == 0
    # Withdrawn, the job may be claimed again (once).
    services.subsidy_claim_withdraw(actor=cast.olivia, claim=claim, reason="录入错误")
    assert payments.booking_voucher_apply(actor=cast.alice, booking=booking, voucher=alice_voucher,
                                          now=NOW).voucher_amount == D("420.00")
    with pytest.raises(AlreadyClaimed):
        services.subsidy_claim_register(actor=cast.olivia, kind="post_subsidy", job_kind="instruments.booking",
                                        job_ref=str(booking.public_id), claimant=cast.institute, amount="100")


def test_only_offices_register_subsidy_claims(cast):
    with pytest.raises(Forbidden):
        services.subsidy_claim_register(actor=cast.alice, kind="test_subsidy", job_kind="instruments.samplejob",
                                        job_ref="7", claimant=cast.alice_org, amount="1")
    with pytest.raises(InvalidInput):
        services.subsidy_claim_register(actor=cast.olivia, kind="voucher", job_kind="instruments.samplejob",
                                        job_ref="7", claimant=cast.alice_org, amount="1")


# --- evidence and settlement -----------------------------------------------------------------------------------


def _done(cast, instrument, voucher):
    booking = book(cast.alice, instrument, voucher=voucher)
    instruments.booking_complete(actor=cast.olivia, booking=booking, now=TUE9 + 2 * H)
    return Redemption.objects.get(job_ref=str(booking.public_id))


def _attach(actor, redemption, *kinds):
    for kind in kinds:
        services.evidence_attach(actor=actor, redemption=redemption, kind=kind,
                                 upload=ContentFile(f"{kind} 内容".encode(), name=f"{kind}.pdf"))


def test_direct_mode_the_provider_claims_once_the_bundle_is_complete(cast, cd_sem, alice_voucher, scu, settings,
                                                                    tmp_path):
    settings.MEDIA_ROOT = tmp_path
    staff = cast.owen.__class__.objects.create_user("sun", password="x", role="instrument_owner", organisation=scu)
    redemption = _done(cast, cd_sem, alice_voucher)
    _attach(cast.alice, redemption, "contract", "payment")
    _attach(staff, redemption, "report")
    with pytest.raises(Forbidden):  # the enterprise does not claim in the direct mode
        services.settlement_claim(actor=cast.alice, redemption=redemption)
    with pytest.raises(EvidenceIncomplete) as refused:
        services.settlement_claim(actor=staff, redemption=redemption)
    assert refused.value.extra["missing"] == ["invoice"]
    assert "发票" in refused.value.message
    _attach(staff, redemption, "invoice")
    claimed = services.settlement_claim(actor=staff, redemption=redemption)
    assert claimed.status == "claimed"
    with pytest.raises(VoucherState):  # the bundle is closed once claimed
        _attach(staff, redemption, "report")
    with pytest.raises(Forbidden):
        services.settlement_decide(actor=chengdu_office(), redemption=redemption, approve=True)
    with pytest.raises(InvalidInput):
        services.settlement_decide(actor=cast.olivia, redemption=redemption, approve=False)
    back = services.settlement_decide(actor=cast.olivia, redemption=redemption, approve=False, note="发票抬头有误")
    assert (back.status, back.status_note) == ("used", "发票抬头有误")
    services.settlement_claim(actor=staff, redemption=redemption)
    settled = services.settlement_decide(actor=cast.olivia, redemption=redemption, approve=True)
    assert settled.status == "settled" and settled.settled_at is not None
    assert Notification.objects.filter(recipient=staff, event="vouchers.settlement.decided").count() == 2


def test_reimbursement_mode_the_enterprise_claims(cast, cq_sem, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    batch = make_batch(cast.olivia, code="CQ-R", mode="reimbursement", copay="0")
    [voucher] = services.vouchers_issue(actor=cast.olivia, batch=batch, holders=[cast.alice_org], now=NOW)
    redemption = _done(cast, cq_sem, voucher)
    assert (redemption.voucher_amount, redemption.cash_amount) == (D("600.00"), D(0))
    _attach(cast.alice, redemption, "contract", "report", "invoice")
    with pytest.raises(EvidenceIncomplete) as refused:  # the enterprise paid in full: its payment record
        services.settlement_claim(actor=cast.alice, redemption=redemption)
    assert refused.value.extra["missing"] == ["payment"]
    _attach(cast.alice, redemption, "payment")
    with pytest.raises(Forbidden):
        services.settlement_claim(actor=cast.owen, redemption=redemption)
    assert services.settlement_claim(actor=cast.alice, redemption=redemption).status == "claimed"


def test_a_reserved_job_cannot_be_claimed_yet(cast, cd_sem, alice_voucher, scu):
    staff = cast.owen.__class__.objects.create_user("sun", password="x", role="instrument_owner", organisation=scu)
    book(cast.alice, cd_sem, voucher=alice_voucher)
    with pytest.raises(VoucherState):
        services.settlement_claim(actor=staff, redemption=Redemption.objects.get())


def test_the_office_is_a_government_administrator(cast):
    from twincity.vouchers import access

    assert access.office_cities(cast.olivia) == ("chongqing",)
    assert access.office_cities(chengdu_office()) == ("chengdu",)
    assert access.office_cities(cast.alice) == ()
    admin = cast.olivia.__class__.objects.create_user("root", password="x", is_superuser=True)
    assert access.office_cities(admin) == ("chongqing", "chengdu")
    assert Organisation.objects.filter(kind="government", city="chongqing").exists()
