"""Risk sharing of guaranteed loans (银担分险) and the risk pool's double-entry posting rules (issue #8).

Pure: no Django, no ninja, no twincity. Money is Decimal yuan, counted in whole fen (0.01 yuan).

**Shares.** A guarantee freezes the shares of its parties when it is attached: a mapping of party role →
non-negative weight, e.g. ``{"bank": 2, "pool": 8}`` (2:8) or ``{"guarantor": 4, "reguarantor": 3,
"bank": 2, "pool": 1}`` (4:3:2:1, the Anhui pilot of reference/finance.md §4.1). Roles are those of
``PARTY_ROLES``; a weight may be an int or a decimal string ("0.4"); the weights need not sum to anything.

**Splitting to the fen: the largest-remainder rule.** ``split(amount, shares)`` gives every party
``floor(exact share)`` in fen; the fen left over (fewer than the number of parties) go one each to the
parties with the largest remainders. Ties are broken by the larger weight first, then by the order of
``PARTY_ROLES`` (bank, guarantor, reguarantor, pool). So the parts always sum exactly to the amount and each
is within one fen of its exact proportion (floor ≤ part ≤ floor + 1 fen). Example (tested): 1,234,567.89
at guarantor:reguarantor:bank:pool = 4:3:2:1 gives 493,827.15 / 370,370.37 / 246,913.58 / 123,456.79.

**Recoveries** are shared back by the same weights, *cumulatively*: after each recovery a party holds the
largest-remainder share of everything recovered so far, held between nothing and the loss it bore (see
``recovery_split``). So no party is ever repaid more than it lost, and a full recovery gives every party back
exactly the loss it bore.

**The pool's payout cap.** The pool pays its share of a loss up to the lowest of: a rate of the loss
(e.g. 知识价值: at most 80 % of the unrecovered principal), an amount per claim, and its balance. What the
pool does not pay is borne by the lender (the bank), as the lender bears the rest in 知识价值 (§3.4).

**The circuit breaker (熔断).** A pool's loss ratio is its net losses (payouts − its recoveries) over its
contributions. When the ratio reaches or passes the configured threshold, the breaker trips and new
guarantees under the pool are suspended.

**Posting rules.** Every business event becomes one balanced transaction of ledger lines (debits ==
credits). Accounts are (party, kind); the party is a role key or any key the caller uses for an
organisation, and ``POOL`` for the pool itself:

* cash        (debit-normal)  money of the party in the arrangement; the pool's cash is its balance
* contributed (credit-normal) what a contributor put into the pool
* fee         (credit-normal) guarantee fees earned
* loss        (debit-normal)  the share of defaulted principal a party bore
* recovery    (credit-normal) what a party got back from recoveries
* defaulted   (credit-normal) the lender's defaulted principal that the parties covered

contribution X by C:        Dr cash(pool) X                         Cr contributed(C) X
guarantee fee F:            Dr cash(p) f_p for each fee receiver      Cr fee(p) f_p
payout of loss L:           Dr loss(p) l_p for each party             Cr defaulted(lender) L
                            Dr cash(lender) Σ paid by others          Cr cash(p) l_p for each non-lender payer
recovery R:                 Dr cash(lender) R                         Cr recovery(p) r_p for each party
                            Dr cash(p) r_p for each non-lender        Cr cash(lender) Σ r_p of the others

So the pool's balance = contributions + its fees − its payouts + its recoveries, and the trial balance of
any set of whole transactions sums to zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from .errors import FinanceEngineError

FEN = Decimal("0.01")
ZERO = Decimal("0.00")

BANK, GUARANTOR, REGUARANTOR, POOL = "bank", "guarantor", "reguarantor", "pool"
#: The parties of a risk-sharing arrangement, in tie-break order.
PARTY_ROLES: tuple[str, ...] = (BANK, GUARANTOR, REGUARANTOR, POOL)
PARTY_LABELS: dict[str, tuple[str, str]] = {
    BANK: ("贷款银行", "lending bank"),
    GUARANTOR: ("担保机构", "guarantor"),
    REGUARANTOR: ("再担保机构", "re-guarantor"),
    POOL: ("风险补偿资金池", "risk pool"),
}

CASH, CONTRIBUTED, FEE, LOSS, RECOVERY, DEFAULTED = "cash", "contributed", "fee", "loss", "recovery", "defaulted"
ACCOUNT_KINDS: dict[str, tuple[str, str, str]] = {  # kind → (中文, English, normal side)
    CASH: ("资金余额", "cash", "debit"),
    CONTRIBUTED: ("出资", "contributions", "credit"),
    FEE: ("担保费收入", "guarantee fees", "credit"),
    LOSS: ("承担损失", "losses borne", "debit"),
    RECOVERY: ("追偿分回", "recoveries", "credit"),
    DEFAULTED: ("违约本金", "defaulted principal", "credit"),
}


class RiskError(FinanceEngineError, ValueError):
    """Invalid shares, amounts or ledger lines (bilingual message)."""


# --- money and shares -----------------------------------------------------------------------------------------


def to_fen_int(amount: Decimal | int | str) -> int:
    """Yuan → whole fen; refuses a negative amount or one with a fraction of a fen."""
    try:
        value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    except InvalidOperation:
        raise RiskError(f"金额无效 / invalid amount: {amount!r}") from None
    if not value.is_finite() or value < 0:
        raise RiskError(f"金额须为非负数（元） / the amount must be non-negative yuan, got {amount}")
    fen = value * 100
    if fen != fen.to_integral_value():
        raise RiskError(f"金额须精确到分 / the amount must be whole fen, got {amount}")
    return int(fen)


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(FEN)


def _weight(value: Any) -> Fraction | None:
    if isinstance(value, bool) or isinstance(value, float):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, (str, Decimal)):
        try:
            d = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return Fraction(d) if d.is_finite() else None
    return None


def validate_shares(shares: Any, path: str = "shares") -> list[str]:
    """Errors of a shares mapping ("path: 中文 / English"); [] when valid. At least one positive weight; the
    lender (bank) always has a role (it bears what no one else covers), with a weight of 0 or more."""
    if not isinstance(shares, Mapping) or not shares:
        return [f"{path}: 须为 角色→权重 / must map party role → weight"]
    errors = []
    for role, value in shares.items():
        if role not in PARTY_ROLES:
            errors.append(f"{path}.{role}: 未知角色 / unknown role (one of {', '.join(PARTY_ROLES)})")
            continue
        w = _weight(value)
        if w is None or w < 0:
            errors.append(f"{path}.{role}: 须为非负整数或十进制文本 / a non-negative int or decimal text")
    if not errors and sum((_weight(v) or Fraction(0)) for v in shares.values()) <= 0:
        errors.append(f"{path}: 至少一方权重为正 / at least one weight must be positive")
    return errors


def normalise_shares(shares: Mapping[str, Any]) -> dict[str, Fraction]:
    """The positive weights as exact fractions, in PARTY_ROLES order (raises RiskError when invalid)."""
    errors = validate_shares(shares)
    if errors:
        raise RiskError("分险比例无效 / invalid shares: " + "; ".join(errors))
    weights = {role: _weight(shares[role]) for role in PARTY_ROLES if role in shares}
    return {role: w for role, w in weights.items() if w is not None and w > 0}


def shares_text(shares: Mapping[str, Any]) -> str:
    """"bank 2 : pool 8" — for pages and audit notes."""
    return " : ".join(f"{role} {shares[role]}" for role in PARTY_ROLES if role in shares)


def split_fen(total_fen: int, weights: Mapping[str, Fraction]) -> dict[str, int]:
    """Largest remainder in whole fen; ties: larger weight first, then PARTY_ROLES order (other keys after,
    in sorted order)."""
    if total_fen < 0:
        raise RiskError("金额须为非负数 / the amount must be non-negative")
    positive = {k: w for k, w in weights.items() if w > 0}
    if not positive:
        raise RiskError("至少一方权重为正 / at least one weight must be positive")
    whole = sum(positive.values())
    parts: dict[str, int] = {}
    remainders: dict[str, Fraction] = {}
    for key, w in positive.items():
        exact = total_fen * w / whole
        floor = exact.numerator // exact.denominator
        parts[key] = floor
        remainders[key] = exact - floor
    left = total_fen - sum(parts.values())
    order = {role: i for i, role in enumerate(PARTY_ROLES)}
    ranked = sorted(positive, key=lambda k: (-remainders[k], -positive[k], order.get(k, len(order)), str(k)))
    for key in ranked[:left]:
        parts[key] += 1
    return parts


def split(amount: Decimal | int | str, shares: Mapping[str, Any]) -> dict[str, Decimal]:
    """The amount (yuan) split by the shares to the fen, summing exactly to it (see the module's rule).
    Every role named with a positive weight has a part (possibly 0.00), in PARTY_ROLES order."""
    parts = split_fen(to_fen_int(amount), normalise_shares(shares))
    return {role: from_fen(fen) for role, fen in parts.items()}


def exact_share(amount: Decimal | int | str, shares: Mapping[str, Any], role: str) -> Fraction:
    """A party's exact proportion of an amount, in fen (for checks)."""
    weights = normalise_shares(shares)
    return to_fen_int(amount) * weights.get(role, Fraction(0)) / sum(weights.values())


def recovery_split(amount: Decimal | int | str, weights: Mapping[str, Any], *,
                   recovered_before: Mapping[str, Decimal] | None = None,
                   borne: Mapping[str, Decimal] | None = None) -> dict[str, Decimal]:
    """One recovery shared back by `weights` (the frozen shares, or the losses as they were borne), given what
    each party got from the earlier recoveries and (`borne`) the loss each bore.

    Each party's cumulative recoveries are its largest-remainder share of the cumulative total; then every
    part is held between 0 and the party's unrecovered loss (borne − recovered before), the fen moved by
    that going to (or coming from) the other parties, larger weight first, then role order. So the parts
    are ≥ 0 and sum exactly to `amount`; no party ever gets back more than it bore; and the recovery that
    completes the loss returns to every party exactly what it bore. (Largest remainder is not monotone in
    the total — the "Alabama paradox" — so without the bounds a part could come out at −1 fen or a party
    could be repaid a fen it never lost.)"""
    normal = normalise_shares(weights)
    before = {k: to_fen_int(v) for k, v in (recovered_before or {}).items()}
    now_fen = to_fen_int(amount)
    target = split_fen(sum(before.values()) + now_fen, normal)
    parts = {k: target[k] - before.get(k, 0) for k in normal}
    high = None if borne is None else {k: to_fen_int(borne.get(k, 0)) - before.get(k, 0) for k in normal}
    if high is not None and now_fen > sum(max(h, 0) for h in high.values()):
        raise RiskError("追偿超过未收回损失 / the recovery exceeds the unrecovered loss")
    order = {role: i for i, role in enumerate(PARTY_ROLES)}
    moved = 0  # fen to hand out (> 0) or take back (< 0)
    for k in parts:
        top = parts[k] if high is None else min(parts[k], max(high[k], 0))
        bounded = max(top, 0)
        moved += parts[k] - bounded
        parts[k] = bounded
    preference = sorted(parts, key=lambda k: (-normal[k], order.get(k, len(order))))
    while moved > 0:
        room = [k for k in preference if high is None or parts[k] < high[k]]
        for k in room[:moved]:
            parts[k] += 1
            moved -= 1
    while moved < 0:
        key = max(parts, key=lambda k: (parts[k], -order.get(k, len(order))))
        parts[key] -= 1
        moved += 1
    return {k: from_fen(v) for k, v in parts.items()}


# --- the pool's payout and its circuit breaker ----------------------------------------------------------------


@dataclass(frozen=True)
class PayoutCap:
    """At most `rate` of the loss (a fraction, e.g. 0.8) and at most `amount` yuan per claim; None = no cap."""

    rate: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class LossAllocation:
    """Who bears what of one loss. `borne` sums exactly to `loss`; `by_shares` is the plain split before the
    pool's cap; `pool_capped` is what the cap moved from the pool to the lender."""

    loss: Decimal
    by_shares: dict[str, Decimal]
    borne: dict[str, Decimal]
    pool_capped: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {"loss": str(self.loss), "by_shares": {k: str(v) for k, v in self.by_shares.items()},
                "borne": {k: str(v) for k, v in self.borne.items()}, "pool_capped": str(self.pool_capped)}


def pool_payout(pool_share: Decimal, loss: Decimal, cap: PayoutCap | None = None,
                available: Decimal | None = None) -> Decimal:
    """What the pool pays of its share: the lowest of its share, `cap.rate` × loss (rounded down to the fen),
    `cap.amount`, and its `available` balance (never below 0)."""
    paid = pool_share
    if cap is not None and cap.rate is not None:
        paid = min(paid, (loss * cap.rate).quantize(FEN, rounding=ROUND_DOWN))
    if cap is not None and cap.amount is not None:
        paid = min(paid, cap.amount)
    if available is not None:
        paid = min(paid, max(available, ZERO))
    return max(paid, ZERO).quantize(FEN)


def allocate_loss(loss: Decimal | int | str, shares: Mapping[str, Any], *, cap: PayoutCap | None = None,
                  pool_available: Decimal | None = None) -> LossAllocation:
    """Split a loss by the frozen shares; the pool pays its part up to its cap and the lender bears the rest."""
    loss_d = from_fen(to_fen_int(loss))
    by_shares = split(loss_d, shares)
    borne = dict(by_shares)
    capped = ZERO
    if POOL in borne:
        paid = pool_payout(borne[POOL], loss_d, cap, pool_available)
        capped = borne[POOL] - paid
        borne[POOL] = paid
        if capped:
            borne[BANK] = borne.get(BANK, ZERO) + capped
            borne = {role: borne[role] for role in PARTY_ROLES if role in borne}
    return LossAllocation(loss=loss_d, by_shares=by_shares, borne=borne, pool_capped=capped)


def recovery_weights(allocation: LossAllocation, shares: Mapping[str, Any]) -> Mapping[str, Any]:
    """Recoveries follow the frozen shares; when the pool's cap moved part of its share to the lender, they
    follow the losses as they were actually borne (so a full recovery gives each party back what it bore)."""
    if not allocation.pool_capped:
        return shares
    return {role: str(v) for role, v in allocation.borne.items() if v > 0} or shares


def loss_ratio(contributions: Decimal, net_losses: Decimal) -> Decimal | None:
    """Net losses over contributions (None when nothing was contributed)."""
    if contributions <= 0:
        return None
    return net_losses / contributions


def breaker_tripped(contributions: Decimal, net_losses: Decimal, threshold: Decimal) -> bool:
    """The circuit breaker trips when the loss ratio reaches or passes the threshold (with no contributions,
    as soon as there is any net loss)."""
    if net_losses <= 0:
        return False
    ratio = loss_ratio(contributions, net_losses)
    return ratio is None or ratio >= threshold


# --- guarantee fees -------------------------------------------------------------------------------------------


def guarantee_fee(amount: Decimal, annual_rate: Decimal, term_months: int) -> Decimal:
    """amount × annual rate × months / 12, ROUND_HALF_UP to the fen (as finance_engine.cost prices it)."""
    from .cost import to_fen

    return to_fen(Decimal(amount) * Decimal(annual_rate) * term_months / 12)


def fee_split(fee: Decimal, shares: Mapping[str, Any]) -> dict[str, Decimal]:
    """The guarantee fee is earned by the parties that carry guarantee risk, that is everyone but the lender,
    in proportion to their shares; when only the lender has a share, the guarantor earns it all."""
    carriers = {role: w for role, w in shares.items() if role != BANK and (_weight(w) or 0) > 0}
    return split(fee, carriers or {GUARANTOR: 1})


# --- double-entry posting rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    party: Any  # a role key, an organisation key of the caller, or POOL
    kind: str  # one of ACCOUNT_KINDS
    debit: Decimal = ZERO
    credit: Decimal = ZERO


def _dr(party: Any, kind: str, amount: Decimal) -> Line:
    return Line(party, kind, debit=amount)


def _cr(party: Any, kind: str, amount: Decimal) -> Line:
    return Line(party, kind, credit=amount)


def check_balanced(lines: Iterable[Line]) -> None:
    """Raise RiskError unless the lines form one balanced transaction: each line one-sided, positive, to the
    fen, of a known kind; Σ debits == Σ credits; at least two lines."""
    lines = list(lines)
    if len(lines) < 2:
        raise RiskError("一笔分录至少两行 / a transaction has at least two lines")
    for line in lines:
        if line.kind not in ACCOUNT_KINDS:
            raise RiskError(f"未知科目 / unknown account kind {line.kind!r}")
        if (line.debit > 0) == (line.credit > 0) or line.debit < 0 or line.credit < 0:
            raise RiskError(f"每行只能借或贷一个正数 / one positive side per line: {line}")
        for v in (line.debit, line.credit):
            if v != v.quantize(FEN):
                raise RiskError(f"金额须精确到分 / amounts are whole fen: {line}")
    debits = sum((line.debit for line in lines), ZERO)
    credits = sum((line.credit for line in lines), ZERO)
    if debits != credits:
        raise RiskError(f"借贷不平 / debits {debits} != credits {credits}")


def _kept(lines: list[Line]) -> list[Line]:
    kept = [line for line in lines if line.debit > 0 or line.credit > 0]
    check_balanced(kept)
    return kept


def post_contribution(contributor: Any, amount: Decimal) -> list[Line]:
    amount = from_fen(to_fen_int(amount))
    if amount <= 0:
        raise RiskError("出资须为正数 / a contribution must be positive")
    return _kept([_dr(POOL, CASH, amount), _cr(contributor, CONTRIBUTED, amount)])


def post_fee(parts: Mapping[Any, Decimal]) -> list[Line]:
    """Each receiver's part of a guarantee fee (keys: parties)."""
    lines = [_dr(party, CASH, v) for party, v in parts.items()]
    lines += [_cr(party, FEE, v) for party, v in parts.items()]
    return _kept(lines)


def post_payout(borne: Mapping[Any, Decimal], lender: Any) -> list[Line]:
    """The loss as borne (keys: parties; the lender's own part included); the others pay theirs to the lender."""
    loss = sum(borne.values(), ZERO)
    others = {party: v for party, v in borne.items() if party != lender}
    lines = [_dr(party, LOSS, v) for party, v in borne.items()]
    lines.append(_cr(lender, DEFAULTED, loss))
    lines.append(_dr(lender, CASH, sum(others.values(), ZERO)))
    lines += [_cr(party, CASH, v) for party, v in others.items()]
    return _kept(lines)


def post_recovery(parts: Mapping[Any, Decimal], lender: Any) -> list[Line]:
    """A recovery collected by the lender and shared back (keys: parties; the lender's part included)."""
    total = sum(parts.values(), ZERO)
    others = {party: v for party, v in parts.items() if party != lender}
    lines = [_dr(lender, CASH, total)]
    lines += [_cr(party, RECOVERY, v) for party, v in parts.items()]
    lines += [_dr(party, CASH, v) for party, v in others.items()]
    lines.append(_cr(lender, CASH, sum(others.values(), ZERO)))
    return _kept(lines)


def merge_lines(lines: Iterable[Line]) -> list[Line]:
    """Lines of the same account and side added together (a party holding two roles), order kept."""
    totals: dict[tuple[Any, str, str], Decimal] = {}
    for line in lines:
        side = "debit" if line.debit > 0 else "credit"
        key = (line.party, line.kind, side)
        totals[key] = totals.get(key, ZERO) + (line.debit or line.credit)
    return [Line(p, k, debit=v if s == "debit" else ZERO, credit=v if s == "credit" else ZERO)
            for (p, k, s), v in totals.items()]


def balances(lines: Iterable[Line]) -> dict[tuple[Any, str], Decimal]:
    """Debit − credit per (party, kind): the trial balance (its values sum to zero over whole transactions)."""
    out: dict[tuple[Any, str], Decimal] = {}
    for line in lines:
        key = (line.party, line.kind)
        out[key] = out.get(key, ZERO) + line.debit - line.credit
    return out
