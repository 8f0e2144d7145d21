"""The JSON API: one NinjaAPI, one router per domain, one error shape {"message", "code", "extra"}."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from twincity.accounts.auth import ApiTokenAuth, BrowserSessionAuth
from twincity.core.api import DocumentedAPI
from twincity.core.errors import ApplicationError
from twincity.core.middleware import busy_response, database_is_busy

api = DocumentedAPI(
    title="twincity API · 西部科学城双城服务平台",
    version="1",
    description=(
        "Machine clients (a bank's system) send `Authorization: Bearer <token>`; tokens are issued and revoked "
        "by platform administrators. Browsers use their session (with the CSRF header for writes). Every error "
        'answers `{"message": str, "code": str, "extra": object}`. Lists are paginated with `limit` and '
        "`offset` and answer `{\"items\": [...], \"count\": int}`. Money is in 万元 as decimal strings."
    ),
    auth=[ApiTokenAuth(), BrowserSessionAuth()],
    urls_namespace="api",
)

api.add_router("/accounts/", "twincity.accounts.api.router")
api.add_router("/enterprises/", "twincity.enterprises.api.router")
api.add_router("/imports/", "twincity.enterprises.api_imports.router")
api.add_router("/audit/", "twincity.audit.api.router")
api.add_router("/points/", "twincity.points.api.router")
api.add_router("/govservices/", "twincity.govservices.api.router")
api.add_router("/licences/", "twincity.licences.api.router")
api.add_router("/finance/", "twincity.finance.api.router")
api.add_router("/notifications/", "twincity.notifications.api.router")
api.add_router("/webhooks/", "twincity.webhooks.api.router")
api.add_router("/riskpool/", "twincity.riskpool.api.router")
api.add_router("/instruments/", "twincity.instruments.api.router")
api.add_router("/instrument-usage/", "twincity.instruments.api_usage.router")
api.add_router("/vouchers/", "twincity.vouchers.api.router")
api.add_router("/talent/", "twincity.talent.api.router")


def error_response(request, *, message: str, code: str, status: int, extra: dict | None = None):
    return api.create_response(request, {"message": message, "code": code, "extra": extra or {}}, status=status)


def _contains_nul(request) -> bool:
    if "\x00" in request.path:
        return True
    if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
        return True
    if request.content_type != "application/json":  # uploads are binary; their parsers check their text
        return False
    body = request.body
    return b"\x00" in body or b"\\u0000" in body.lower()


def refuse_nul_characters(view):
    """No text column can hold U+0000 (PostgreSQL refuses it): answer 422 rather than fail in the database."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if _contains_nul(request):
            return error_response(request, message="请求含有空字符 (the request contains a NUL character)",
                                  code="invalid", status=422)
        return view(request, *args, **kwargs)

    return wrapper


api.add_decorator(refuse_nul_characters, mode="view")


@api.exception_handler(ApplicationError)
def on_application_error(request, exc: ApplicationError):
    response = error_response(request, message=exc.message, code=exc.code, status=exc.status, extra=exc.extra)
    if exc.status == 503:
        response["Retry-After"] = "2"
    return response


@api.exception_handler(OperationalError)
def on_database_error(request, exc: OperationalError):
    """A lock that timed out is a 503 with Retry-After (also with DEBUG on, where ninja would answer 500)."""
    if database_is_busy(exc):
        return busy_response(request)
    raise exc


@api.exception_handler(NinjaValidationError)
def on_schema_error(request, exc: NinjaValidationError):
    errors = [
        {"loc": [str(part) for part in error.get("loc", [])], "msg": str(error.get("msg", "")),
         "type": str(error.get("type", ""))}
        for error in exc.errors
    ]
    return error_response(request, message="请求数据无效 (invalid request data)", code="invalid", status=422,
                          extra={"errors": errors})


@api.exception_handler(DjangoValidationError)
def on_model_validation_error(request, exc: DjangoValidationError):
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return error_response(request, message="数据校验失败 (validation failed)", code="invalid", status=422,
                          extra={"fields": fields})


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return error_response(request, message="需要登录或有效的API令牌 (authentication required)",
                          code="unauthenticated", status=401)


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return error_response(request, message="无权访问 (forbidden)", code="forbidden", status=403)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(request, message="未找到 (not found)", code="not_found", status=404)


@api.exception_handler(MultiPartParserError)
def on_broken_upload(request, exc: MultiPartParserError):
    """A multipart body that cannot be parsed (no boundary, cut short): 400 in the API's shape, not Django's page."""
    return error_response(request, message="无法解析上传内容 (the upload cannot be parsed)", code="bad_upload",
                          status=400)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return error_response(request, message=str(exc), code="http_error", status=exc.status_code)
