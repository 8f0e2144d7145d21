from typing import TypedDict

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import Organisation
from twincity.core.models import TimeStampedModel
from twincity.enterprises.fields import (
    DEFAULT_CLUSTER,
    FIGURE_NAMES,
    INDUSTRY_CLUSTERS,
    SIZE_CLASSES,
    SOURCES,
)
from twincity.enterprises.validation import DEFAULT_PROVENANCE, DeclarationRow
from twincity.enterprises.validators import validate_credit_code

# Enum's functional API (name, [(member, (value, label))]) builds the choices from the field vocabulary; the
# stubs type TextChoices(...) only as a member lookup, hence the ignores.
IndustryCluster: type[models.TextChoices] = models.TextChoices(  # type: ignore[call-overload]
    "IndustryCluster", [(key.upper(), (key, zh)) for key, (zh, _en) in INDUSTRY_CLUSTERS.items()]
)
SizeClass: type[models.TextChoices] = models.TextChoices(  # type: ignore[call-overload]
    "SizeClass", [(key.upper(), (key, zh)) for key, (zh, _en) in SIZE_CLASSES.items()]
)
FigureSource: type[models.TextChoices] = models.TextChoices(  # type: ignore[call-overload]
    "FigureSource", [(key.upper(), (key, zh)) for key, (zh, _en) in SOURCES.items()]
)


class MoneyFieldOptions(TypedDict):
    max_digits: int
    decimal_places: int
    null: bool
    blank: bool


MONEY: MoneyFieldOptions = {"max_digits": 16, "decimal_places": 4, "null": True, "blank": True}  # 万元, to the yuan


class Enterprise(TimeStampedModel):
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    city = models.CharField(_("city"), max_length=32, db_index=True)
    district = models.CharField(_("district"), max_length=64, blank=True)
    registered_on = models.DateField(_("registration date"), null=True, blank=True)
    industry_cluster = models.CharField(
        _("industry cluster"), max_length=16, choices=IndustryCluster, default=DEFAULT_CLUSTER, db_index=True
    )
    industry_code = models.CharField(_("national industry code"), max_length=8, blank=True)
    size_class = models.CharField(_("size class"), max_length=8, choices=SizeClass, blank=True)
    # Point-in-time facts (facts.md); None means unknown, never False.
    resident = models.BooleanField(_("resident enterprise"), null=True, blank=True)
    prohibited = models.BooleanField(_("prohibited products"), null=True, blank=True)
    compliant = models.BooleanField(_("compliant"), null=True, blank=True)
    is_sme = models.BooleanField(_("SME"), null=True, blank=True)
    # Contact details: the company's own users keep these up to date.
    contact_person = models.CharField(_("contact person"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    contact_email = models.CharField(_("contact email"), max_length=254, blank=True)
    address = models.CharField(_("mailing address"), max_length=200, blank=True)
    # IP inventory summary, counts by class as in facts.md; None means not declared.
    ip_I_self = models.PositiveIntegerField(null=True, blank=True)
    ip_I_acq = models.PositiveIntegerField(null=True, blank=True)
    ip_I_hv = models.PositiveIntegerField(null=True, blank=True)
    ip_II = models.PositiveIntegerField(null=True, blank=True)
    transforms_3y = models.PositiveIntegerField(null=True, blank=True)
    # Honours and market position (facts.md "qualifications and flags" not kept as certificates);
    # None means not declared, which the scoring rules report as needing review.
    sei = models.BooleanField(_("main product in a strategic emerging industry"), null=True, blank=True)
    niche_years = models.PositiveSmallIntegerField(_("years in a niche market"), null=True, blank=True)
    innov_title = models.BooleanField(_("national innovation demonstration / IP advantage title"), null=True,
                                      blank=True)
    nat_award_5y_top3 = models.BooleanField(_("national S&T award in 5 years (top-3 unit)"), null=True, blank=True)
    sci_award_3y = models.BooleanField(_("national or provincial S&T award in 3 years"), null=True, blank=True)
    led_standard_5y = models.BooleanField(_("led a standard in 5 years"), null=True, blank=True)
    maker_top500_3y = models.BooleanField(_("Maker China top 500 in 3 years"), null=True, blank=True)
    # The platform organisation whose enterprise users act for this company, if it has joined.
    organisation = models.OneToOneField(
        Organisation, models.SET_NULL, null=True, blank=True, related_name="enterprise"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        indexes = [
            # The registry list's filters (twincity.enterprises.selectors.enterprise_search) and the home page's
            # counts; name, credit_code and city have their own.
            models.Index(fields=["city", "industry_cluster"], name="enterprise_city_cluster"),
            # The list sorted by registration date, either way, nulls last, as its keyset pages read it: two
            # indexes on PostgreSQL only (migration 0006; SQLite refuses NULLS LAST in an index).
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def industry_cluster_label(self) -> str:
        return INDUSTRY_CLUSTERS.get(self.industry_cluster, ("", ""))[0]


def in_force(valid_from, valid_until, day) -> bool:
    """Whether a certificate is in force on `day`: from its first day to its last (inclusive), open-ended without
    one. The one rule; `QualificationQuerySet.valid_on` is its query form."""
    return valid_from <= day and (valid_until is None or day <= valid_until)


class QualificationQuerySet(models.QuerySet):
    def valid_on(self, day) -> "QualificationQuerySet":
        """The certificates in force on `day` (`in_force` as a query)."""
        return self.filter(models.Q(valid_from__lte=day),
                           models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=day))


class Qualification(TimeStampedModel):
    class Kind(models.TextChoices):
        HNTE = "hnte", _("High-tech enterprise")
        TSME = "tsme", _("Tech-based SME")
        INNOV = "innov", _("Innovative SME")
        SRDI = "srdi", _("Specialised and sophisticated SME")
        LITTLE_GIANT = "little_giant", _("Little giant (national SRDI)")
        PROV_RD_INST = "prov_rd_inst", _("Provincial R&D institution")

    enterprise = models.ForeignKey(Enterprise, models.CASCADE, related_name="qualifications")
    kind = models.CharField(_("qualification"), max_length=16, choices=Kind, db_index=True)
    certificate_no = models.CharField(_("certificate number"), max_length=64)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["kind", "-valid_from"]
        indexes = [
            # The registry list's qualification filter: the enterprises holding a kind, read from the index alone.
            models.Index(fields=["kind", "enterprise"], name="qualification_kind_enterprise"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "kind", "certificate_no"], name="qualification_unique"),
            models.CheckConstraint(
                name="qualification_valid_until_after_from",
                condition=models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=models.F("valid_from")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.certificate_no}"

    objects = QualificationQuerySet.as_manager()

    def is_valid_on(self, day) -> bool:
        return in_force(self.valid_from, self.valid_until, day)


class AnnualDeclaration(TimeStampedModel):
    """One enterprise's figures for one fiscal year. Every figure remembers its source and verification."""

    enterprise = models.ForeignKey(Enterprise, models.CASCADE, related_name="declarations")
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    employees = models.IntegerField(null=True, blank=True)
    tech_staff = models.IntegerField(null=True, blank=True)
    rd_staff = models.IntegerField(null=True, blank=True)
    sales = models.DecimalField(**MONEY)
    oprev = models.DecimalField(**MONEY)
    main = models.DecimalField(**MONEY)
    na = models.DecimalField(**MONEY)
    assets = models.DecimalField(**MONEY)
    liab = models.DecimalField(**MONEY)
    rd = models.DecimalField(**MONEY)
    rd_dom = models.DecimalField(**MONEY)
    cost = models.DecimalField(**MONEY)
    total_income = models.DecimalField(**MONEY)
    hitech_rev = models.DecimalField(**MONEY)
    net_profit = models.DecimalField(**MONEY)
    tax = models.DecimalField(**MONEY)
    equity_new = models.DecimalField(**MONEY)
    tech_contract = models.DecimalField(**MONEY)
    # {figure: {"source": one of FigureSource, "verified": bool}}; a figure without an entry is self-declared.
    provenance = models.JSONField(default=dict, blank=True)
    # Consistency flags from twincity.enterprises.consistency, recomputed on every write.
    flags = models.JSONField(default=list, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["enterprise", "-fiscal_year"]
        verbose_name = _("annual declaration")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "fiscal_year"], name="declaration_one_per_year"),
            models.CheckConstraint(
                name="declaration_fiscal_year_plausible",
                condition=models.Q(fiscal_year__gte=1980, fiscal_year__lte=2100),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.fiscal_year}"

    def figures(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in FIGURE_NAMES}

    def row(self) -> DeclarationRow:
        """What the validation's merge works on (see twincity.enterprises.validation)."""
        return DeclarationRow(self.figures(), dict(self.provenance or {}), list(self.flags or []))

    def set_row(self, row: DeclarationRow) -> None:
        for name, value in row.figures.items():
            setattr(self, name, value)
        self.provenance, self.flags = row.provenance, row.flags

    def source_of(self, figure: str) -> dict[str, object]:
        return self.provenance.get(figure) or dict(DEFAULT_PROVENANCE)


class ImportJob(TimeStampedModel):
    """One upload on the import page: the file, who sent it, how far it got and what came of it.

    The row is the source of truth for the page that polls it (progress of the write phase, which runs inside one
    transaction, is also published to the cache: see imports.jobs.import_job_progress).
    """

    class Kind(models.TextChoices):
        ENTERPRISES = "enterprises", _("Enterprises")
        DECLARATIONS = "declarations", _("Annual declarations")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        REJECTED = "rejected", _("Rejected")

    FINISHED = (Status.DONE, Status.FAILED, Status.REJECTED)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="import_jobs"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    filename = models.CharField(_("file name"), max_length=255)
    # Relative to MEDIA_ROOT, under imports/.
    stored_path = models.CharField(max_length=500)
    dry_run = models.BooleanField(_("preview only"), default=True)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING, db_index=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    # {"created", "updated", "unchanged", "rows", "changes": [...]} when done;
    # {"message", "errors": [first 200], "error_count"} when rejected; {"message"} when failed.
    result = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import job")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED
