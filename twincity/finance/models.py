"""Tech finance, phase 1: institutions' products (versioned data, as the scoring standards are), the
enterprises' consents to institutions, and the log of every institution-side read of an enterprise's data."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import INSTITUTION_KINDS, Organisation
from twincity.core.models import TimeStampedModel


class ProductKind(models.TextChoices):
    """finance_engine.PRODUCT_KINDS, as choices."""

    CREDIT_LOAN = "credit_loan", _("Credit loan")
    POINTS_LOAN = "points_loan", _("Innovation-points loan")
    TWIN_CITY_LOAN = "twin_city_loan", _("Twin-city loan")
    GUARANTEE = "guarantee", _("Guarantee")
    EQUITY = "equity", _("Equity")
    INSURANCE = "insurance", _("Technology insurance")


class FinancialProduct(TimeStampedModel):
    """One version of an institution's product. Never edited after it is saved: publishing a change makes a
    new version (the old one becomes superseded and is kept), so an application can name the version it was
    made against. `definition` is the product in finance_engine's format (validated by it); the columns beside
    it mirror it for queries and pages."""

    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        SUPERSEDED = "superseded", _("Superseded")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    product_id = models.CharField(_("product"), max_length=64, db_index=True)
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.PUBLISHED)
    institution = models.ForeignKey(Organisation, models.PROTECT, related_name="financial_products",
                                    verbose_name=_("institution"))
    kind = models.CharField(_("kind"), max_length=16, choices=ProductKind)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=200)
    # Annual rates as fractions (0.0345 = 3.45 % a year); mirrors definition["pricing"].
    rate = models.DecimalField(_("rate"), max_digits=7, decimal_places=6, null=True, blank=True)
    guarantee_fee = models.DecimalField(_("guarantee fee"), max_digits=7, decimal_places=6, default=0)
    interest_subsidy = models.DecimalField(_("interest subsidy"), max_digits=7, decimal_places=6, default=0)
    fee_subsidy = models.DecimalField(_("guarantee-fee subsidy"), max_digits=7, decimal_places=6, default=0)
    # Yuan; the amount and the term an enterprise may ask for.
    min_amount = models.DecimalField(_("minimum amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    max_amount = models.DecimalField(_("maximum amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    min_term_months = models.PositiveSmallIntegerField(_("minimum term (months)"), null=True, blank=True)
    max_term_months = models.PositiveSmallIntegerField(_("maximum term (months)"), null=True, blank=True)
    definition = models.JSONField()
    derived_from = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    note = models.CharField(_("change note"), max_length=255, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["product_id", "-version"]
        verbose_name = _("financial product")
        constraints = [
            models.UniqueConstraint(fields=["product_id", "version"], name="financial_product_version_unique"),
            models.UniqueConstraint(fields=["product_id"], condition=Q(status="published"),
                                    name="financial_product_one_published"),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.product_id} v{self.version})"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Purpose(models.TextChoices):
    FINANCING = "financing", _("Financing (loans and applications)")
    CREDIT_ASSESSMENT = "credit_assessment", _("Credit assessment and whitelist")
    GUARANTEE = "guarantee", _("Guarantee")
    EQUITY = "equity", _("Equity investment")


class ConsentQuerySet(models.QuerySet):
    def active_at(self, at) -> "ConsentQuerySet":
        """The consents in force at `at`: `Consent.active_at` as a query (the one rule, in both forms)."""
        return self.filter(models.Q(valid_from__lte=at, valid_until__gt=at),
                           models.Q(revoked_at__isnull=True) | models.Q(revoked_at__gt=at))


class Consent(TimeStampedModel):
    """An enterprise lets an institution (or every institution of a kind) read its declarations and points,
    for a purpose and a period, until it revokes the consent. A consent given to a bank covers its branches."""

    enterprise = models.ForeignKey("enterprises.Enterprise", models.CASCADE, related_name="consents",
                                   verbose_name=_("enterprise"))
    institution = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="consents",
                                    verbose_name=_("institution"))
    # Every institution of this kind (bank, guarantor, fund) when no institution is named.
    institution_kind = models.CharField(_("every institution of a kind"), max_length=16, blank=True,
                                        choices=[(k.value, k.label) for k in INSTITUTION_KINDS])
    purpose = models.CharField(_("purpose"), max_length=24, choices=Purpose)
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    valid_until = models.DateTimeField(_("valid until"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("consent")
        constraints = [
            models.CheckConstraint(
                condition=(Q(institution__isnull=False, institution_kind="")
                           | Q(institution__isnull=True) & ~Q(institution_kind="")),
                name="consent_one_grantee",
            ),
            models.CheckConstraint(condition=Q(valid_until__gt=models.F("valid_from")),
                                   name="consent_period_not_empty"),
        ]
        indexes = [models.Index(fields=["enterprise", "valid_until"], name="consent_enterprise")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} → {self.institution or self.get_institution_kind_display()}"

    def active_at(self, at) -> bool:
        """In force from `valid_from` (included) until `valid_until` or its revocation (excluded)."""
        return self.valid_from <= at < self.valid_until and (self.revoked_at is None or at < self.revoked_at)


class AccessLog(models.Model):
    """One institution-side read of an enterprise's declarations or points: who, at which institution, when,
    what and why (the consent it was read under). The enterprise sees every entry."""

    class What(models.TextChoices):
        POINTS = "points", _("Innovation points")
        DECLARATIONS = "declarations", _("Declarations")
        MATCH = "match", _("Product matching (declarations and points)")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    enterprise = models.ForeignKey("enterprises.Enterprise", models.CASCADE, related_name="access_log",
                                   verbose_name=_("enterprise"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    institution = models.ForeignKey(Organisation, models.PROTECT, related_name="+", verbose_name=_("institution"))
    what = models.CharField(_("what"), max_length=16, choices=What)
    # Consents are never deleted, only revoked (they go with their enterprise, and so do its log entries).
    consent = models.ForeignKey(Consent, models.CASCADE, related_name="accesses")
    purpose = models.CharField(_("purpose"), max_length=24, choices=Purpose)
    via = models.CharField(_("through"), max_length=100, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["enterprise", "-at"], name="access_log_enterprise")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.institution_id} read {self.what} of {self.enterprise_id}"


# --- demands and applications (financing cases) -------------------------------------------------------------


class ApplicationKind(models.TextChoices):
    DEMAND = "demand", _("Financing demand")
    APPLICATION = "application", _("Product application")


class ApplicationState(models.TextChoices):
    """finance_engine.lifecycle.STATES, as choices (the engine's transition table is the only way between them)."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    PUBLISHED = "published", _("Published")
    CLAIMED = "claimed", _("Claimed")
    DUE_DILIGENCE = "due_diligence", _("Due diligence")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    REFERRED_BACK = "referred_back", _("Referred back")
    DISBURSED = "disbursed", _("Disbursed")
    REPAID = "repaid", _("Repaid")
    OVERDUE = "overdue", _("Overdue")
    DEFAULTED = "defaulted", _("Defaulted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Application(TimeStampedModel):
    """A financing case of an enterprise: a demand (amount, term, purpose; published to institutions and claimed
    by one) or an application to a product version (routed to its institution; a twin-city loan to a lead and a
    partner branch in the two cities). Its state changes only through the services, by
    finance_engine.lifecycle's transition table; every change is an ApplicationEvent and an audit entry."""

    kind = models.CharField(_("kind"), max_length=12, choices=ApplicationKind)
    enterprise = models.ForeignKey("enterprises.Enterprise", models.PROTECT, related_name="financing_cases",
                                   verbose_name=_("enterprise"))
    product = models.ForeignKey(FinancialProduct, models.PROTECT, null=True, blank=True,
                                related_name="applications", verbose_name=_("product version"))
    amount = models.DecimalField(_("amount asked"), max_digits=14, decimal_places=2)
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    purpose = models.CharField(_("purpose"), max_length=500)
    registered_city = models.CharField(_("registered city"), max_length=32, blank=True)
    project_city = models.CharField(_("project city"), max_length=32, blank=True)
    # The claiming (demand) or receiving (application) branch; for a twin-city loan the project-side branch.
    lead_institution = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+",
                                         verbose_name=_("lead institution"))
    # A twin-city loan's second branch, in the registered city.
    partner_institution = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+",
                                            verbose_name=_("partner institution"))
    state = models.CharField(_("state"), max_length=16, choices=ApplicationState, default=ApplicationState.DRAFT,
                             db_index=True)
    # Joint decisions are counted per round: a referral back and a resubmission start the next round.
    decision_round = models.PositiveSmallIntegerField(default=1)
    reason = models.CharField(_("reason"), max_length=500, blank=True)  # of the last rejection or referral
    approved_amount = models.DecimalField(_("approved amount"), max_digits=14, decimal_places=2, null=True,
                                          blank=True)
    approved_rate = models.DecimalField(_("approved rate"), max_digits=7, decimal_places=6, null=True, blank=True)
    approved_term_months = models.PositiveSmallIntegerField(_("approved term (months)"), null=True, blank=True)
    disbursed_amount = models.DecimalField(_("disbursed amount"), max_digits=14, decimal_places=2, null=True,
                                           blank=True)
    disbursed_on = models.DateField(_("disbursed on"), null=True, blank=True)
    repaid_amount = models.DecimalField(_("repaid amount"), max_digits=14, decimal_places=2, default=0)
    repaid_on = models.DateField(_("repaid on"), null=True, blank=True)
    overdue_amount = models.DecimalField(_("overdue amount"), max_digits=14, decimal_places=2, null=True,
                                         blank=True)
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)
    defaulted_on = models.DateField(_("defaulted on"), null=True, blank=True)
    # Clocks (working days on the official calendar, twincity.core.workdays).
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    claim_due = models.DateField(_("claim due"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    decision_due = models.DateField(_("decision due"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("financing case")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="application_amount_positive"),
            models.CheckConstraint(condition=Q(kind="demand") | Q(product__isnull=False),
                                   name="application_names_product"),
        ]
        indexes = [
            models.Index(fields=["enterprise", "-created_at"], name="application_enterprise"),
            models.Index(fields=["lead_institution", "state"], name="application_lead_state"),
            models.Index(fields=["partner_institution", "state"], name="application_partner_state"),
            models.Index(fields=["product", "state"], name="application_product_state"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_joint(self) -> bool:
        return self.partner_institution_id is not None


class ApplicationEvent(models.Model):
    """One transition of a case (or a clock event that keeps its state, such as an escalation): who, at which
    institution, when, from and to, why. The case's timeline; append-only."""

    application = models.ForeignKey(Application, models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    institution = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField(_("action"), max_length=20)
    from_state = models.CharField(_("from"), max_length=16, choices=ApplicationState, blank=True)
    to_state = models.CharField(_("to"), max_length=16, choices=ApplicationState)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)  # amounts, rates, dates of the event (plain JSON)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["application", "at"], name="application_event_timeline")]

    def __str__(self) -> str:
        return f"#{self.application_id} {self.action}: {self.from_state} → {self.to_state}"


class BranchDecision(models.Model):
    """A routed branch's own decision on a case in one decision round: approve (with its share of the amount,
    the rate and the term), reject (with a reason) or refer back. A twin-city loan is approved only when both
    branches approve in the same round."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")
        REFER_BACK = "refer_back", _("Refer back")

    application = models.ForeignKey(Application, models.CASCADE, related_name="decisions")
    round = models.PositiveSmallIntegerField()
    institution = models.ForeignKey(Organisation, models.PROTECT, related_name="+")
    decision = models.CharField(_("decision"), max_length=12, choices=Decision)
    share_amount = models.DecimalField(_("share"), max_digits=14, decimal_places=2, null=True, blank=True)
    rate = models.DecimalField(_("rate"), max_digits=7, decimal_places=6, null=True, blank=True)
    term_months = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["round", "decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["application", "round", "institution"],
                                    name="branch_decision_once_per_round"),
        ]

    def __str__(self) -> str:
        return f"#{self.application_id} r{self.round} {self.institution_id}: {self.decision}"
