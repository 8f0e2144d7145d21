"""Tech finance, phase 1: institutions' products (versioned data, as the scoring standards are), the
enterprises' consents to institutions, and the log of every institution-side read of an enterprise's data."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import Organisation
from twincity.core.models import TimeStampedModel

# The organisations that publish products and read enterprises' data with their consent.
INSTITUTION_KINDS = (Organisation.Kind.BANK, Organisation.Kind.GUARANTOR, Organisation.Kind.FUND)


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


class EquityRound(TimeStampedModel):
    """An equity round an enterprise closed (股贷债保): when, how much, who invested, at which stage. Recorded by
    the enterprise or by the investing fund (services.equity_round_record, audited); read by the matching as the
    finance facts `equity_rounds`, `equity_last_round_days` and `equity_stage` (finance_engine.facts), so a loan
    that asks for a round (投贷联动) becomes eligible once one is on file."""

    class Stage(models.TextChoices):
        ANGEL = "angel", _("Angel")
        SEED = "seed", _("Seed")
        PRE_A = "pre_a", _("Pre-A")
        A = "a", _("Series A")
        B = "b", _("Series B")
        C = "c", _("Series C")
        D_PLUS = "d_plus", _("Series D and later")
        PRE_IPO = "pre_ipo", _("Pre-IPO")
        STRATEGIC = "strategic", _("Strategic")

    enterprise = models.ForeignKey("enterprises.Enterprise", models.CASCADE, related_name="equity_rounds",
                                   verbose_name=_("enterprise"))
    closed_on = models.DateField(_("closing date"))
    # Yuan, to the fen.
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    investor = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="equity_rounds",
                                 verbose_name=_("investor"))
    # The lead investor's name when it is not an organisation on the platform.
    investor_name = models.CharField(_("investor name"), max_length=200, blank=True)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    class Meta:
        ordering = ["-closed_on", "-pk"]
        verbose_name = _("equity round")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="equity_round_amount_positive"),
            models.CheckConstraint(condition=Q(investor__isnull=False) | ~Q(investor_name=""),
                                   name="equity_round_names_an_investor"),
        ]
        indexes = [models.Index(fields=["enterprise", "closed_on"], name="equity_round_enterprise")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.stage} {self.closed_on}"
