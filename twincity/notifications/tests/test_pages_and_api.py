"""The inbox page, the unread badge on every page, and the API: each person's own notifications only, with a
fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from twincity.accounts.models import ApiToken
from twincity.notifications.models import ChannelSubscription, Notification
from twincity.notifications.services import notify

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_inbox_lists_my_notifications_newest_first(client, cast):
    notify(cast.alice, event="a.b", title="第一条")
    notify(cast.alice, event="a.b", title="第二条", link="/finance/")
    notify(cast.bob, event="a.b", title="鲍勃的")
    client.force_login(cast.alice)
    response = client.get("/notifications/")
    assert [n.title for n in response.context["page"].object_list] == ["第二条", "第一条"]
    html = response.content.decode()
    assert "鲍勃的" not in html
    assert 'id="unread-badge">2<' in html


def test_the_inbox_and_the_badge_cost_a_fixed_number_of_queries(client, cast):
    client.force_login(cast.alice)
    notify(cast.alice, event="a.b", title="t", actor=cast.bella)
    few = _queries(client, "/notifications/")
    for _ in range(40):
        notify(cast.alice, event="a.b", title="t", actor=cast.bella)
    assert _queries(client, "/notifications/") == few <= 8
    # the badge on any other page is one query
    home_without_badge = _queries(client, "/")
    assert 'id="unread-badge">41<' in client.get("/").content.decode()
    assert home_without_badge <= 12


def test_the_badge_says_99_plus_beyond_the_cap(client, cast):
    Notification.objects.bulk_create([Notification(recipient=cast.alice, event="a.b", title="t") for _ in range(120)])
    client.force_login(cast.alice)
    assert 'id="unread-badge">99+<' in client.get("/notifications/").content.decode()


def test_no_badge_without_unread_notifications_and_none_for_visitors(client, cast):
    assert 'id="unread-badge"' not in client.get("/").content.decode()
    client.force_login(cast.alice)
    assert 'id="unread-badge"' not in client.get("/").content.decode()


def test_mark_read_with_htmx_returns_the_row(client, cast):
    [n] = notify(cast.alice, event="a.b", title="待读")
    client.force_login(cast.alice)
    response = client.post(f"/notifications/{n.pk}/read", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    row, badge = html.strip().split("</tr>")
    assert row.startswith(f'<tr id="notification-{n.pk}"') and "unread" not in row
    assert badge.strip() == '<span id="unread-badge-slot" hx-swap-oob="true"></span>'  # no unread left
    n.refresh_from_db()
    assert n.read_at is not None


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, cast):
    [n] = notify(cast.alice, event="a.b", title="t", link="/finance/")
    client.force_login(cast.alice)
    response = client.post(f"/notifications/{n.pk}/open")
    assert (response.status_code, response["Location"]) == (302, "/finance/")
    n.refresh_from_db()
    assert n.read_at is not None


def test_nobody_opens_or_marks_another_persons_notification(client, cast):
    [n] = notify(cast.alice, event="a.b", title="t")
    client.force_login(cast.bob)
    assert client.post(f"/notifications/{n.pk}/read").status_code == 404
    assert client.post(f"/notifications/{n.pk}/open").status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_mark_all_read(client, cast):
    notify(cast.alice, event="a.b", title="1")
    notify([cast.alice, cast.bob], event="a.b", title="2")
    client.force_login(cast.alice)
    assert client.post("/notifications/read-all").status_code == 302
    assert not Notification.objects.filter(recipient=cast.alice, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=cast.bob, read_at__isnull=True).count() == 1


def test_visitors_are_sent_to_log_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_channels_are_saved_both_or_neither(client, cast):
    client.force_login(cast.alice)
    client.post("/notifications/channels", {"sms_active": "on", "sms_address": "13800138000",
                                            "email_active": "on", "email_address": "a@x.example"})
    assert sorted(ChannelSubscription.objects.filter(active=True).values_list("channel", "address")) == [
        ("email", "a@x.example"), ("sms", "13800138000")]
    response = client.post("/notifications/channels", {"sms_active": "on", "sms_address": "123",
                                                       "email_active": ""}, follow=True)
    assert "接收地址格式无效" in response.content.decode()
    assert ChannelSubscription.objects.get(channel="email").active  # unchanged: the SMS address was refused


# --- API -------------------------------------------------------------------------------------------------------


def _token(user) -> dict:
    raw = ApiToken.new_key()
    ApiToken.objects.create(name="t", user=user, key_prefix=raw[:8], key_hash=ApiToken.digest(raw))
    return {"Authorization": f"Bearer {raw}"}


def test_the_api_lists_and_marks_my_own(client, cast):
    first, = notify(cast.alice, event="finance.demand.claimed", title="已受理", actor=cast.bella)
    notify(cast.alice, event="a.b", title="2")
    [bobs] = notify(cast.bob, event="a.b", title="bob")
    auth = _token(cast.alice)
    body = client.get("/api/notifications/", headers=auth).json()
    assert body["count"] == 2
    assert [item["title"] for item in body["items"]] == ["2", "已受理"]
    assert body["items"][1] | {"created_at": None} == {
        "id": first.pk, "event": "finance.demand.claimed", "title": "已受理", "body": "", "link": "",
        "actor": "Bella 贝拉", "created_at": None, "read_at": None}
    assert client.get("/api/notifications/unread-count", headers=auth).json() == {"unread": 2, "capped_at": 100}

    response = client.post(f"/api/notifications/{first.pk}/read", headers=auth)
    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert client.get("/api/notifications/?unread=true", headers=auth).json()["count"] == 1
    assert client.post(f"/api/notifications/{bobs.pk}/read", headers=auth).json()["code"] == "not_found"
    assert client.post("/api/notifications/read-all", headers=auth).json() == {"marked": 1}
    assert client.get("/api/notifications/unread-count", headers=auth).json()["unread"] == 0
    bobs.refresh_from_db()
    assert bobs.read_at is None


def test_the_api_needs_a_caller(client):
    response = client.get("/api/notifications/")
    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")
