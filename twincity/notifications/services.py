"""Writes of notifications. `notify` is what every domain calls.

    notify(demand.enterprise.organisation, event="finance.demand.claimed", title="您的融资需求已被受理",
           body=f"{bank} 已受理 …", link=demand_url, actor=officer)

It runs inside the caller's transaction: the notifications exist exactly when the change they announce does, and
the e-mail / SMS deliveries are enqueued only when that transaction commits (none when it rolls back).
"""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from twincity.accounts.models import Organisation, User
from twincity.core.audit import audit_record, snapshot
from twincity.core.background import task_enqueue_on_commit, task_live_values
from twincity.core.errors import InvalidInput
from twincity.core.events import EVENT_PATTERN, event_name_valid
from twincity.notifications import access
from twincity.notifications.channels import SENDERS, address_is_valid, channels_enabled
from twincity.notifications.models import Channel, ChannelDelivery, ChannelSubscription, Notification
from twincity.notifications.tasks import channel_delivery_task

logger = logging.getLogger("twincity.notifications")

TITLE_MAX = 200
LINK_MAX = 500

type Recipient = User | Organisation
type Recipients = Recipient | Iterable[Recipient]


def recipients_resolve(recipients: Recipients) -> list[User]:
    """The people `recipients` names, once each, by id: users as they are, organisations as their active
    members (the organisation itself, not its branches). Inactive users get nothing."""
    items: Iterable[Recipient] = [recipients] if isinstance(recipients, (User, Organisation)) else recipients
    users: dict[int, User] = {}
    organisation_ids: set[int] = set()
    for item in items:
        if isinstance(item, User):
            if item.is_active:
                users.setdefault(item.pk, item)
        elif isinstance(item, Organisation):
            organisation_ids.add(item.pk)
        else:
            raise TypeError(f"a notification goes to users or organisations, not {type(item).__name__}")
    if organisation_ids:
        for member in User.objects.filter(organisation_id__in=organisation_ids, is_active=True):
            users.setdefault(member.pk, member)
    return [users[pk] for pk in sorted(users)]


def _link_is_local(link: str) -> bool:
    # A path on this platform only: no scheme, no "//host", no backslashes browsers read as slashes.
    return link.startswith("/") and not link.startswith("//") and "\\" not in link and "\x00" not in link


def notify(recipients: Recipients, *, event: str, title: str, body: str = "", link: str = "",
           actor: User | None = None) -> list[Notification]:
    """Notify `recipients` (a user, an organisation's active members, or an iterable of both; each person once)
    of `event`: one inbox notification each, and one delivery per extra channel each person switched on, sent by
    a task once the caller's transaction commits. Returns the notifications, in recipient id order."""
    if not event_name_valid(event):
        raise InvalidInput("事件名称无效 (invalid event name)", extra={"event": event, "pattern": EVENT_PATTERN})
    title = title.strip()
    if not title:
        raise InvalidInput("通知标题不能为空 (a notification needs a title)")
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1] + "…"
    if link and (len(link) > LINK_MAX or not _link_is_local(link)):
        raise InvalidInput("通知链接须为本平台路径 (the link must be a path on this platform)", extra={"link": link})
    users = recipients_resolve(recipients)
    if not users:
        return []
    now = timezone.now()
    actor = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        notifications = Notification.objects.bulk_create([
            Notification(recipient=user, event=event, title=title, body=body, link=link, actor=actor, created_at=now)
            for user in users
        ])
        deliveries = _deliveries_create(notifications)
    for delivery in deliveries:
        task_enqueue_on_commit(channel_delivery_task, delivery_id=delivery.pk)
    return notifications


def _deliveries_create(notifications: list[Notification]) -> list[ChannelDelivery]:
    channels = channels_enabled()
    if not channels:
        return []
    by_user = {n.recipient_id: n for n in notifications}
    subscriptions = ChannelSubscription.objects.filter(user_id__in=by_user, channel__in=channels, active=True)
    deliveries = []
    for subscription in subscriptions.order_by("user_id", "channel"):
        notification = by_user[subscription.user_id]
        address = subscription.address or (notification.recipient.email if subscription.channel == Channel.EMAIL
                                           else "")
        if address:
            deliveries.append(ChannelDelivery(notification=notification, channel=subscription.channel,
                                              address=address))
    return ChannelDelivery.objects.bulk_create(deliveries)


# --- reading --------------------------------------------------------------------------------------------------


def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one of the person's notifications read (a read one keeps the time it was first read)."""
    if notification.recipient_id != user.pk:
        raise InvalidInput("只能标记自己的通知 (only your own notifications)")
    if notification.read_at is None:
        now = timezone.now()
        if Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now):
            notification.read_at = now
        else:
            notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the person read; how many were."""
    return access.notifications_visible(user).filter(read_at__isnull=True).update(read_at=timezone.now())


# --- channels -------------------------------------------------------------------------------------------------


@transaction.atomic
def channel_subscription_set(*, user: User, channel: str, active: bool, address: str = "") -> ChannelSubscription:
    """Switch an extra channel on or off for the person, at `address` (e-mail: empty means the account's
    address; SMS: a mainland mobile number)."""
    if channel not in SENDERS:
        raise InvalidInput("未知的通知渠道 (unknown channel)", extra={"channel": channel})
    address = address.strip().replace(" ", "")
    if active:
        effective = address or (user.email if channel == Channel.EMAIL else "")
        if not effective:
            raise InvalidInput("请填写接收地址 (an address is needed)", extra={"channel": channel})
        if not address_is_valid(channel, effective):
            raise InvalidInput("接收地址格式无效 (the address is not valid)", extra={"channel": channel})
    subscription = ChannelSubscription.objects.select_for_update().filter(user=user, channel=channel).first()
    before = snapshot(subscription, ["channel", "address", "active"]) if subscription else None
    if subscription is None:
        subscription = ChannelSubscription(user=user, channel=channel, address=address, active=active)
        if not active:
            return subscription  # off, and never was: nothing to store
    elif (subscription.address, subscription.active) == (address, active):
        return subscription
    subscription.address, subscription.active = address, active
    subscription.save()
    audit_record(actor=user, action="update" if before else "create", instance=subscription, before=before,
                 after=snapshot(subscription, ["channel", "address", "active"]), subject=user)
    return subscription


def deliveries_interrupted_recover(started_before) -> int:
    """The recovery sweep (twincity.core.recovery): a pending channel delivery last touched before `started_before`
    whose task is neither queued nor running was lost: fail it with the reason. Backends that cannot tell are left
    alone."""
    live = task_live_values(channel_delivery_task, "delivery_id")
    if live is None:
        return 0
    lost = ChannelDelivery.objects.filter(status=ChannelDelivery.Status.PENDING,
                                          updated_at__lt=started_before).exclude(pk__in=live)
    return lost.update(status=ChannelDelivery.Status.FAILED, updated_at=timezone.now(),
                       last_error="interrupted: its task was lost")
