"""A schedule for the worker tests, loaded by the workers through settings.SCHEDULE_MODULES."""

import os
from datetime import timedelta

from twincity.core.schedules import Schedule, schedule_register

TEST_SCHEDULE = Schedule(
    "test-every-2s", "twincity.core.tests.worker_tasks.record_task", every=timedelta(seconds=2),
    kwargs={"path": os.environ.get("TEST_SCHEDULE_FILE", os.devnull), "key": "tick"},
    description="worker tests: every 2 s", catch_up=timedelta(seconds=1),
)
schedule_register(TEST_SCHEDULE)
