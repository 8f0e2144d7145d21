"""How API callers prove who they are: a bearer token for machines, the session for the browser."""

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from twincity.accounts.selectors import api_token_user


class ApiTokenAuth(HttpBearer):
    openapi_description = "An API token issued by a platform administrator: `Authorization: Bearer tc_…`."

    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_user(raw_key=token)
        if user is not None:
            request.user = user
        return user


class BrowserSessionAuth(SessionAuth):
    """The logged-in browser session; unsafe methods need the CSRF token, as for forms."""

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user is not None and not user.is_active:
            return None
        return user
