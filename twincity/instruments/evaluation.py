"""The sharing evaluation (开放共享评价) of an owner legal entity for a year, read from usage evidence: per
instrument 有效工作机时, 对外服务机时, 共享率, client organisations served, verified ratings and service income;
the owner's totals and its averages per large instrument (≥ 50万元, the evaluation's scope) compared with the
national and Chongqing benchmarks (usage_rules.BENCHMARKS); and the annual evaluation pack (XLSX).

The arithmetic is usage_rules' (pure); this module only gathers the facts."""

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone

from twincity.accounts.models import Organisation
from twincity.instruments import usage_rules as ur
from twincity.instruments.models import (
    Booking,
    BookingCharge,
    Instrument,
    SampleJob,
    SessionRating,
    UsageSession,
)


@dataclass
class InstrumentRow:
    instrument: Instrument
    figures: ur.InstrumentFigures
    ratings: int
    rating_mean: Decimal | None
    income: Decimal


@dataclass
class OwnerEvaluation:
    owner: Organisation
    year: int
    rows: list[InstrumentRow]
    effective_hours: Decimal = Decimal(0)
    external_hours: Decimal = Decimal(0)
    share_rate: Decimal | None = None
    large_count: int = 0
    avg_effective_hours: Decimal | None = None  # per large instrument
    avg_external_hours: Decimal | None = None
    clients: list[Organisation] = field(default_factory=list)
    ratings: int = 0
    rating_mean: Decimal | None = None
    income: Decimal = Decimal(0)
    comparisons: list[dict[str, Any]] = field(default_factory=list)


def _root(org_id: int | None, parents: Mapping[int, int | None]) -> int | None:
    if org_id is None:
        return None
    return parents.get(org_id) or org_id


def owner_evaluation(*, owner: Organisation, year: int) -> OwnerEvaluation:
    low, high = ur.year_bounds(year)
    now = timezone.now()
    instruments = list(Instrument.objects.filter(Q(owner_id=owner.pk) | Q(owner__parent_id=owner.pk))
                       .exclude(status=Instrument.Status.RETIRED).select_related("category").order_by("name_zh", "pk"))
    ids = [i.pk for i in instruments]
    sessions = list(UsageSession.objects.filter(instrument_id__in=ids, started_at__lt=high)
                    .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=low)).values_list("instrument_id", "started_at", "ended_at", "kind",
                                                            "organisation_id"))
    parents = dict(Organisation.objects.filter(pk__in={s[4] for s in sessions if s[4]}).values_list("pk", "parent_id"))
    facts: dict[int, list[ur.SessionFact]] = {pk: [] for pk in ids}
    for instrument_id, start, end, kind, org_id in sessions:
        client = _root(org_id, parents)
        # An open session counts until now (within the year: clipped later).
        facts[instrument_id].append(ur.SessionFact(start, end or now, kind, client is not None and client != owner.pk,
                                                   client))
    ratings = {r["session__instrument_id"]: r for r in SessionRating.objects.filter(
        session__instrument_id__in=ids, session__started_at__gte=low, session__started_at__lt=high)
        .values("session__instrument_id").annotate(n=Count("pk"), mean=Avg("score"))}
    income: dict[int, Decimal] = {pk: Decimal(0) for pk in ids}
    for pk, amount in (BookingCharge.objects.filter(booking__instrument_id__in=ids, booking__starts_at__gte=low,
                                                    booking__starts_at__lt=high)
                       .values_list("booking__instrument_id").annotate(s=Sum("amount"))):
        income[pk] += amount or 0
    for pk, amount in (Booking.objects.filter(instrument_id__in=ids, status=Booking.Status.CANCELLED,
                                              cancelled_at__gte=low, cancelled_at__lt=high)
                       .values_list("instrument_id").annotate(s=Sum("cancellation_fee"))):
        income[pk] += amount or 0
    for pk, amount in (SampleJob.objects.filter(instrument_id__in=ids, state__in=("reported", "closed"),
                                                reported_at__gte=low, reported_at__lt=high)
                       .values_list("instrument_id").annotate(s=Sum("quote_amount"))):
        income[pk] += amount or 0
    rows = []
    for instrument in instruments:
        r = ratings.get(instrument.pk)
        mean = Decimal(str(r["mean"])).quantize(Decimal("0.01")) if r else None
        rows.append(InstrumentRow(instrument, ur.instrument_figures(facts[instrument.pk], year),
                                  r["n"] if r else 0, mean, Decimal(income[instrument.pk]).quantize(ur.FEN)))
    result = OwnerEvaluation(owner=owner, year=year, rows=rows)
    result.effective_hours = sum((row.figures.effective_hours for row in rows), Decimal(0))
    result.external_hours = sum((row.figures.external_hours for row in rows), Decimal(0))
    result.share_rate = ur.ratio(result.external_hours, result.effective_hours)
    large = [row for row in rows if row.instrument.is_large]
    result.large_count = len(large)
    if large:
        result.avg_effective_hours = (sum((row.figures.effective_hours for row in large), Decimal(0))
                                      / len(large)).quantize(ur.HOURS)
        result.avg_external_hours = (sum((row.figures.external_hours for row in large), Decimal(0))
                                     / len(large)).quantize(ur.HOURS)
    client_ids = set().union(*(row.figures.clients for row in rows)) if rows else set()
    result.clients = list(Organisation.objects.filter(pk__in=client_ids).order_by("name"))
    all_ratings = SessionRating.objects.filter(session__instrument_id__in=ids, session__started_at__gte=low,
                                               session__started_at__lt=high).aggregate(n=Count("pk"), mean=Avg("score"))
    result.ratings = all_ratings["n"]
    result.rating_mean = (Decimal(str(all_ratings["mean"])).quantize(Decimal("0.01"))
                          if all_ratings["mean"] is not None else None)
    result.income = sum((row.income for row in rows), Decimal(0)).quantize(ur.FEN)
    share_avg = ur.ratio(result.avg_external_hours or Decimal(0), result.avg_effective_hours or Decimal(0))
    for b in ur.BENCHMARKS:
        result.comparisons.append({
            "key": b.key, "label": b.label, "source": b.source,
            "effective_hours": b.effective_hours, "external_hours": b.external_hours, "share_rate": b.share_rate,
            "effective_vs": ur.compare(result.avg_effective_hours, b.effective_hours),
            "external_vs": ur.compare(result.avg_external_hours, b.external_hours),
            "share_vs": ur.compare(share_avg, b.share_rate),
        })
    return result


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{(value * 100).quantize(Decimal('0.1'))}%"


def evaluation_pack_xlsx(evaluation: OwnerEvaluation) -> bytes:
    """The annual evaluation pack: 汇总 (the owner's figures and the benchmarks), 仪器 (per instrument), 服务单位
    (client organisations). Text stays text (never a formula), decimals are numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)

    def sheet(name: str, header: list[str], rows: list[list[Any]]) -> None:
        ws = workbook.create_sheet(name)

        def cell(value: Any) -> Any:
            if isinstance(value, Decimal):
                return float(value)
            if isinstance(value, str):
                text = WriteOnlyCell(ws, value=value)
                text.data_type = "s"
                return text
            return value

        ws.append([cell(h) for h in header])
        for row in rows:
            ws.append([cell(v) for v in row])

    e = evaluation
    summary: list[list[Any]] = [
        ["单位", e.owner.name], ["年度", str(e.year)], ["在用仪器（台套）", len(e.rows)],
        ["大型仪器（原值≥50万元）", e.large_count], ["有效工作机时合计（h）", e.effective_hours],
        ["对外服务机时合计（h）", e.external_hours], ["共享率", _pct(e.share_rate)],
        ["大型仪器年均有效工作机时（h）", e.avg_effective_hours], ["大型仪器年均对外服务机时（h）", e.avg_external_hours],
        ["服务单位数", len(e.clients)], ["用户评价（条）", e.ratings], ["平均评分（1–5）", e.rating_mean],
        ["服务收入（元）", e.income],
    ]
    for c in e.comparisons:
        summary.append([f"对比：{c['label']}", f"年均有效 {c['effective_hours'] or '—'} h（本单位为其 "
                        f"{_pct(c['effective_vs'])}）；年均对外 {c['external_hours'] or '—'} h（{_pct(c['external_vs'])}）；"
                        f"共享率 {_pct(c['share_rate'])}（{_pct(c['share_vs'])}）；来源：{c['source']}"])
    sheet("汇总", ["项目", "数值"], summary)
    sheet("仪器", ["仪器名称", "型号", "分类", "原值（元）", "大型", "有效工作机时（h）", "对外服务机时（h）", "共享率",
                 "维护机时（h）", "故障机时（h）", "服务单位数", "评价条数", "平均评分", "服务收入（元）"],
          [[r.instrument.name_zh, r.instrument.model, str(r.instrument.category), r.instrument.original_value,
            "是" if r.instrument.is_large else "否", r.figures.effective_hours, r.figures.external_hours,
            _pct(r.figures.share_rate), r.figures.maintenance_hours, r.figures.breakdown_hours, len(r.figures.clients),
            r.ratings, r.rating_mean, r.income] for r in e.rows])
    sheet("服务单位", ["单位名称", "城市"], [[o.name, o.get_city_display() if o.city else ""] for o in e.clients])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def chart_data(evaluation: OwnerEvaluation) -> dict[str, Any]:
    """The page's charts: hours per instrument (effective, external) and the averages against the benchmarks."""
    return {
        "instruments": [r.instrument.name_zh for r in evaluation.rows],
        "effective": [float(r.figures.effective_hours) for r in evaluation.rows],
        "external": [float(r.figures.external_hours) for r in evaluation.rows],
        "benchmarks": [{"label": c["label"], "effective": float(c["effective_hours"] or 0),
                        "external": float(c["external_hours"] or 0)} for c in evaluation.comparisons],
        "own": {"label": f"{evaluation.owner.name}（年均）", "effective": float(evaluation.avg_effective_hours or 0),
                "external": float(evaluation.avg_external_hours or 0)},
    }
