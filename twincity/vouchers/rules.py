"""The voucher rules, pure (no Django): may this voucher pay for this job, and how much of it.

Every refusal names its rule (a stable code), in Chinese, with the values it compared, so a page and the API can
say why a voucher cannot be used ("why can't I pay with this voucher").
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal

FEN = Decimal("0.01")
REQUIRED_EVIDENCE = ("contract", "report", "invoice", "payment")
CITY_NAMES = {"chongqing": "重庆", "chengdu": "成都"}


@dataclass(frozen=True)
class Terms:
    """A voucher with its batch's terms."""

    holder_id: int
    active: bool
    valid_from: date
    valid_until: date
    balance: Decimal
    categories: tuple[str, ...] = ()
    providers: tuple[int, ...] = ()
    regions: tuple[str, ...] = ()
    copay_share: Decimal = Decimal(0)


@dataclass(frozen=True)
class Job:
    """What a voucher would pay for: the paying organisation, the provider and its city, the service category,
    the job's local date and its amount."""

    payer_id: int | None
    provider_id: int
    provider_city: str
    category_code: str
    on: date
    amount: Decimal


@dataclass(frozen=True)
class Refusal:
    rule: str
    message: str
    values: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"rule": self.rule, "message": self.message, **self.values}


def cap(terms: Terms, amount: Decimal) -> Decimal:
    """The most of `amount` a voucher may cover: the share above the co-pay, rounded down to the fen."""
    return (amount * (Decimal(1) - terms.copay_share)).quantize(FEN, rounding=ROUND_DOWN)


def check(terms: Terms, job: Job) -> list[Refusal]:
    """Every rule the job breaks (an empty list: the voucher may pay for it)."""
    refusals = []
    if not terms.active:
        refusals.append(Refusal("voucher_inactive", "创新券已撤销或批次已关闭"))
    if job.payer_id != terms.holder_id:
        refusals.append(Refusal("holder", "创新券只能由持券企业用于本企业付费的服务"))
    if not terms.valid_from <= job.on <= terms.valid_until:
        refusals.append(Refusal("validity", f"服务日期 {job.on} 不在有效期 {terms.valid_from}–{terms.valid_until} 内",
                                {"on": job.on.isoformat(), "valid_from": terms.valid_from.isoformat(),
                                 "valid_until": terms.valid_until.isoformat()}))
    if terms.categories and not any(job.category_code.startswith(code) for code in terms.categories):
        refusals.append(Refusal("category", f"服务类别 {job.category_code} 不在可用类别内",
                                {"category": job.category_code, "eligible": list(terms.categories)}))
    if job.provider_city not in terms.regions:
        city = CITY_NAMES.get(job.provider_city, job.provider_city)
        refusals.append(Refusal("region", f"该批次创新券不能在{city}使用",
                                {"provider_city": job.provider_city, "accepted": list(terms.regions)}))
    if terms.providers and job.provider_id not in terms.providers:
        refusals.append(Refusal("provider", "服务机构不在该批次的入库服务机构名单内", {"provider": job.provider_id}))
    if job.amount <= 0:
        refusals.append(Refusal("amount", "该服务没有可支付的金额", {"amount": str(job.amount)}))
    elif terms.balance <= 0:
        refusals.append(Refusal("balance", "创新券余额不足", {"balance": str(terms.balance)}))
    return refusals


def voucher_part(terms: Terms, job: Job, wanted: Decimal | None = None) -> tuple[Decimal, list[Refusal]]:
    """The part of the job the voucher pays, or the refusal: as much as possible (at most the cap above the
    co-pay and the balance) when nothing is wanted; exactly what is wanted otherwise, refused above the cap or
    the balance."""
    most = min(cap(terms, job.amount), terms.balance)
    if wanted is None:
        part = max(most, Decimal(0))
        return part, [] if part > 0 else [Refusal("balance", "创新券余额不足", {"balance": str(terms.balance)})]
    if wanted <= 0:
        return Decimal(0), [Refusal("amount", "用券金额须为正数", {"wanted": str(wanted)})]
    if wanted > cap(terms, job.amount):
        return Decimal(0), [Refusal("copay", f"用券金额超过服务金额扣除企业自付后的上限 {cap(terms, job.amount)}",
                                    {"wanted": str(wanted), "cap": str(cap(terms, job.amount))})]
    if wanted > terms.balance:
        return Decimal(0), [Refusal("balance", f"创新券余额不足（余额 {terms.balance}）",
                                    {"wanted": str(wanted), "balance": str(terms.balance)})]
    return wanted.quantize(FEN, rounding=ROUND_DOWN), []


def evidence_missing(kinds: set[str], *, paid_in_cash: bool) -> list[str]:
    """The evidence kinds a job's bundle still lacks before it can be settled. A job of which the enterprise
    paid nothing in cash (the direct mode, wholly by voucher) has no payment record to show."""
    required = [kind for kind in REQUIRED_EVIDENCE if kind != "payment" or paid_in_cash]
    return [kind for kind in required if kind not in kinds]
