"""In-app notifications (one row per recipient) and their deliveries over the extra channels (e-mail, SMS)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A message to one person, shown in their inbox (消息通知) until they read it."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications",
                                  verbose_name=_("recipient"))
    # What happened, as a dotted name the domain chooses ("finance.demand.claimed"); for filters and channels.
    event = models.CharField(_("event"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    # A path on the platform ("/finance/demands/…"): where the notification leads.
    link = models.CharField(_("link"), max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("actor"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The inbox, newest first (keyset pages).
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox"),
            # The unread badge in the navigation bar on every page, and "mark all read".
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class ChannelSubscription(models.Model):
    """A person's wish to get their notifications over an extra channel too, at an address (an e-mail address;
    a mobile number). No row, no extra channel: the inbox is always there."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notification_channels")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    # Empty for e-mail: the account's e-mail address.
    address = models.CharField(_("address"), max_length=254, blank=True)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification channel")
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="notification_channel_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.channel}"


class ChannelDelivery(models.Model):
    """One notification sent (or being sent) over one extra channel, by a task with retries."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    notification = models.ForeignKey(Notification, models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    address = models.CharField(_("address"), max_length=254)
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("channel delivery")
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="notification_delivery_once_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.address} ({self.status})"


class SmsOutbox(models.Model):
    """What the DEVELOPMENT SMS backend (twincity.notifications.channels.DevelopmentSmsBackend) "sends": nothing
    leaves the platform; the message is stored here and logged. Production configures a real gateway."""

    phone = models.CharField(max_length=32)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("SMS outbox (development)")

    def __str__(self) -> str:
        return f"{self.phone}: {self.text[:30]}"
