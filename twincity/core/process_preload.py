"""Imported once by the fork server of `twincity.core.processes` before it forks any pool process (before the
modules the pool names in `preload`): Django set up with the environment's settings module, so each forked process
starts with it. Leaves no database connection open (a forked process must not share one); if setting up fails
here, each process sets Django up itself, as a spawned one does."""

import os

if os.environ.get("DJANGO_SETTINGS_MODULE"):
    try:
        import django

        django.setup()
    except Exception:  # noqa: BLE001, S110 — the pool processes set Django up themselves then
        pass
    else:
        from django.db import connections

        for connection in connections.all(initialized_only=True):
            connection.close()
