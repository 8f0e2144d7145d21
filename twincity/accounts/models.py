import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from twincity.core.models import TimeStampedModel


class City(models.TextChoices):
    CHONGQING = "chongqing", _("Chongqing")
    CHENGDU = "chengdu", _("Chengdu")


class Organisation(TimeStampedModel):
    """Anyone who acts on the platform acts for an organisation: a company, a bank branch, an office."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("Enterprise")
        BANK = "bank", _("Bank")
        GUARANTOR = "guarantor", _("Guarantor")
        FUND = "fund", _("Investment fund")
        INSTITUTE = "institute", _("Research institute / university")
        GOVERNMENT = "government", _("Government office")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, db_index=True)
    city = models.CharField(_("city"), max_length=32, choices=City, blank=True)
    # A bank branch points at its bank head organisation; a bank's data is shared along this tree only.
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="branches", verbose_name=_("parent")
    )

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="organisation_unique_kind_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def root(self) -> "Organisation":
        if self.parent_id and self.parent is not None:  # branches are one level deep
            return self.parent
        return self

    @property
    def root_id(self) -> int:
        return self.parent_id or self.pk


# The organisations that lend, guarantee or invest: their officers publish products and run webhooks.
INSTITUTION_KINDS = (Organisation.Kind.BANK, Organisation.Kind.GUARANTOR, Organisation.Kind.FUND)


class User(AbstractUser):
    class Role(models.TextChoices):
        NONE = "", _("No role")
        ENTERPRISE_USER = "enterprise_user", _("Enterprise user")
        BANK_OFFICER = "bank_officer", _("Bank officer")
        GUARANTEE_OFFICER = "guarantee_officer", _("Guarantee officer")
        FUND_MANAGER = "fund_manager", _("Fund manager")
        INSTRUMENT_OWNER = "instrument_owner", _("Instrument owner")
        CLERK = "clerk", _("Service clerk")
        ADMINISTRATOR = "administrator", _("Administrator")

    organisation = models.ForeignKey(
        Organisation, models.PROTECT, null=True, blank=True, related_name="members", verbose_name=_("organisation")
    )
    role = models.CharField(_("role"), max_length=24, choices=Role, blank=True, default="")
    display_name = models.CharField(_("display name"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_platform_admin(self) -> bool:
        return self.is_active and (self.is_superuser or self.role == self.Role.ADMINISTRATOR)


def _token_digest(raw: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(TimeStampedModel):
    """A machine client's credential (a bank's system). Only the hash is stored; the key is shown once."""

    PREFIX = "tc_"

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(User, models.CASCADE, related_name="api_tokens", verbose_name=_("acts as"))
    created_by = models.ForeignKey(User, models.SET_NULL, null=True, related_name="+")
    key_prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def new_key(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def digest(raw: str) -> str:
        return _token_digest(raw)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def mark_used(self) -> None:
        now = timezone.now()
        # Write at most once a minute per token so busy clients do not turn every read into a write.
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
