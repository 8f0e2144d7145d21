"""notify(): who gets a notification (each person once), what is stored, which channel deliveries are enqueued
and only after the commit, and how the channels send with retries."""

import pytest
from django.core import mail
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from twincity.accounts.models import User
from twincity.core.errors import InvalidInput
from twincity.notifications import selectors
from twincity.notifications.models import ChannelDelivery, ChannelSubscription, Notification, SmsOutbox
from twincity.notifications.sending import channel_delivery_attempt
from twincity.notifications.services import (
    channel_subscription_set,
    notification_mark_read,
    notifications_mark_all_read,
    notify,
    recipients_resolve,
)
from twincity.notifications.tasks import channel_delivery_task

pytestmark = pytest.mark.django_db


def _queued() -> list[int]:
    return sorted(row.args_kwargs["kwargs"]["delivery_id"]
                  for row in DBTaskResult.objects.filter(task_path=channel_delivery_task.module_path))


def test_it_notifies_one_user(cast):
    [n] = notify(cast.alice, event="finance.demand.claimed", title="您的融资需求已被受理", body="科学城支行已受理",
                 link="/finance/demands/1", actor=cast.bella)
    assert Notification.objects.get() == n
    assert (n.recipient, n.event, n.title, n.body, n.link, n.actor, n.read_at) == (
        cast.alice, "finance.demand.claimed", "您的融资需求已被受理", "科学城支行已受理", "/finance/demands/1",
        cast.bella, None)
    assert n.created_at is not None
    assert not ChannelDelivery.objects.exists()  # alice switched on no extra channel


def test_an_organisation_means_its_active_members_only(cast):
    colleague = User.objects.create_user("alice2", organisation=cast.alice_org, role="enterprise_user")
    User.objects.create_user("gone", organisation=cast.alice_org, role="enterprise_user", is_active=False)
    rows = notify(cast.alice_org, event="points.result.ready", title="积分结果已发布")
    assert [n.recipient for n in rows] == [cast.alice, colleague]
    # a branch's notification does not go to its head office, nor the other way round
    assert notify(cast.bank_a, event="x.y", title="t") == []


def test_recipients_are_deduplicated_across_users_and_organisations(cast):
    rows = notify([cast.alice, cast.alice_org, cast.alice, [cast.bella][0], cast.bank_a_branch],
                  event="finance.demand.published", title="新的融资需求")
    assert sorted(n.recipient.username for n in rows) == ["alice", "bella"]
    assert Notification.objects.count() == 2
    assert recipients_resolve(cast.alice) == [cast.alice]


def test_inactive_users_and_nobody_get_nothing(cast):
    cast.bob.is_active = False
    cast.bob.save()
    assert notify(cast.bob, event="a.b", title="t") == []
    assert notify([], event="a.b", title="t") == []
    assert not Notification.objects.exists()


@pytest.mark.parametrize("kwargs", [
    {"event": "Not An Event", "title": "t"},
    {"event": "a.b", "title": "   "},
    {"event": "a.b", "title": "t", "link": "https://evil.example/"},
    {"event": "a.b", "title": "t", "link": "//evil.example/"},
    {"event": "a.b", "title": "t", "link": "javascript:alert(1)"},
])
def test_it_refuses_bad_input_and_writes_nothing(cast, kwargs):
    with pytest.raises(InvalidInput):
        notify(cast.alice, **kwargs)
    assert not Notification.objects.exists()


def test_a_long_title_is_shortened_with_an_ellipsis(cast):
    [n] = notify(cast.alice, event="a.b", title="长" * 300)
    assert len(n.title) == 200 and n.title.endswith("…")


def test_it_refuses_what_is_not_a_person_or_an_organisation(cast):
    with pytest.raises(TypeError):
        notify(["alice"], event="a.b", title="t")


def test_channel_deliveries_are_enqueued_on_commit_one_per_channel(cast, django_capture_on_commit_callbacks):
    cast.alice.email = "alice@jinfeng.example"
    cast.alice.save()
    channel_subscription_set(user=cast.alice, channel="email", active=True)
    channel_subscription_set(user=cast.alice, channel="sms", active=True, address="13800138000")
    channel_subscription_set(user=cast.bob, channel="sms", active=False, address="13900139000")
    with django_capture_on_commit_callbacks(execute=True):
        rows = notify([cast.alice, cast.bob], event="a.b", title="t")
    deliveries = ChannelDelivery.objects.order_by("channel")
    assert [(d.notification, d.channel, d.address, d.status, d.attempts) for d in deliveries] == [
        (rows[0], "email", "alice@jinfeng.example", "pending", 0),
        (rows[0], "sms", "13800138000", "pending", 0),
    ]  # bob's SMS is off
    assert _queued() == sorted(d.pk for d in deliveries)


def test_a_rolled_back_transaction_leaves_no_notification_and_enqueues_nothing(cast):
    channel_subscription_set(user=cast.alice, channel="sms", active=True, address="13800138000")
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(cast.alice, event="a.b", title="t")
        raise RuntimeError("the caller's change failed")
    assert not Notification.objects.exists()
    assert not ChannelDelivery.objects.exists()
    assert _queued() == []


def test_channels_switched_off_in_settings_get_no_delivery(cast, settings):
    settings.NOTIFICATION_CHANNELS = ["email"]
    channel_subscription_set(user=cast.alice, channel="sms", active=True, address="13800138000")
    notify(cast.alice, event="a.b", title="t")
    assert not ChannelDelivery.objects.exists()


def test_the_email_channel_sends_through_djangos_backend(cast, settings):
    settings.PLATFORM_URL = "https://twincity.example"
    channel_subscription_set(user=cast.alice, channel="email", active=True, address="a@x.example")
    notify(cast.alice, event="a.b", title="审批通过", body="贷款已审批", link="/finance/x")
    delivery = ChannelDelivery.objects.get()
    assert channel_delivery_attempt(delivery_id=delivery.pk, last_attempt=False) == "sent"
    [message] = mail.outbox
    assert (message.subject, message.to) == ("审批通过", ["a@x.example"])
    assert "贷款已审批" in message.body and "https://twincity.example/finance/x" in message.body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    assert delivery.sent_at is not None
    # sent once: running the task again sends nothing more
    assert channel_delivery_attempt(delivery_id=delivery.pk, last_attempt=False) == "sent"
    assert len(mail.outbox) == 1


def test_the_development_sms_backend_stores_the_text_and_sends_nothing(cast):
    channel_subscription_set(user=cast.alice, channel="sms", active=True, address="+8613800138000")
    notify(cast.alice, event="a.b", title="您的融资需求已被受理")
    delivery = ChannelDelivery.objects.get()
    assert channel_delivery_attempt(delivery_id=delivery.pk, last_attempt=False) == "sent"
    assert list(SmsOutbox.objects.values_list("phone", "text")) == [("+8613800138000", "【双城平台】您的融资需求已被受理")]


class BrokenGateway:
    def send(self, phone: str, text: str) -> None:
        raise ConnectionError("gateway down")


def test_an_unavailable_channel_is_retried_then_failed_with_the_reason(cast, settings):
    from twincity.notifications.channels import ChannelUnavailable

    settings.NOTIFICATION_SMS_BACKEND = f"{__name__}.BrokenGateway"
    channel_subscription_set(user=cast.alice, channel="sms", active=True, address="13800138000")
    notify(cast.alice, event="a.b", title="t")
    delivery = ChannelDelivery.objects.get()
    with pytest.raises(ChannelUnavailable):
        channel_delivery_attempt(delivery_id=delivery.pk, last_attempt=False)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "ConnectionError: gateway down")
    assert channel_delivery_attempt(delivery_id=delivery.pk, last_attempt=True) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert not SmsOutbox.objects.exists()


@pytest.mark.parametrize(("channel", "address"), [("sms", "12345"), ("email", "not-an-address"), ("fax", "1")])
def test_a_channel_needs_a_valid_address(cast, channel, address):
    with pytest.raises(InvalidInput):
        channel_subscription_set(user=cast.alice, channel=channel, active=True, address=address)
    assert not ChannelSubscription.objects.exists()


def test_email_without_an_address_on_the_account_is_refused(cast):
    with pytest.raises(InvalidInput):
        channel_subscription_set(user=cast.alice, channel="email", active=True)


# --- reading ---------------------------------------------------------------------------------------------------


def test_unread_counts_follow_reads(cast):
    first, = notify(cast.alice, event="a.b", title="1")
    notify([cast.alice, cast.bob], event="a.b", title="2")
    assert selectors.unread_count(user=cast.alice) == 2
    assert selectors.unread_count(user=cast.bob) == 1
    notification_mark_read(user=cast.alice, notification=first)
    read_at = first.read_at
    assert read_at is not None
    assert selectors.unread_count(user=cast.alice) == 1
    notification_mark_read(user=cast.alice, notification=first)  # again: keeps the first read time
    first.refresh_from_db()
    assert first.read_at == read_at
    assert notifications_mark_all_read(user=cast.alice) == 1
    assert selectors.unread_count(user=cast.alice) == 0
    assert selectors.unread_count(user=cast.bob) == 1  # bob's are his own


def test_unread_count_is_capped(cast):
    for _ in range(3):
        notify(cast.alice, event="a.b", title="t")
    assert selectors.unread_count(user=cast.alice, cap=2) == 2


def test_nobody_marks_another_persons_notification(cast):
    [n] = notify(cast.alice, event="a.b", title="t")
    with pytest.raises(InvalidInput):
        notification_mark_read(user=cast.bob, notification=n)
    n.refresh_from_db()
    assert n.read_at is None
    assert notifications_mark_all_read(user=cast.bob) == 0
