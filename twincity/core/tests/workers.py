"""Real worker processes (`manage.py run_worker`) on the test database, for the tests of background work."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

# Fast clocks, so the tests wait seconds rather than minutes.
FAST = {
    "TASKS_HEARTBEAT_SECONDS": "0.3",
    "TASKS_WORKER_LOST_SECONDS": "4",
    "TASKS_RETRY_BACKOFF_SECONDS": "0.3",
}


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a process that uses the test database (the one this test process set up)."""
    env = {**os.environ, **FAST, "TASKS_BACKEND": "database", "LOG_LEVEL": "WARNING", "TASK_LOG_LEVEL": "WARNING",
           "ACCESS_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        credentials = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
        env["DATABASE_URL"] = f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        env.pop("DATABASE_URL", None)
        env["SQLITE_NAME"] = str(db["NAME"])
    env.update(extra)
    return env


def start_worker(name: str, log_dir: Path, *args: str, **env: str) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "wb")  # the child writes to it; closed when this process ends
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--worker-id", name, "--interval", "0.05", *args],
        cwd=settings.BASE_DIR, env=worker_env(**env), stdout=log, stderr=subprocess.STDOUT,
    )


def stop_workers(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_workers(names: list[str], log_dir: Path, *args: str, **env: str) -> Iterator[list[subprocess.Popen]]:
    processes = [start_worker(name, log_dir, *args, **env) for name in names]
    try:
        yield processes
    finally:
        stop_workers(*processes)


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, log_dir: Path | None = None) -> object:
    """Poll `condition` until it answers something true; fail with the workers' logs after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    logs = ""
    if log_dir is not None:
        logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(log_dir.glob("*.log")))
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs}")
