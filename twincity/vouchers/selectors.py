"""Reads of innovation vouchers: a holder's vouchers and their uses, a batch's vouchers and redemptions, the
settlement rows of a batch and period (the funding office's export)."""

from datetime import date
from uuid import UUID

from django.db.models import QuerySet

from twincity.core.access import visible_to
from twincity.vouchers import access
from twincity.vouchers.models import Redemption, RedemptionStatus, SubsidyClaim, Voucher, VoucherBatch

NO_BATCH = "创新券批次不存在 (no such batch)"
NO_REDEMPTION = "创新券使用记录不存在 (no such redemption)"
NO_VOUCHER = "创新券不存在 (no such voucher)"

# The redemptions a funding office settles: the job is done (used), claimed or settled.
DONE = (RedemptionStatus.USED, RedemptionStatus.CLAIMED, RedemptionStatus.SETTLED)


def batch_get(*, public_id: UUID) -> VoucherBatch | None:
    return VoucherBatch.objects.select_related("office").filter(public_id=public_id).first()


def voucher_get(*, public_id: UUID) -> Voucher | None:
    return Voucher.objects.select_related("batch", "holder").filter(public_id=public_id).first()


def redemption_get(*, public_id: UUID) -> Redemption | None:
    return (Redemption.objects.select_related("voucher__batch", "voucher__holder", "provider")
            .filter(public_id=public_id).first())


def vouchers_of(*, queryset: QuerySet[Voucher]) -> QuerySet[Voucher]:
    return queryset.select_related("batch", "holder").order_by("valid_until", "code")


def usable_vouchers(*, queryset: QuerySet[Voucher], on: date) -> QuerySet[Voucher]:
    """Vouchers that could pay something on `on` (active, in their period, with a balance; the batch open)."""
    return (vouchers_of(queryset=queryset)
            .filter(status=Voucher.Status.ACTIVE, batch__active=True, valid_from__lte=on, valid_until__gte=on)
            .exclude(amount__lte=0))


def redemptions_of(*, voucher: Voucher) -> QuerySet[Redemption]:
    return voucher.redemptions.select_related("provider").order_by("-created_at")


def batch_redemptions(*, batch: VoucherBatch, period_from: date | None = None, period_until: date | None = None,
                      statuses=DONE) -> QuerySet[Redemption]:
    """The redemptions of a batch whose job falls in [period_from, period_until] (local dates, both included)."""
    qs = Redemption.objects.filter(voucher__batch=batch, status__in=statuses)
    if period_from is not None:
        qs = qs.filter(job_date__gte=period_from)
    if period_until is not None:
        qs = qs.filter(job_date__lte=period_until)
    return (qs.select_related("voucher__holder", "provider").prefetch_related("evidence")
            .order_by("job_date", "pk"))


def claims_for(*, job_key: str) -> QuerySet[SubsidyClaim]:
    return SubsidyClaim.objects.filter(job_key=job_key).select_related("claimant").order_by("-created_at")


# --- what a person may open (404 otherwise): the pages and the API call these ---------------------------------


def batch_for(user, public_id: UUID) -> VoucherBatch:
    """A batch, for the office that manages it."""
    return visible_to(user, batch_get(public_id=public_id), access.can_manage_batch, NO_BATCH)


def redemption_for(user, public_id: UUID) -> Redemption:
    return visible_to(user, redemption_get(public_id=public_id), access.can_view_redemption, NO_REDEMPTION)


def voucher_for(user, public_id: UUID) -> Voucher:
    return visible_to(user, voucher_get(public_id=public_id), access.can_view_voucher, NO_VOUCHER)
