from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditEntry(models.Model):
    """Who changed what, when, with the values before and after. Written by services through the audit trail's
    write path (twincity.core.audit), never by signals; that path also invalidates the cached figures."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    action = models.CharField(max_length=8, choices=Action)
    # "app_label.model", e.g. "enterprises.enterprise"; kept as text so entries outlive deleted rows.
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=255, blank=True)
    # {field: {"before": value, "after": value}}; only the fields that changed.
    changes = models.JSONField(default=dict)
    # Optional note such as "import 2026-11-27 enterprises.csv".
    context = models.CharField(max_length=255, blank=True)
    # The object whose history this change belongs to, "app_label.model:pk": an enterprise for its own
    # changes and for those of its declarations and qualifications, so the history outlives deleted rows.
    subject = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # Used by the per-object history on detail pages.
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_history"),
            # Used by the history of an enterprise (its own changes, its declarations and qualifications).
            models.Index(fields=["subject", "-at"], name="audit_subject_history"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class WorkerHeartbeat(models.Model):
    """A task worker that is alive checks in here every few seconds (twincity.core.worker). `/healthz` reads the
    newest check-in; a worker that stops checking in has its unfinished task recovered by the others."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    backend = models.CharField(max_length=32)
    queues = models.CharField(max_length=255)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"


class ScheduleRun(models.Model):
    """One due time of a periodic job (twincity.core.schedules), claimed by exactly one worker: the unique
    constraint on (schedule, due_at) is the claim, so several workers never start the same due time twice."""

    schedule = models.CharField(max_length=64)
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(default=timezone.now)
    worker_id = models.CharField(max_length=64, blank=True)
    # The id of the enqueued task (its outcome is the task backend's), or empty if it could not be enqueued.
    task_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-due_at"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "due_at"], name="schedule_run_once_per_due_time"),
        ]
        indexes = [
            # The latest runs of one schedule (the schedules page).
            models.Index(fields=["schedule", "-due_at"], name="schedule_run_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule} @ {self.due_at:%Y-%m-%d %H:%M:%S}"


class CacheVersion(models.Model):
    """The version of what cached figures are computed from (twincity.core.caching): writes bump it when they
    commit, every process reads it, so a figure cached under an older version is never read again."""

    name = models.CharField(max_length=64, primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
