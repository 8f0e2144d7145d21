"""The funding office's export of a batch and period: the settlement sheet (XLSX, through the kernel's
formula-safe writer) and the evidence bundle (a ZIP: the sheet, and each job's files under its voucher code and
job)."""

import io
import zipfile
from collections.abc import Iterable
from datetime import date

from django.utils import timezone

from twincity.core.exports import xlsx_bytes
from twincity.vouchers.models import EvidenceKind, Redemption, VoucherBatch
from twincity.vouchers.services import evidence_missing

HEADER = ("创新券编号", "持券企业", "服务机构", "服务所在城市", "服务类别", "服务", "服务日期", "服务金额(元)",
          "券额(元)", "自付(元)", "兑付方式", "状态", "材料齐全", "缺少材料", "申请兑付时间", "核销时间", "服务标识")


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def settlement_rows(redemptions: Iterable[Redemption]) -> list[tuple]:
    rows = []
    for r in redemptions:
        missing = evidence_missing(r)
        rows.append((r.voucher.code, r.voucher.holder.name, r.provider.name, r.get_provider_city_display(),
                     r.category_code, r.job_label, r.job_date, r.job_amount, r.voucher_amount, r.cash_amount,
                     r.get_settlement_mode_display(), r.get_status_display(), "是" if not missing else "否",
                     "、".join(EvidenceKind(k).label for k in missing), _local(r.claimed_at), _local(r.settled_at),
                     r.job_key))
    return rows


def settlement_xlsx(redemptions: Iterable[Redemption]) -> bytes:
    return xlsx_bytes("创新券兑付", HEADER, settlement_rows(redemptions))


def export_name(batch: VoucherBatch, period_from: date | None, period_until: date | None) -> str:
    period = f"{period_from or ''}_{period_until or ''}".strip("_")
    return f"{batch.code}{'-' + period if period else ''}"


def evidence_zip(batch: VoucherBatch, redemptions: list[Redemption], *, name: str) -> bytes:
    """The sheet and every job's evidence files: <voucher code>/<job>/<kind>-<file name>."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.xlsx", settlement_xlsx(redemptions))
        for r in redemptions:
            folder = f"{r.voucher.code}/{r.job_ref}"
            for evidence in r.evidence.all():
                with evidence.file.open("rb") as handle:
                    archive.writestr(f"{folder}/{evidence.kind}-{evidence.pk}-{evidence.name}", handle.read())
    return buffer.getvalue()
