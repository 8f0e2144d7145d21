import hashlib
import json
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
    # The kind of evaluation the rules are for (points_engine.EVALUATION_KINDS): versions of the same rules
    # share it (srdi-2022 and srdi-2026 are both "srdi"). Mirrors the definition, for queries.
    kind = models.CharField(_("kind of evaluation"), max_length=16, db_index=True, default="")
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=200)
    region = models.CharField(_("region"), max_length=32)
    effective_from = models.DateField(_("effective from"))
    # The first day the rules no longer apply to new applications (None: still in force). Mirrors the definition.
    superseded_from = models.DateField(_("superseded from"), null=True, blank=True)
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

    def in_force_on(self, day) -> bool:
        """For new applications: effective_from <= day < superseded_from."""
        return self.effective_from <= day and (self.superseded_from is None or day < self.superseded_from)


class Application(models.TextChoices):
    """A first application, or the review (复核) of a title held."""

    NEW = "new", _("New application")
    RENEWAL = "renewal", _("Renewal (review)")


class RenewalRule(TimeStampedModel):
    """Which version judges the renewals (复核) of a kind of evaluation in a year: set by an administrator from
    that year's notice (the 2026 小巨人 renewal batch, for one, was told to use the 2022 rules). Without a rule,
    renewals use the version in force on the evaluation date."""

    kind = models.CharField(_("kind of evaluation"), max_length=16)
    year = models.PositiveSmallIntegerField(_("year"))
    standard = models.ForeignKey(StandardVersion, models.PROTECT, related_name="renewal_rules")
    note = models.CharField(_("the notice it follows"), max_length=255, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["kind", "-year"]
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="renewal_rule_one_per_kind_year")]

    def __str__(self) -> str:
        return f"{self.kind} {self.year} → {self.standard}"


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
    application = models.CharField(_("application"), max_length=8, choices=Application, default=Application.NEW)
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


def facts_digest(text: str) -> str:
    """The digest a facts snapshot is found by: of the JSON text it was written from."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class FactsSnapshot(models.Model):
    """The facts of one enterprise on one evaluation date, as a run scored them: kept once and shared by every
    result computed from the very same facts (the five standards scored on one date), not once per result.
    Never changed: facts that differ (the registry changed between two runs) are another snapshot."""

    enterprise = models.ForeignKey("enterprises.Enterprise", models.CASCADE, related_name="+")
    evaluation_date = models.DateField(_("evaluation date"))
    # Which facts (a hash of their JSON text): the snapshot a run finds and reuses when its facts are the same.
    digest = models.CharField(max_length=40)
    facts = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "evaluation_date", "digest"],
                                    name="facts_snapshot_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} @ {self.evaluation_date}"

    @classmethod
    def for_facts(cls, *, enterprise_id: int, evaluation_date, facts: dict) -> "FactsSnapshot":
        """The snapshot holding exactly `facts` (created if there is none)."""
        digest = facts_digest(json.dumps(facts, ensure_ascii=False, separators=(",", ":")))
        snapshot, _created = cls.objects.get_or_create(
            enterprise_id=enterprise_id, evaluation_date=evaluation_date, digest=digest, defaults={"facts": facts})
        return snapshot


class ScoreResultQuerySet(models.QuerySet):
    """`values("facts")` and `values_list("facts")` read the result's facts from its snapshot, as
    `result.facts` does."""

    def values(self, *fields, **expressions):
        if "facts" in fields:
            fields = tuple(f for f in fields if f != "facts")
            expressions["facts"] = models.F("snapshot__facts")
        return super().values(*fields, **expressions)

    def values_list(self, *fields, flat=False, named=False):
        fields = tuple(models.F("snapshot__facts") if f == "facts" else f for f in fields)
        clone = super().values_list(*fields, flat=flat, named=named)
        return clone


class ScoreResult(models.Model):
    """One enterprise's result in one run, with (through its snapshot) the facts it was computed from."""

    # No index of their own: the constraint (run, enterprise) and the index (enterprise, run) lead with them.
    # No constraint in the database either (Django cascades a run's deletion to its results): a run writes 100,000
    # results in bulk, and the database would look its one run up once per row.
    run = models.ForeignKey(ScoringRun, models.CASCADE, related_name="results", db_index=False, db_constraint=False)
    # PROTECT: a finished run's results are part of the record; an enterprise that has any cannot be deleted.
    enterprise = models.ForeignKey("enterprises.Enterprise", models.PROTECT, related_name="score_results",
                                   db_index=False)
    # verdict, grade and stage: indexed in Meta (a plain index; db_index would add a LIKE index on PostgreSQL that
    # no query uses and every write maintains).
    verdict = models.CharField(max_length=20)
    route = models.CharField(max_length=8, blank=True)
    score_min = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    score_max = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    grade = models.CharField(max_length=2, blank=True)
    # {indicator_id: points}; None where a range is still open (expert input missing)
    points = models.JSONField(default=dict)
    # {indicator_id: band label}
    bands = models.JSONField(default=dict)
    reasons = models.JSONField(default=list)
    # The facts the result was computed from (read them as `facts`).
    # No constraint in the database (Django protects a snapshot that has results): the run stores the snapshot in
    # the same transaction as the results that name it, and the database would look it up once per row.
    snapshot = models.ForeignKey(FactsSnapshot, models.PROTECT, related_name="results", db_constraint=False)
    # Stage (scp: startup / growth / mature) and the peer group the enterprise was normalised in,
    # e.g. "growth|ic"; empty where the standard uses none.
    stage = models.CharField(max_length=16, blank=True)
    peer_group = models.CharField(max_length=40, blank=True)

    objects = ScoreResultQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "enterprise"], name="score_result_one_per_run"),
        ]
        indexes = [
            # Rankings: best first within a run.
            models.Index(fields=["run", "-score_max"], name="score_result_ranking"),
            # An enterprise's history across runs.
            models.Index(fields=["enterprise", "run"], name="score_result_enterprise"),
            models.Index(fields=["verdict"], name="score_result_verdict"),
            models.Index(fields=["grade"], name="score_result_grade"),
            models.Index(fields=["stage"], name="score_result_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.verdict} {self.score_min}–{self.score_max}"

    def save(self, *args, **kwargs) -> None:
        """A result saved one by one (tests, fixtures) keeps its facts in the snapshot of its run's date."""
        pending = self.__dict__.pop("_facts", None)
        if self.snapshot_id is None or pending is not None:
            self.snapshot = FactsSnapshot.for_facts(enterprise_id=self.enterprise_id,
                                                    evaluation_date=self.run.evaluation_date, facts=pending or {})
        super().save(*args, **kwargs)

    @property
    def facts(self) -> dict:
        """The facts the result was computed from (its snapshot's)."""
        pending = self.__dict__.get("_facts")
        if pending is not None:
            return pending
        return self.snapshot.facts if self.snapshot_id is not None else {}

    @facts.setter
    def facts(self, value: dict) -> None:
        self.__dict__["_facts"] = value


class EvaluationInput(TimeStampedModel):
    """A fact the registry cannot derive, recorded for an enterprise: a sourced figure (the 专精特新发展评价 score of a
    year, a market share) or a reviewer's judgement (market position, key chain link). Who recorded it, when and
    from what source is kept; every change is audited."""

    class Fact(models.TextChoices):
        QUALITY_SCORE = "quality_score", _("SRDI development score (of a year)")
        MARKET_SHARE = "market_share", _("Niche-market share")
        MARKET_POSITION_OK = "market_position_ok", _("Market position (reviewer's judgement)")
        MARKET_TOP3_CN = "market_top3_cn", _("Top-3 niche-market share in China (reviewer's judgement)")
        KEY_CHAIN_LINK = "key_chain_link", _("Key link of an industrial chain (reviewer's judgement)")
        AWARD_3Y_TOP3 = "award_3y_top3", _("Provincial or national S&T award in 3 years, top 3")
        NAT_AWARD_3Y_TOP3 = "nat_award_3y_top3", _("National S&T award in 3 years, top 3")

    enterprise = models.ForeignKey("enterprises.Enterprise", models.CASCADE, related_name="evaluation_inputs")
    fact = models.CharField(_("fact"), max_length=24, choices=Fact)
    # The year a score is for (quality_score); 0 for the facts that are not about one year.
    year = models.PositiveSmallIntegerField(_("year"), default=0)
    # true/false for a judgement, a decimal (as text) for a score or a share (0.10 = 10 %).
    value = models.JSONField(_("value"))
    source = models.CharField(_("source"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    class Meta:
        ordering = ["enterprise", "fact", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "fact", "year"], name="evaluation_input_one_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.fact}{f' {self.year}' if self.year else ''} = {self.value}"
