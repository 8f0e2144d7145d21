"""The inbox (消息通知): every signed-in person's notifications, marking them read, and the extra channels."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from twincity.core.access import require, visible
from twincity.core.errors import InvalidInput
from twincity.core.keyset import numbered_page
from twincity.notifications import access, selectors, services
from twincity.notifications.channels import PHONE_PATTERN
from twincity.notifications.models import Channel

PAGE_SIZE = 25


def _inbox_context(request) -> dict:
    unread_only = request.GET.get("unread") == "1"
    rows = selectors.notification_list(user=request.user, unread_only=unread_only)
    page = numbered_page(rows, ["-created_at", "-id"], request.GET, size=PAGE_SIZE, count=rows.count())
    return {
        "page": page,
        "unread_only": unread_only,
        "channels": selectors.channel_subscriptions(user=request.user),
        "phone_pattern": PHONE_PATTERN[1:-1],
    }


@login_required
@require_GET
def inbox_view(request):
    require(access.can_view_own_notifications(request.user))
    return render(request, "notifications/inbox.html", _inbox_context(request))


def _own(request, notification_id: int):
    require(access.can_view_own_notifications(request.user))
    return visible(selectors.notification_get(user=request.user, notification_id=notification_id))


@login_required
@require_POST
def notification_open_view(request, notification_id: int):
    """Mark read and go where the notification leads (the inbox when it leads nowhere)."""
    notification = services.notification_mark_read(user=request.user, notification=_own(request, notification_id))
    return redirect(notification.link or "notifications:inbox")


@login_required
@require_POST
def notification_read_view(request, notification_id: int):
    notification = services.notification_mark_read(user=request.user, notification=_own(request, notification_id))
    if request.headers.get("HX-Request"):  # the row, and the top bar's badge out of band
        row = render_to_string("notifications/inbox.html#notification-row", {"notification": notification}, request)
        badge = render_to_string("notifications/_badge.html", {"oob": True}, request)
        return HttpResponse(row + badge)
    return redirect("notifications:inbox")


@login_required
@require_POST
def read_all_view(request):
    require(access.can_view_own_notifications(request.user))
    marked = services.notifications_mark_all_read(user=request.user)
    messages.success(request, _("%(count)d notifications marked read.") % {"count": marked})
    return redirect("notifications:inbox")


@login_required
@require_POST
def channels_view(request):
    require(access.can_view_own_notifications(request.user))
    try:
        with transaction.atomic():  # both channels or neither
            for channel in Channel.values:
                services.channel_subscription_set(
                    user=request.user, channel=channel, active=request.POST.get(f"{channel}_active") == "on",
                    address=request.POST.get(f"{channel}_address", ""),
                )
    except InvalidInput as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Notification channels saved."))
    return redirect("notifications:inbox")
