"""How every interface turns an access decision into an answer.

The decisions themselves are predicates in each domain's `access` module (`can_view_enterprise(user, e)`,
`can_manage_runs(user)`, …). Views, API handlers and services call those, and these two helpers, so the
answer is the same everywhere:

* an object named in the request that the person may not see → 404 (`NotFound`);
* an action the person may not take, on something they may see → 403 (`Forbidden`).

`NotFound` and `Forbidden` are Django's `Http404` and `PermissionDenied` too, so a page that raises them
gets Django's 404/403 page and the API answers the one error shape.
"""

from collections.abc import Callable
from typing import Any

from twincity.core.errors import Forbidden, NotFound

FORBIDDEN = "无权执行此操作 (you may not do this)"
NOT_FOUND = "未找到 (not found)"


def require(allowed: bool, message: str = FORBIDDEN) -> None:
    """403 unless the predicate allowed it."""
    if not allowed:
        raise Forbidden(message)


def visible[T](obj: T | None, message: str = NOT_FOUND) -> T:
    """The object, or 404 when there is none the person may see."""
    if obj is None:
        raise NotFound(message)
    return obj


def visible_to[T](user: Any, obj: T | None, may_see: Callable[[Any, T], bool], message: str = NOT_FOUND) -> T:
    """The object if `may_see(user, obj)`; 404 when there is none or the predicate hides it, so naming something
    you may not see answers exactly as naming something that does not exist. Each domain's `<thing>_for(user,
    key)` getter calls this once, and its pages and its API both call that getter."""
    if obj is None or not may_see(user, obj):
        raise NotFound(message)
    return obj
