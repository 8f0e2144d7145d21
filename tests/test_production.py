"""The production runtime's configuration: gunicorn from the environment, hashed static files, the benchmark
summary. (The server itself is exercised by benchmarks/load_bench.py, the backups by core/tests/test_backup.py.)"""

import os
import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gunicorn_is_configured_from_the_environment(monkeypatch):
    for name in ("BIND", "WEB_CONCURRENCY", "WEB_THREADS", "ACCESS_LOG", "GUNICORN_CONTROL_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "8123")
    defaults = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    assert defaults["bind"] == "127.0.0.1:8123"
    assert defaults["workers"] == 2 * (os.cpu_count() or 1)
    assert (defaults["worker_class"], defaults["threads"]) == ("gthread", 4)
    assert defaults["wsgi_app"] == "config.wsgi:application"
    assert defaults["accesslog"] == "-" and defaults["control_socket_disable"] is True

    monkeypatch.setenv("BIND", "0.0.0.0:9000")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("WEB_THREADS", "8")
    monkeypatch.setenv("ACCESS_LOG", "0")
    configured = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    assert (configured["bind"], configured["workers"], configured["threads"]) == ("0.0.0.0:9000", 3, 8)
    assert configured["accesslog"] is None


def test_production_serves_hashed_static_files_from_the_collected_folder():
    code = ("from django.conf import settings; "
            "print(settings.STORAGES['staticfiles']['BACKEND'], settings.WHITENOISE_USE_FINDERS)")
    env = {**os.environ, "DEBUG": "0", "STATIC_MANIFEST": "1", "SECRET_KEY": "x" * 50}
    shown = subprocess.run([sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", code], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120, check=True).stdout.split()
    assert shown == ["whitenoise.storage.CompressedManifestStaticFilesStorage", "False"]


def test_the_procfile_runs_the_documented_command():
    procfile = (ROOT / "Procfile").read_text()
    assert "web: SKIP_RELEASE=1 scripts/serve --production" in procfile
    assert "release: SKIP_SERVER=1 scripts/serve --production" in procfile
    assert "worker: .venv/bin/python manage.py run_worker" in procfile


def test_the_load_benchmark_summary_reads_locusts_aggregated_row():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import load_bench
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    rows = [
        {"Name": "/", "Request Count": "10", "Failure Count": "0", "Requests/s": "1.0", "50%": "20", "95%": "40"},
        {"Name": "Aggregated", "Request Count": "600", "Failure Count": "2", "Requests/s": "10.04", "50%": "25",
         "95%": "90"},
    ]
    assert load_bench.summarise(rows, 60) == {"requests": 600, "pages_per_second": 10.0, "p50_ms": 25.0,
                                              "p95_ms": 90.0, "errors": 2}
