"""Facts about a request that several domains need, decided once."""

from django.conf import settings


def client_address(request) -> str:
    """The client's address. Behind TRUSTED_PROXY_COUNT reverse proxies, the address the outermost trusted
    proxy saw (that many entries from the right of X-Forwarded-For, which each proxy appends to); a client
    cannot forge it by sending its own X-Forwarded-For. Without trusted proxies, REMOTE_ADDR."""
    if request is None:
        return "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or "unknown"
