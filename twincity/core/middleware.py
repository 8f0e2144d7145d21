import json
import logging

from django.db import OperationalError
from django.http import HttpResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
MESSAGES = {
    400: "请求无效 (bad request)",
    403: "无权访问 (forbidden)",
    404: "未找到 (not found)",
    405: "不支持该请求方法 (method not allowed)",
    413: "请求体过大 (request too large)",
}


class ApiErrorShapeMiddleware:
    """Errors that Django or ninja answer before our handlers run (an unknown /api/ path, a method the
    route does not take) still leave the API in the one shape {"message", "code", "extra"}."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            body = {"message": MESSAGES.get(status, "请求失败 (request failed)"), "code": CODES.get(status, "error"),
                    "extra": {}}
            if status == 405 and response.has_header("Allow"):
                body["extra"] = {"allow": [m.strip() for m in response["Allow"].split(",")]}
            shaped = HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                                  content_type="application/json; charset=utf-8")
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response


# How long a client should wait before trying again when the database was too busy to answer.
BUSY_RETRY_AFTER_SECONDS = 2
BUSY_MESSAGE = "系统繁忙，请稍后重试 (the database is busy; try again shortly)"
# PostgreSQL: lock_timeout ran out, a deadlock was broken, a serializable transaction lost a race.
_BUSY_SQLSTATES = {"55P03", "40P01", "40001"}


def database_is_busy(exc: BaseException) -> bool:
    """Whether `exc` says the database was locked or contended past its timeout (try again), rather than broken."""
    if not isinstance(exc, OperationalError):
        return False
    if "locked" in str(exc).lower():  # SQLite: "database is locked", "database table is locked"
        return True
    return getattr(exc.__cause__, "sqlstate", None) in _BUSY_SQLSTATES


def busy_response(request) -> HttpResponse:
    """503 with Retry-After: the API's one error shape under /api/, a page elsewhere."""
    if request.path.startswith("/api/"):
        body = {"message": BUSY_MESSAGE, "code": "unavailable", "extra": {"retry_after": BUSY_RETRY_AFTER_SECONDS}}
        response = HttpResponse(json.dumps(body, ensure_ascii=False), status=503,
                                content_type="application/json; charset=utf-8")
    else:
        response = render(request, "core/busy.html", {"retry_after": BUSY_RETRY_AFTER_SECONDS}, status=503)
    response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response


class DatabaseBusyMiddleware:
    """A lock that still times out (SQLite's busy timeout, PostgreSQL's lock timeout or a deadlock) answers 503
    with Retry-After, never 500: the request can be sent again as it is."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if database_is_busy(exception):
            logger.warning("database busy: %s", exception)
            return busy_response(request)
        return None
