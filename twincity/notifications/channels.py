"""The extra channels a notification can travel by, besides the inbox: e-mail and SMS, chosen in settings.

settings.NOTIFICATION_CHANNELS names the channels that are switched on ("email", "sms"). Each channel turns a
notification into one message to one address and sends it; a failure it may recover from (a mail server or SMS
gateway that is down) raises `ChannelUnavailable`, and the delivery task tries again with backoff.

- e-mail: Django's e-mail backend (settings.EMAIL_BACKEND and EMAIL_*; tests use the in-memory outbox).
- SMS: the class at settings.NOTIFICATION_SMS_BACKEND, whose `send(phone, text)` sends one text message. The
  default, `DevelopmentSmsBackend`, is for development and tests only: it sends nothing, it writes the message to
  the SmsOutbox table and the log. A deployment that wants SMS sets a class that calls its gateway.
"""

import logging
import re
import smtplib
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from twincity.notifications.models import Channel, Notification, SmsOutbox

logger = logging.getLogger("twincity.notifications")

# A mainland mobile number (11 digits starting 1), optionally with +86.
PHONE_PATTERN = r"^(\+86)?1[3-9]\d{9}$"
_PHONE_RE = re.compile(PHONE_PATTERN)
SMS_SIGNATURE = "【双城平台】"
SMS_MAX_CHARS = 140


class ChannelUnavailable(Exception):  # noqa: N818 — a state, as the delivery record shows it
    """The channel could not take the message now (its server or gateway failed); trying later may work."""


def absolute_link(link: str) -> str:
    """A notification's link as a message outside the platform needs it: with settings.PLATFORM_URL in front."""
    if not link:
        return ""
    base = settings.PLATFORM_URL.rstrip("/")
    return f"{base}{link}" if base else link


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class DevelopmentSmsBackend:
    """DEVELOPMENT ONLY: sends nothing. The text is stored in SmsOutbox and logged, so a developer (and the
    tests) can see what would have been sent."""

    def send(self, phone: str, text: str) -> None:
        SmsOutbox.objects.create(phone=phone, text=text)
        logger.info("development SMS backend: message NOT sent, stored in the outbox",
                    extra={"phone": phone[:3] + "****" + phone[-4:]})


def sms_backend() -> SmsBackend:
    return import_string(settings.NOTIFICATION_SMS_BACKEND)()


def address_is_valid(channel: str, address: str) -> bool:
    if channel == Channel.SMS:
        return bool(_PHONE_RE.fullmatch(address))
    if channel == Channel.EMAIL:
        return bool(re.fullmatch(r"[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+", address))
    return False


def email_send(notification: Notification, address: str) -> None:
    lines = [notification.body] if notification.body else []
    if notification.link:
        lines.append(absolute_link(notification.link))
    lines.append("—— 西部科学城双城服务平台 (twincity)")
    try:
        send_mail(notification.title, "\n\n".join(lines), None, [address])
    except (smtplib.SMTPException, OSError) as exc:  # the server refused or could not be reached
        raise ChannelUnavailable(f"{type(exc).__name__}: {exc}") from exc


def sms_send(notification: Notification, address: str) -> None:
    text = SMS_SIGNATURE + notification.title
    if notification.link:
        text += " " + absolute_link(notification.link)
    try:
        sms_backend().send(address, text[:SMS_MAX_CHARS])
    except (ConnectionError, TimeoutError, OSError) as exc:
        raise ChannelUnavailable(f"{type(exc).__name__}: {exc}") from exc


SENDERS = {Channel.EMAIL: email_send, Channel.SMS: sms_send}


def channels_enabled() -> list[str]:
    """The extra channels switched on in settings, known ones only."""
    return [name for name in settings.NOTIFICATION_CHANNELS if name in SENDERS]
