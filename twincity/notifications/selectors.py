"""Reads of notifications. Who sees what is decided in `access`."""

from django.db.models import QuerySet

from twincity.notifications import access
from twincity.notifications.models import ChannelSubscription, Notification

# The badge shows "99+" beyond this: counting stops there, so the query costs the same for a flooded inbox.
UNREAD_COUNT_CAP = 100


def notification_list(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    rows = access.notifications_visible(user).select_related("actor")
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-id")


def notification_get(*, user, notification_id: int) -> Notification | None:
    return access.notifications_visible(user).filter(pk=notification_id).first()


def unread_count(*, user, cap: int = UNREAD_COUNT_CAP) -> int:
    """The person's unread notifications, counted up to `cap` (one query on the partial index
    `notification_unread`)."""
    if not access.can_view_own_notifications(user):
        return 0
    return access.notifications_visible(user).filter(read_at__isnull=True)[:cap].count()


def channel_subscriptions(*, user) -> dict[str, ChannelSubscription]:
    """The person's extra channels by name."""
    if not access.can_view_own_notifications(user):
        return {}
    return {row.channel: row for row in ChannelSubscription.objects.filter(user_id=user.pk)}
