"""Guarantees and the risk pool (担保与风险补偿资金池): a pool run by an operator with its shares and circuit
breaker; guarantees attached to loans (finance.Application) with their fee and the shares frozen at
attachment; claims on default (filed → under review → approved → paid, or rejected with a reason); recoveries
shared back; and the pool's double-entry ledger, the same figures for every party.

The rules (splits to the fen, the pool's cap, the breaker, the posting rules) are finance_engine.risk; the
state changes and the ledger postings happen only in twincity.riskpool.services."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import City, Organisation
from twincity.core.models import TimeStampedModel
from twincity.finance.models import ApplicationState

MONEY: dict[str, Any] = {"max_digits": 16, "decimal_places": 2}


class RiskPool(TimeStampedModel):
    """A risk compensation pool (风险补偿资金池): who runs it, where, the default shares of a guaranteed loss
    and per-product shares (finance_engine.risk shares: role → weight), the pool's payout cap, and the
    circuit-breaker threshold on its loss ratio (net losses / contributions)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended (circuit breaker)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    operator = models.ForeignKey(Organisation, models.PROTECT, related_name="risk_pools_operated",
                                 verbose_name=_("operator"))
    city = models.CharField(_("city"), max_length=32, choices=City, blank=True)
    default_shares = models.JSONField(_("default shares"))
    product_shares = models.JSONField(_("shares per product"), default=dict, blank=True)
    breaker_threshold = models.DecimalField(_("circuit-breaker threshold (loss ratio)"), max_digits=6,
                                            decimal_places=4)
    payout_cap_rate = models.DecimalField(_("payout cap (share of the loss)"), max_digits=5, decimal_places=4,
                                          null=True, blank=True)
    payout_cap_amount = models.DecimalField(_("payout cap per claim (yuan)"), null=True, blank=True, **MONEY)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.ACTIVE)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    suspended_reason = models.CharField(_("suspension reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["name"]
        verbose_name = _("risk pool")
        constraints = [
            models.CheckConstraint(condition=Q(breaker_threshold__gt=0), name="risk_pool_threshold_positive"),
            models.CheckConstraint(condition=Q(payout_cap_rate__isnull=True)
                                   | Q(payout_cap_rate__gt=0, payout_cap_rate__lte=1),
                                   name="risk_pool_cap_rate_range"),
            models.CheckConstraint(condition=Q(payout_cap_amount__isnull=True) | Q(payout_cap_amount__gt=0),
                                   name="risk_pool_cap_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def shares_for(self, product_id: str | None) -> dict:
        """The shares a new guarantee under this product takes (the product's own, else the pool's default)."""
        if product_id and product_id in (self.product_shares or {}):
            return dict(self.product_shares[product_id])
        return dict(self.default_shares)


# The loans a guarantee can be attached to: approved or disbursed.
GUARANTEEABLE = (ApplicationState.APPROVED, ApplicationState.DISBURSED)


class Guarantee(TimeStampedModel):
    """A guarantee on a loan (a financing case of finance), with its fee and the shares frozen at attachment:
    a later change of the pool's shares does not change an existing guarantee."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CLAIMED = "claimed", _("Claim open")
        COMPENSATED = "compensated", _("Compensated")
        RELEASED = "released", _("Released (loan repaid)")

    pool = models.ForeignKey(RiskPool, models.PROTECT, related_name="guarantees", verbose_name=_("risk pool"))
    application = models.OneToOneField("finance.Application", models.PROTECT, related_name="guarantee",
                                       verbose_name=_("loan"))
    product = models.ForeignKey("finance.FinancialProduct", models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("guarantee product version"))
    lender = models.ForeignKey(Organisation, models.PROTECT, related_name="+", verbose_name=_("lending bank"))
    guarantor = models.ForeignKey(Organisation, models.PROTECT, related_name="guarantees_given",
                                  verbose_name=_("guarantor"))
    reguarantor = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("re-guarantor"))
    covered_amount = models.DecimalField(_("covered amount"), **MONEY)
    fee_rate = models.DecimalField(_("annual fee rate"), max_digits=7, decimal_places=6)
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    fee_amount = models.DecimalField(_("guarantee fee"), **MONEY)
    shares = models.JSONField(_("risk shares (frozen)"))
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("guarantee")
        constraints = [
            models.CheckConstraint(condition=Q(covered_amount__gt=0), name="guarantee_covered_positive"),
            models.CheckConstraint(condition=Q(fee_amount__gte=0), name="guarantee_fee_not_negative"),
            models.CheckConstraint(condition=Q(term_months__gt=0), name="guarantee_term_positive"),
        ]
        indexes = [models.Index(fields=["pool", "-created_at"], name="guarantee_pool")]

    def __str__(self) -> str:
        return f"担保 #{self.pk}"


class Claim(TimeStampedModel):
    """A claim for compensation after the loan defaulted. Its status changes only through the services, by
    TRANSITIONS; an illegal transition is a Conflict (409) and changes nothing."""

    class Status(models.TextChoices):
        FILED = "filed", _("Filed")
        UNDER_REVIEW = "under_review", _("Under review")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")

    guarantee = models.ForeignKey(Guarantee, models.PROTECT, related_name="claims", verbose_name=_("guarantee"))
    amount = models.DecimalField(_("loss claimed"), **MONEY)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.FILED, db_index=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    rejection_reason = models.CharField(_("rejection reason"), max_length=500, blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    paid_at = models.DateTimeField(null=True, blank=True)
    # finance_engine.risk.LossAllocation.to_dict() at payout: the loss by shares, as borne, what the cap moved.
    allocation = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("claim")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="claim_amount_positive"),
            models.CheckConstraint(condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                                   name="claim_rejection_has_reason"),
            models.UniqueConstraint(fields=["guarantee"], condition=~Q(status="rejected"),
                                    name="claim_one_live_per_guarantee"),
        ]

    def __str__(self) -> str:
        return f"代偿申请 #{self.pk}"


# Claim transitions: (from, action) → to. The only way a claim's status changes.
TRANSITIONS: dict[tuple[str, str], str] = {
    (Claim.Status.FILED, "review"): Claim.Status.UNDER_REVIEW,
    (Claim.Status.FILED, "reject"): Claim.Status.REJECTED,
    (Claim.Status.UNDER_REVIEW, "approve"): Claim.Status.APPROVED,
    (Claim.Status.UNDER_REVIEW, "reject"): Claim.Status.REJECTED,
    (Claim.Status.APPROVED, "pay"): Claim.Status.PAID,
}
CLAIM_ACTIONS = ("review", "approve", "reject", "pay")


class Recovery(TimeStampedModel):
    """Money recovered from the borrower after a paid claim, shared back by the same shares."""

    claim = models.ForeignKey(Claim, models.PROTECT, related_name="recoveries", verbose_name=_("claim"))
    amount = models.DecimalField(_("amount recovered"), **MONEY)
    parts = models.JSONField(_("parts by party"), default=dict)  # role → yuan text
    note = models.CharField(_("note"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("recovery")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="recovery_amount_positive")]

    def __str__(self) -> str:
        return f"追偿 #{self.pk}"


class AccountKind(models.TextChoices):
    """finance_engine.risk.ACCOUNT_KINDS, as choices."""

    CASH = "cash", _("Cash")
    CONTRIBUTED = "contributed", _("Contributions")
    FEE = "fee", _("Guarantee fees")
    LOSS = "loss", _("Losses borne")
    RECOVERY = "recovery", _("Recoveries")
    DEFAULTED = "defaulted", _("Defaulted principal")


class LedgerAccount(models.Model):
    """One account of a pool's ledger: a party's (an organisation's) or the pool's own (party empty)."""

    pool = models.ForeignKey(RiskPool, models.PROTECT, related_name="accounts")
    party = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=AccountKind)

    class Meta:
        ordering = ["pool", "party", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["pool", "party", "kind"], condition=Q(party__isnull=False),
                                    name="ledger_account_unique_party"),
            models.UniqueConstraint(fields=["pool", "kind"], condition=Q(party__isnull=True),
                                    name="ledger_account_unique_pool"),
        ]

    def __str__(self) -> str:
        return f"{self.party or self.pool}: {self.get_kind_display()}"


class LedgerTransaction(models.Model):
    """A balanced group of ledger entries for one business event. Its totals are written with its entries in
    one database transaction; the check below holds them equal, and the services verify them against the
    entries (finance_engine.risk.check_balanced) before writing."""

    class Kind(models.TextChoices):
        CONTRIBUTION = "contribution", _("Contribution")
        FEE = "fee", _("Guarantee fee")
        PAYOUT = "payout", _("Payout")
        RECOVERY = "recovery", _("Recovery")

    pool = models.ForeignKey(RiskPool, models.PROTECT, related_name="transactions")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    guarantee = models.ForeignKey(Guarantee, models.PROTECT, null=True, blank=True, related_name="transactions")
    claim = models.ForeignKey(Claim, models.PROTECT, null=True, blank=True, related_name="transactions")
    recovery = models.OneToOneField(Recovery, models.PROTECT, null=True, blank=True, related_name="transaction")
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    debit_total = models.DecimalField(**MONEY)
    credit_total = models.DecimalField(**MONEY)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(debit_total=F("credit_total")) & Q(debit_total__gt=0),
                                   name="ledger_transaction_balanced"),
            # One payout per claim: a second concurrent payout cannot post.
            models.UniqueConstraint(fields=["claim"], condition=Q(kind="payout"), name="ledger_one_payout_per_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class LedgerEntry(models.Model):
    """One line: a debit or a credit (never both, never negative) to one account."""

    transaction = models.ForeignKey(LedgerTransaction, models.PROTECT, related_name="entries")
    account = models.ForeignKey(LedgerAccount, models.PROTECT, related_name="entries")
    debit = models.DecimalField(default=0, **MONEY)
    credit = models.DecimalField(default=0, **MONEY)

    class Meta:
        ordering = ["transaction", "pk"]
        constraints = [
            models.CheckConstraint(condition=(Q(debit__gt=0, credit=0) | Q(debit=0, credit__gt=0)),
                                   name="ledger_entry_one_positive_side"),
        ]
        indexes = [models.Index(fields=["account", "transaction"], name="ledger_entry_account")]

    def __str__(self) -> str:
        return f"{self.account}: Dr {self.debit} Cr {self.credit}"
