"""TASKS_BACKEND=redis: the same tasks, enqueued to RQ on Redis and run by `manage.py run_worker`, in processes
configured for Redis (this test process stays on the database backend). Skipped when no Redis answers."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from twincity.core.models import WorkerHeartbeat
from twincity.core.tests.workers import worker_env

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.RedisError:
        return False


pytestmark = [
    # CI (.ci/run starts Redis) must run it; elsewhere it is skipped when no Redis answers.
    pytest.mark.skipif(not _redis_answers() and not os.environ.get("CI"), reason=f"no Redis at {REDIS_URL}"),
    pytest.mark.django_db(transaction=True),
]

ENQUEUE = """
import json, django_rq
django_rq.get_connection("default").flushdb()
from twincity.core.tests import worker_tasks
ids = [worker_tasks.record_task.enqueue(path=PATH, key=str(n)).id for n in range(3)]
ids.append(worker_tasks.flaky_task.enqueue(failures=1).id)
ids.append(worker_tasks.broken_task.enqueue().id)
print(json.dumps(ids))
"""

RESULTS = """
import json
from django.tasks import default_task_backend
from twincity.core.metrics import task_counts
results = [default_task_backend.get_result(i) for i in IDS]
print(json.dumps({"results": [[r.status, r.return_value if r.status == "SUCCESSFUL" else None, len(r.errors)]
                              for r in results], "counts": task_counts()}))
"""


def _manage(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_tasks_run_on_redis_with_retries_and_failures(tmp_path):
    env = worker_env(TASKS_BACKEND="redis", TASKS_REDIS_URL=REDIS_URL)
    out = tmp_path / "runs.txt"
    ids = json.loads(_manage("shell", "-c", ENQUEUE.replace("PATH", repr(str(out))), env=env).splitlines()[-1])

    _manage("run_worker", "--batch", "--no-scheduler", "--worker-id", "rq-1", env=env)

    report = json.loads(_manage("shell", "-c", RESULTS.replace("IDS", repr(ids)), env=env).splitlines()[-1])
    records, flaky, broken = report["results"][:3], report["results"][3], report["results"][4]
    assert [status for status, _, _ in records] == ["SUCCESSFUL"] * 3
    assert sorted(line.split()[0] for line in out.read_text().splitlines()) == ["0", "1", "2"]
    assert flaky[:2] == ["SUCCESSFUL", 2]  # failed once, retried by its policy
    assert broken[0] == "FAILED" and broken[2] >= 1
    assert report["counts"]["default"]["READY"] == 0
    assert not WorkerHeartbeat.objects.exists()  # the worker checked in, then out
