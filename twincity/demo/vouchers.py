"""The demo's innovation vouchers, made through the vouchers services (the one write path, so they are audited
like an office's own): a Chongqing batch accepted in Chengdu too (川渝互认 as this demo configures it; the real
rule is unconfirmed, see shared/reference/instruments.md §5.4) with alice's company holding one of its
vouchers, and a Chengdu batch accepted in Chengdu only with bob's company holding one. Chengdu's voucher office
is a demo administrator of 成都高新区管委会 (not a persona)."""

from datetime import date

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from twincity.accounts.models import Organisation, User
from twincity.core.errors import ApplicationError
from twincity.demo.personas import DEMO_PASSWORD
from twincity.instruments.models import Booking
from twincity.instruments.payments import booking_voucher_apply
from twincity.vouchers.models import VoucherBatch
from twincity.vouchers.services import batch_create, vouchers_issue

CHENGDU_OFFICE_USER = "chengdu_office"
# The service categories of the national instrument classification the demo batches pay for.
CATEGORIES = ["01", "04", "08", "10", "11", "13"]


def demo_vouchers_load(orgs: dict[str, Organisation]) -> int:
    """Add the demo batches and vouchers (unless some are there); how many vouchers were issued."""
    if VoucherBatch.objects.exists() or "alice_org" not in orgs or "cq_committee" not in orgs:
        return 0
    year = timezone.localdate().year
    olivia = User.objects.get(username="olivia")
    with transaction.atomic():
        chengdu, _created = User.objects.update_or_create(
            username=CHENGDU_OFFICE_USER,
            defaults={"role": User.Role.ADMINISTRATOR, "organisation": orgs["cd_committee"],
                      "display_name": "成都科技创新券管理员", "password": make_password(DEMO_PASSWORD)})
        cq = batch_create(actor=olivia, code=f"CQ-KJCXQ-{year}", name=f"{year}年重庆市科技创新券（川渝互认）",
                          city="chongqing", amount="20000", valid_from=date(year, 1, 1),
                          valid_until=date(year, 12, 31), categories=CATEGORIES, regions=["chongqing", "chengdu"],
                          settlement_mode="direct", copay_share="0.3")
        cd = batch_create(actor=chengdu, code=f"CD-KJCXQ-{year}", name=f"{year}年成都市科技创新券",
                          city="chengdu", amount="10000", valid_from=date(year, 1, 1), valid_until=date(year, 12, 31),
                          categories=CATEGORIES, regions=["chengdu"], settlement_mode="reimbursement",
                          copay_share="0.5")
        [alices] = vouchers_issue(actor=olivia, batch=cq, holders=[orgs["alice_org"]])
        issued = 1
        if "bob_org" in orgs:
            issued += len(vouchers_issue(actor=chengdu, batch=cd, holders=[orgs["bob_org"]]))
        # alice pays one of her coming Chengdu bookings (made before approval) with her Chongqing voucher.
        alice = User.objects.get(username="alice")
        coming = (Booking.objects.filter(user=alice, instrument__city="chengdu", status=Booking.Status.PENDING,
                                         starts_at__gt=timezone.now(), amount__gt=0)
                  .select_related("instrument__owner", "instrument__category").order_by("starts_at"))
        for booking in coming[:5]:
            try:
                with transaction.atomic():
                    booking_voucher_apply(actor=alice, booking=booking, voucher=alices)
                break
            except ApplicationError:
                continue
    return issued
