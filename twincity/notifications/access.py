"""Who sees which notifications: each person their own, and nobody else's (administrators included: an inbox
is personal)."""

from django.db.models import QuerySet

from twincity.accounts.access import is_signed_in
from twincity.notifications.models import ChannelDelivery, Notification


def can_view_own_notifications(user) -> bool:
    """Every signed-in person has an inbox."""
    return is_signed_in(user)


def notifications_visible(user) -> QuerySet[Notification]:
    if not is_signed_in(user):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk)


def deliveries_visible(user) -> QuerySet[ChannelDelivery]:
    if not is_signed_in(user):
        return ChannelDelivery.objects.none()
    return ChannelDelivery.objects.filter(notification__recipient_id=user.pk)
