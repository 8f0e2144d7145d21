"""The caller's own notifications over the API: list, unread count, mark read. Nobody reads another's."""

from datetime import datetime

from ninja import Path, Router, Schema
from ninja.pagination import paginate

from twincity.core.access import require, visible
from twincity.core.api import Pagination, errors
from twincity.notifications import access, selectors, services

router = Router(tags=["notifications 消息通知"])

ID = Path(..., ge=1, le=2**63 - 1)
NO_SUCH_NOTIFICATION = "通知不存在 (no such notification)"


class NotificationOut(Schema):
    id: int
    event: str
    title: str
    body: str
    link: str
    actor: str | None
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return str(obj.actor) if obj.actor_id else None


class UnreadOut(Schema):
    unread: int
    capped_at: int


class MarkedOut(Schema):
    marked: int


@router.get("/", response={200: list[NotificationOut], **errors(401, 422)},
            summary="My notifications, newest first",
            description="`unread=true` lists the unread ones only.")
@paginate(Pagination)
def notification_list_api(request, unread: bool = False):
    return selectors.notification_list(user=request.user, unread_only=unread)


@router.get("/unread-count", response={200: UnreadOut, **errors(401)},
            summary="How many of my notifications are unread (counted up to `capped_at`)")
def unread_count_api(request):
    return {"unread": selectors.unread_count(user=request.user), "capped_at": selectors.UNREAD_COUNT_CAP}


@router.post("/{notification_id}/read", response={200: NotificationOut, **errors(401, 403, 404, 422)},
             summary="Mark one of my notifications read",
             description="Marking a read notification again keeps the time it was first read. Another person's "
                         "notification answers 404.")
def notification_read_api(request, notification_id: int = ID):
    require(access.can_view_own_notifications(request.user))
    notification = visible(selectors.notification_get(user=request.user, notification_id=notification_id),
                           NO_SUCH_NOTIFICATION)
    return services.notification_mark_read(user=request.user, notification=notification)


@router.post("/read-all", response={200: MarkedOut, **errors(401, 403)},
             summary="Mark all my notifications read; how many were unread")
def notification_read_all_api(request):
    require(access.can_view_own_notifications(request.user))
    return {"marked": services.notifications_mark_all_read(user=request.user)}
