"""Request ids, structured logs and request metrics: what an operator reads when something goes wrong.

Every request carries an id: the client's `X-Request-ID` when it sends a sane one, else a new one. It is answered
in the `X-Request-ID` header, attached to every log line written while the request is handled (RequestIdFilter),
and a task run by a worker logs under its task id the same way (`log_context`). Log lines are JSON objects
(JsonFormatter) or key=value pairs (KeyValueFormatter); settings.LOGGING picks one by LOG_FORMAT.

Request counts and latencies by view and status are Prometheus metrics, answered with the task queue's figures at
`/metrics` (twincity.core.metrics).
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from prometheus_client import Counter, Histogram

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is kept only if it is short and plain (it ends up in logs and headers).
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

_request_id: ContextVar[str] = ContextVar("request_id", default="-")

requests_logger = logging.getLogger("twincity.requests")

HTTP_REQUESTS = Counter(
    "twincity_http_requests_total", "HTTP requests answered, by view, method and status.",
    ["view", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "twincity_http_request_duration_seconds", "Time to answer an HTTP request, by view.", ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def current_request_id() -> str:
    return _request_id.get()


@contextmanager
def log_context(request_id: str) -> Iterator[None]:
    """Log lines written inside the block carry `request_id` (a task's id in a worker)."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"  # 404s of unknown paths: one label, not one per path
    return match.view_name or match._func_path


class RequestObservabilityMiddleware:
    """The outermost middleware: gives the request its id, times it, counts it and logs one line for it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SANE_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        started = time.perf_counter()
        # Set, not reset at the end: Django logs a failed response ("django.request") after the middleware
        # has returned, and that line belongs to this request too. The next request sets its own.
        _request_id.set(request_id)
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        view = _view_name(request)
        HTTP_REQUESTS.labels(view=view, method=request.method, status=str(response.status_code)).inc()
        HTTP_LATENCY.labels(view=view).observe(elapsed)
        requests_logger.info(
            "request", extra={"method": request.method, "path": request.path, "view": view,
                              "status": response.status_code, "duration_ms": round(elapsed * 1000, 1)},
        )
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (settings.LOGGING attaches it to the console handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request = getattr(record, "request", None)  # django.request's lines name their request
            record.request_id = getattr(request, "request_id", None) or _request_id.get()
        return True


# The attributes every LogRecord has; anything else on a record was passed in `extra=` and is logged as a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "request_id"}


def _fields(record: logging.LogRecord) -> dict[str, object]:
    fields: dict[str, object] = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "request_id": getattr(record, "request_id", _request_id.get()),
        "message": record.getMessage(),
    }
    for key, value in record.__dict__.items():
        if key not in _STANDARD and key != "request" and not key.startswith("_"):
            fields[key] = value
    if record.exc_info:
        fields["exception"] = logging.Formatter().formatException(record.exc_info)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record), ensure_ascii=False, default=str)


class KeyValueFormatter(logging.Formatter):
    """`key=value` pairs, values with spaces quoted: easy to read in a terminal, easy to grep."""

    def format(self, record: logging.LogRecord) -> str:
        parts = []
        for key, value in _fields(record).items():
            text = str(value)
            if key == "exception" or any(c in text for c in ' "=\n'):
                text = json.dumps(text, ensure_ascii=False)
            parts.append(f"{key}={text}")
        return " ".join(parts)
