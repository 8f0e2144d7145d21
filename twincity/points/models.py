import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from twincity.core.models import TimeStampedModel


class StandardVersion(TimeStampedModel):
    """One version of a scoring standard, as the engine's plain data. Never edited after it is saved:
    a change is a new version derived from an old one, so every stored result names what produced it."""

    standard_id = models.CharField(_("standard"), max_length=32, db_index=True)
    version = models.CharField(_("version"), max_length=16)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=200)
    region = models.CharField(_("region"), max_length=32)
    effective_from = models.DateField(_("effective from"))
    provisional = models.BooleanField(default=False)
    definition = models.JSONField()
    derived_from = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    note = models.CharField(_("change note"), max_length=255, blank=True)

    class Meta:
        ordering = ["standard_id", "-effective_from", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["standard_id", "version"], name="standard_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.standard_id} v{self.version}"


class ScoringRun(TimeStampedModel):
    """A scoring of the registry under one standard version at one evaluation date. The row is the queue:
    pending → running → done / failed, with progress, so a page can show it while it runs."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    standard = models.ForeignKey(StandardVersion, models.PROTECT, related_name="runs")
    evaluation_date = models.DateField(_("evaluation date"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    status = models.CharField(max_length=8, choices=Status, default=Status.PENDING, db_index=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # {"pass": n, "fail": n, ...}
    verdict_counts = models.JSONField(default=dict, blank=True)
    # The frozen peer distribution this run scored against (engine's plain dict), so any result can be
    # recomputed exactly from its facts snapshot and this reference.
    reference = models.JSONField(default=dict, blank=True)
    # The engine that scored the run (points_engine.ENGINE_VERSION): a page re-explains a result only with the
    # same engine, and shows the stored result otherwise.
    engine_version = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.standard} @ {self.evaluation_date}"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.status == self.Status.DONE else 0)


class ScoreResult(models.Model):
    """One enterprise's result in one run, with the facts it was computed from."""

    run = models.ForeignKey(ScoringRun, models.CASCADE, related_name="results")
    # PROTECT: a finished run's results are part of the record; an enterprise that has any cannot be deleted.
    enterprise = models.ForeignKey("enterprises.Enterprise", models.PROTECT, related_name="score_results")
    verdict = models.CharField(max_length=20, db_index=True)
    route = models.CharField(max_length=8, blank=True)
    score_min = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    score_max = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    grade = models.CharField(max_length=2, blank=True, db_index=True)
    # {indicator_id: points}; None where a range is still open (expert input missing)
    points = models.JSONField(default=dict)
    # {indicator_id: band label}
    bands = models.JSONField(default=dict)
    reasons = models.JSONField(default=list)
    facts = models.JSONField(default=dict)
    # Stage (scp: startup / growth / mature) and the peer group the enterprise was normalised in,
    # e.g. "growth|ic"; empty where the standard uses none.
    stage = models.CharField(max_length=16, blank=True, db_index=True)
    peer_group = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "enterprise"], name="score_result_one_per_run"),
        ]
        indexes = [
            # Rankings: best first within a run.
            models.Index(fields=["run", "-score_max"], name="score_result_ranking"),
            # An enterprise's history across runs.
            models.Index(fields=["enterprise", "run"], name="score_result_enterprise"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.verdict} {self.score_min}–{self.score_max}"
