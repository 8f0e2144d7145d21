"""How webhook requests are signed, and how a receiver checks them. Pure Python (no Django): a bank may copy this
file as it is. See docs/webhooks.md.

Each request carries

    X-Twincity-Timestamp: 1764417600            (Unix seconds when this attempt was signed)
    X-Twincity-Signature: v1=<hex>              (HMAC-SHA256 of f"{timestamp}.{body}" under the endpoint's secret)

where body is the request body exactly as received (UTF-8 JSON). Every attempt is signed anew, with its own
timestamp, so a retry is as valid as the first try; a receiver refuses a timestamp too far from its clock
(`tolerance`), which stops an old request from being replayed.
"""

import hashlib
import hmac
import time

SIGNATURE_VERSION = "v1"


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def signature_compute(secret: str, timestamp: int | str, body: str | bytes) -> str:
    """The hex HMAC-SHA256 of f"{timestamp}.{body}" under `secret`."""
    message = _bytes(str(timestamp)) + b"." + _bytes(body)
    return hmac.new(_bytes(secret), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int | str, body: str | bytes) -> str:
    """The X-Twincity-Signature header's value: "v1=<hex>"."""
    return f"{SIGNATURE_VERSION}={signature_compute(secret, timestamp, body)}"


def signature_verify(secret: str, timestamp: int | str, body: str | bytes, header: str, tolerance: int = 300,
                     *, now: float | None = None) -> bool:
    """Whether a received request is genuine: `header` (X-Twincity-Signature; several "v1=…" entries separated by
    commas are accepted, any one may match) signs `timestamp` (X-Twincity-Timestamp) and `body` (the raw body)
    under `secret`, and the timestamp is within `tolerance` seconds of `now` (default: this machine's clock)."""
    try:
        signed_at = int(str(timestamp).strip())
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - signed_at) > tolerance:
        return False
    expected = signature_compute(secret, signed_at, body)
    for part in header.split(","):
        version, _, value = part.strip().partition("=")
        if version == SIGNATURE_VERSION and hmac.compare_digest(value.strip().lower(), expected):
            return True
    return False
