"""Signed webhooks for institutions: the endpoints an organisation registers and every delivery to them."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import Organisation
from twincity.core.models import TimeStampedModel

ALL_EVENTS = "*"
SECRET_PREFIX = "whsec_"


def secret_new() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class Endpoint(TimeStampedModel):
    """A URL of an institution's own system that receives the events it subscribed to, signed with its secret."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, models.PROTECT, related_name="webhook_endpoints",
                                     verbose_name=_("organisation"))
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # The HMAC key. Kept in clear (it signs every request) and shown only to the organisation's managers.
    secret = models.CharField(max_length=80, default=secret_new, editable=False)
    secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Event names, or ["*"] for every event.
    events = models.JSONField(_("events"), default=list)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["organisation_id", "-created_at", "-id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        indexes = [models.Index(fields=["organisation", "active"], name="webhook_endpoint_org_active")]

    def __str__(self) -> str:
        return self.url

    def subscribes(self, event: str) -> bool:
        return ALL_EVENTS in self.events or event in self.events


class Delivery(models.Model):
    """One event sent to one endpoint: pending until a 2xx answer (delivered) or until the attempts run out
    (failed). Its `public_id` is the X-Twincity-Delivery header; `event_id` identifies the event, the same for
    every endpoint it went to."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(Endpoint, models.PROTECT, related_name="deliveries", verbose_name=_("endpoint"))
    # The organisation the event was emitted for (a branch whose head office's endpoint receives it).
    organisation = models.ForeignKey(Organisation, models.PROTECT, related_name="+", verbose_name=_("organisation"))
    event = models.CharField(_("event"), max_length=64)
    event_id = models.UUIDField(_("event id"))
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status_code = models.PositiveIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    response_excerpt = models.TextField(_("response excerpt"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once_per_endpoint"),
        ]
        indexes = [
            # The delivery log of an endpoint, newest first.
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One HTTP request of a delivery, as it went: what was signed, what came back."""

    delivery = models.ForeignKey(Delivery, models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    timestamp = models.BigIntegerField()  # X-Twincity-Timestamp of this request
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_once"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id}#{self.number}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
