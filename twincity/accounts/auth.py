"""How API callers prove who they are: a bearer token for machines, the session for the browser."""

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from twincity.accounts.selectors import api_token_user
from twincity.core.errors import Forbidden


class ApiTokenAuth(HttpBearer):
    openapi_description = "An API token issued by a platform administrator: `Authorization: Bearer tc_…`."

    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_user(raw_key=token)
        if user is not None:
            request.user = user
        return user


class BrowserSessionAuth(SessionAuth):
    """The logged-in browser session; unsafe methods need the CSRF token, as for forms."""

    def __call__(self, request: HttpRequest):
        # No session cookie, no session to protect: the caller is unauthenticated (401), and a machine
        # client with a wrong or revoked token must not be told about CSRF (403).
        if self.param_name not in request.COOKIES:
            return None
        try:
            key = self._get_key(request)
        except HttpError as exc:
            raise Forbidden("CSRF校验失败 (CSRF check failed)", code="csrf_failed") from exc
        return self.authenticate(request, key)

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user is not None and not user.is_active:
            return None
        return user
