from django.utils.functional import SimpleLazyObject

from twincity.notifications.selectors import UNREAD_COUNT_CAP, unread_count


def _badge(user) -> str:
    count = unread_count(user=user)
    if not count:
        return ""
    return f"{UNREAD_COUNT_CAP - 1}+" if count >= UNREAD_COUNT_CAP else str(count)


def unread_notifications(request):
    """The unread badge of the navigation bar ("", "3", "99+"): one capped count on a partial index, run only when
    a page shows it (anonymous visitors: none)."""
    user = getattr(request, "user", None)
    return {"unread_badge": SimpleLazyObject(lambda: _badge(user))}
