import os
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, get_random_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from twincity.core.metrics import TaskQueueCollector
from twincity.core.models import WorkerHeartbeat


def _check_database() -> dict:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True, "vendor": connection.vendor, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _check_cache() -> dict:
    key = f"healthz:{get_random_string(8)}"
    cache.set(key, "1", timeout=10)
    ok = cache.get(key) == "1"
    cache.delete(key)
    return {"ok": ok, "backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def _check_worker() -> dict:
    if settings.TASKS_BACKEND == "immediate":
        return {"ok": True, "detail": "tasks run where they are enqueued (TASKS_BACKEND=immediate)"}
    latest = WorkerHeartbeat.objects.order_by("-last_seen").values_list("last_seen", flat=True).first()
    if latest is None:
        return {"ok": False, "detail": "no worker has checked in"}
    age = (timezone.now() - latest).total_seconds()
    alive = age <= settings.TASKS_WORKER_LOST_SECONDS
    return {"ok": alive, "last_seen_seconds_ago": round(age, 1),
            "detail": "" if alive else f"no worker checked in for {settings.TASKS_WORKER_LOST_SECONDS:.0f} s"}


@never_cache
@require_GET
def health_view(request):
    """Database, cache and worker liveness: 200 when all answer, 503 otherwise (with what failed)."""
    checks: dict[str, dict] = {}
    for name, check in (("database", _check_database), ("cache", _check_cache), ("worker", _check_worker)):
        try:
            checks[name] = check()
        except (DatabaseError, OSError, ConnectionError) as exc:
            checks[name] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "unhealthy", **checks}
    return JsonResponse(body, status=200 if healthy else 503)


# The task queue's figures come from the database (or Redis) at each scrape, the same in every process.
_TASK_REGISTRY = CollectorRegistry()
_TASK_REGISTRY.register(TaskQueueCollector())


def _process_metrics() -> bytes:
    """This process's request metrics, or every process's when prometheus_client runs in multiprocess mode
    (PROMETHEUS_MULTIPROC_DIR set, e.g. under a pre-forking server)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@never_cache
@require_GET
def metrics_view(request):
    """Prometheus text format. With METRICS_TOKEN set, only for `Authorization: Bearer <METRICS_TOKEN>`."""
    token = settings.METRICS_TOKEN
    if token and not constant_time_compare(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return HttpResponse("metrics need the bearer token\n", status=401, content_type="text/plain")
    return HttpResponse(_process_metrics() + generate_latest(_TASK_REGISTRY), content_type=CONTENT_TYPE_LATEST)


# --- the public verify page of signed codes (twincity.core.verification) ---------------------------------------


@never_cache
@require_GET
def verify_view(request, token: str):
    """What a scanned card or licence code shows to anyone, signed in or not: valid with the fields its holder chose
    to show, or rejected with the reason (400 altered code, 404 no such object, 410 revoked, expired, suspended)."""
    from django.shortcuts import render

    from twincity.core.verification import CodeInvalid, code_verify

    try:
        outcome = code_verify(token)
    except CodeInvalid as exc:
        return render(request, "core/verify.html", {"rejected": str(exc)}, status=400)
    verification = outcome.verification
    if verification is None:
        return render(request, "core/verify.html", {"label": outcome.label,
                                                    "rejected": "未找到该证照 (no such card or licence)"}, status=404)
    status = 200 if verification.status == "valid" else 410
    return render(request, "core/verify.html", {"label": outcome.label, "verification": verification,
                                                "status_label": VERIFY_STATUS_LABELS.get(verification.status, "")},
                  status=status)


VERIFY_STATUS_LABELS = {"valid": "有效", "revoked": "已作废", "expired": "已过期", "suspended": "已暂停"}
