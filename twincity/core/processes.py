"""Worker processes for the CPU-bound part of a long job (an import's first pass): Python runs one thread at a
time, so using a second core takes a second process.

`process_pool(workers)` is a `ProcessPoolExecutor` of fresh (spawned, not forked: the worker that runs tasks has
threads) processes, each with Django set up as in the parent and connected to the parent's database. Functions
sent to it must be module-level and their arguments picklable; they read the database through their own
connection, so they see only what the parent has committed.

This module imports nothing of Django's models at import time: a new process unpickles `_django_start` (its
initializer) before Django is set up.
"""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` processes running Django on the database of this process's default connection."""
    from django.conf import settings
    from django.db import connection

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_django_start,
                               initargs=(os.environ.get("DJANGO_SETTINGS_MODULE") or settings.SETTINGS_MODULE,
                                         dict(connection.settings_dict)))


def _django_start(settings_module: str, database: dict[str, Any]) -> None:
    """A pool process starts: Django set up with the parent's settings module, on the parent's database (the
    same one even when the parent's differs from the settings', as under the tests)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()
    from django.db import connection

    connection.settings_dict.update(database)
