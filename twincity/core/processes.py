"""Worker processes for the CPU-bound part of a long job (an import's first pass): Python runs one thread at a
time, so using a second core takes a second process.

`process_pool(workers)` is a `ProcessPoolExecutor` of fresh processes (not forked from the caller: the worker
that runs tasks has threads), each with Django set up as in the parent and connected to the parent's database.
Functions sent to it must be module-level and their arguments picklable; they read the database through their
own connection, so they see only what the parent has committed.

Where the platform can, the processes are forked from a fork server (`multiprocessing`'s "forkserver": one
single-threaded process, started at the first pool, that has set Django up once — `twincity.core.process_preload`
— and imported the modules that pool named in `preload`, and holds no database connection): a pool's process then starts
in milliseconds instead of about a CPU-second of imports each, for every pool after the first too. Without a
settings module in the environment (nothing to preload), or where there is no fork server, they are spawned.

This module imports nothing of Django's models at import time: a new process unpickles `_django_start` (its
initializer) before Django is set up.
"""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

PRELOAD = "twincity.core.process_preload"


def _context(preload: tuple[str, ...]) -> Any:
    if os.environ.get("DJANGO_SETTINGS_MODULE") and "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # Read when the fork server starts (the first pool's first process); later pools' lists are not.
        context.set_forkserver_preload([PRELOAD, *preload])
        return context
    return multiprocessing.get_context("spawn")


def process_pool(workers: int, *, preload: tuple[str, ...] = ()) -> ProcessPoolExecutor:
    """A pool of `workers` processes running Django on the database of this process's default connection.
    `preload`: modules the processes will run (imported once by the fork server, after Django's set-up)."""
    from django.conf import settings
    from django.db import connection

    return ProcessPoolExecutor(max_workers=workers, mp_context=_context(preload),
                               initializer=_django_start,
                               initargs=(os.environ.get("DJANGO_SETTINGS_MODULE") or settings.SETTINGS_MODULE,
                                         dict(connection.settings_dict)))


def _django_start(settings_module: str, database: dict[str, Any]) -> None:
    """A pool process starts: Django set up with the parent's settings module (already, when forked from the fork
    server), on the parent's database (the same one even when the parent's differs from the settings', as under
    the tests)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()
    from django.db import connection

    connection.settings_dict.update(database)
