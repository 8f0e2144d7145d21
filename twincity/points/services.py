"""Writes of the points domain: standard versions, scoring runs and their results.

The arithmetic is the pure engine's (points_engine); this module feeds it registry facts and stores what
it returns, naming the standard version and keeping the facts snapshot and the frozen peer reference, so
that `points_engine.explain(result.facts, standard, evaluation_date=run.evaluation_date,
reference=run.reference)` reproduces every stored result.
"""

import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone

import points_engine
from points_engine.facts import KNOWN_FIELDS, coerce_value
from twincity.core.access import require
from twincity.core.audit import audit_record
from twincity.core.bulk import bulk_writes, insert_frame
from twincity.core.errors import Conflict, InvalidInput
from twincity.core.exports import csv_lines, xlsx_bytes
from twincity.core.models import AuditEntry
from twincity.enterprises.models import Enterprise
from twincity.points import access
from twincity.points.facts import registry_facts, registry_frames
from twincity.points.models import (
    Application,
    EvaluationInput,
    FactsSnapshot,
    RenewalRule,
    ScoreResult,
    ScoringRun,
    StandardVersion,
)
from twincity.points.selectors import _decimal, result_latest

logger = logging.getLogger(__name__)

# Enterprises scored and saved per batch (one transaction and one progress update each).
DEFAULT_BATCH = 5000
# Enterprises read from the registry and scored per piece (saved in batches of the above).
READ_BATCH = 25000
# Facts a what-if may not change: they identify the record, they are not figures.
WHAT_IF_LOCKED = frozenset({"id", "credit_code", "name"})
VERSION_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,15}")
RESERVED_VERSIONS = frozenset({"diff", "derive"})


ADMINISTRATORS_ONLY = "只有管理员可以执行此操作 (administrators only)"


def _version_from_standard(standard: points_engine.Standard, **extra: Any) -> StandardVersion:
    return StandardVersion(
        standard_id=standard.id,
        version=standard.version,
        kind=standard.kind or "",
        superseded_from=standard.superseded_from,
        name_zh=standard.name_zh[:100],
        name_en=standard.name_en[:200],
        region=standard.region[:32],
        effective_from=standard.effective_from,
        provisional=standard.provisional,
        definition=standard.to_dict(),
        **extra,
    )


def engine_standard(version: StandardVersion) -> points_engine.Standard:
    return points_engine.Standard.from_dict(version.definition)


# --- standards ---------------------------------------------------------------------------------------------


@transaction.atomic
def standards_builtin_sync() -> list[StandardVersion]:
    """Store the engine's built-in standards that the database does not hold yet, each audited as created by the
    system (which also refreshes the cached standards pages). Existing versions are never touched: a stored
    version is immutable."""
    created = []
    existing = set(StandardVersion.objects.values_list("standard_id", "version"))
    for standard in points_engine.list_builtin():
        if (standard.id, standard.version) not in existing:
            version = _version_from_standard(standard, note="built-in")
            version.save()
            audit_record(actor=None, action=AuditEntry.Action.CREATE, instance=version,
                         after={"standard_id": version.standard_id, "version": version.version,
                                "note": version.note},
                         context="内置评分标准同步 (built-in standards sync)")
            created.append(version)
    return created


@transaction.atomic
def standard_version_create(
    *, actor, base: StandardVersion, definition: dict[str, Any], version: str, note: str = ""
) -> StandardVersion:
    """A new version derived from `base`. The old version and every result it produced stay as they are."""
    require(access.can_edit_standards(actor), ADMINISTRATORS_ONLY)
    version = (version or "").strip() if isinstance(version, str) else ""
    if not VERSION_RE.fullmatch(version) or version in RESERVED_VERSIONS:
        raise InvalidInput("版本号无效：字母、数字、点、横线，最多16个字符 (invalid version: letters, digits, '.', '-', "
                           "'_', at most 16 characters)", extra={"fields": {"version": [version]}})
    if not isinstance(definition, dict):
        raise InvalidInput("评分标准无效 (invalid standard)", extra={"errors": ["definition must be an object"]},
                           code="invalid_standard")
    if StandardVersion.objects.filter(standard_id=base.standard_id, version=version).exists():
        raise InvalidInput("该版本号已存在 (this version already exists)",
                           extra={"fields": {"version": [version]}}, code="version_exists")
    data = dict(definition)
    data["id"] = base.standard_id
    data["version"] = version
    data["derived_from"] = {"id": base.standard_id, "version": base.version}
    try:
        errors = points_engine.validate_standard(data)
    except Exception as exc:  # noqa: BLE001 — a malformed definition must be a 422, never a 500
        errors = [f"{type(exc).__name__}: {exc}"]
    if errors:
        raise InvalidInput("评分标准无效 (invalid standard)", extra={"errors": [str(e) for e in errors]},
                           code="invalid_standard")
    standard = points_engine.Standard.from_dict(data)
    created = _version_from_standard(standard, derived_from=base, created_by=actor, note=(note or "")[:255])
    created.full_clean()
    created.save()
    changes = points_engine.diff_standards(base.definition, created.definition)
    audit_record(
        actor=actor, action=AuditEntry.Action.CREATE, instance=created,
        after={"standard_id": created.standard_id, "version": created.version, "derived_from": base.version,
               "changes": len(changes), "note": created.note},
    )
    return created


def standard_changes_apply(*, base: StandardVersion, changes: dict[str, Any]) -> dict[str, Any]:
    """The definition `base` would have with `changes` ({dotted path: new value}, paths as in the diff)
    applied. Raises InvalidInput for a path that does not exist or a result that is not a valid standard."""
    if not isinstance(changes, dict):
        raise InvalidInput("修改必须是对象 (changes must be an object)", code="invalid_standard",
                           extra={"errors": ["changes must be an object {path: value}"]})
    try:
        derived = points_engine.derive_version(
            engine_standard(base), {str(k): v for k, v in changes.items() if k != "version"},
            version=f"{base.version}~draft",
        )
    except points_engine.StandardError as exc:
        errors = getattr(exc, "errors", None) or [str(exc)]
        raise InvalidInput("评分标准无效 (invalid standard)", extra={"errors": [str(e) for e in errors]},
                           code="invalid_standard") from exc
    except Exception as exc:  # noqa: BLE001 — a bad path shape is the caller's input, not a crash
        raise InvalidInput("评分标准无效 (invalid standard)", extra={"errors": [f"{type(exc).__name__}: {exc}"]},
                           code="invalid_standard") from exc
    return derived.to_dict()


# --- scoring runs ------------------------------------------------------------------------------------------


@transaction.atomic
def scoring_run_create(
    *, actor, standard: StandardVersion, evaluation_date: date, application: str = Application.NEW,
    system: bool = False,
) -> ScoringRun:
    """A pending run. `system=True` is for the command line (no signed-in actor), never for a request.
    `application` scores the registry as new applications (default) or as renewals (复核)."""
    if not system:
        require(access.can_manage_runs(actor), ADMINISTRATORS_ONLY)
    if not isinstance(evaluation_date, date) or not (1990 <= evaluation_date.year <= 2100):
        raise InvalidInput("评价日期无效 (invalid evaluation date)",
                           extra={"fields": {"evaluation_date": [str(evaluation_date)]}})
    if application not in Application.values:
        raise InvalidInput("申请类型无效 (invalid application)", extra={"fields": {"application": [application]}})
    # One run per standard version, evaluation date and application at a time: a second start while one is
    # pending or running joins it (the same run is returned, `joined` set, nothing new is started). Locking the
    # standard version's row serialises the check and the insert on PostgreSQL; SQLite's IMMEDIATE transactions
    # already do.
    list(StandardVersion.objects.select_for_update(no_key=True).filter(pk=standard.pk).values_list("pk"))
    in_progress = (ScoringRun.objects.filter(standard=standard, evaluation_date=evaluation_date,
                                             application=application,
                                             status__in=(ScoringRun.Status.PENDING, ScoringRun.Status.RUNNING))
                   .order_by("created_at").first())
    if in_progress is not None:
        in_progress.joined = True  # type: ignore[attr-defined]  # read by scoring_run_start
        return in_progress
    run = ScoringRun.objects.create(
        standard=standard, evaluation_date=evaluation_date, application=application,
        started_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=run,
                 after={"standard": str(standard), "evaluation_date": evaluation_date.isoformat(),
                        "application": application})
    return run


@transaction.atomic
def renewal_rule_set(*, actor, kind: str, year: int, standard: StandardVersion, note: str = "") -> RenewalRule:
    """Name the version that judges the renewals (复核) of a kind in a year, as that year's notice says."""
    require(access.can_edit_standards(actor), ADMINISTRATORS_ONLY)
    if standard.kind != kind:
        raise InvalidInput("该版本不属于这一评价类型 (the version is of another kind of evaluation)",
                           extra={"fields": {"standard": [str(standard)]}})
    rule = RenewalRule.objects.select_for_update().filter(kind=kind, year=year).first()
    before = {"standard": str(rule.standard), "note": rule.note} if rule else None
    if rule is None:
        rule = RenewalRule(kind=kind, year=year)
    rule.standard, rule.note, rule.set_by = standard, (note or "")[:255], actor
    rule.save()
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE if before else AuditEntry.Action.CREATE,
                 instance=rule, before=before, after={"standard": str(standard), "note": rule.note})
    return rule


def _reasons(text: str | None) -> list[str]:
    return [part for part in (text or "").split("; ") if part]


def _json_texts(frame, prefix: str):
    """{indicator: value} of the `prefix` columns of the engine's frame, as the JSON text of each row."""
    import polars as pl

    columns = [c for c in frame.columns if c.startswith(prefix)]
    if not columns:
        return pl.repeat("{}", frame.height, dtype=pl.String, eager=True)
    # Non-finite points are stored as null, as `stored_fields` says: polars writes NaN and infinity as null.
    return frame.select(pl.struct(pl.col(c).alias(c.removeprefix(prefix)) for c in columns)
                        .struct.json_encode()).to_series()


def _stored_decimals(frame, name: str):
    """The score column as the text of the decimal `stored_fields` makes of each value (few distinct values)."""
    import polars as pl

    if name not in frame.columns:
        return pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    column = frame[name]
    if column.dtype.is_float():
        column = column.fill_nan(None)
    distinct = column.drop_nulls().unique().to_list()
    texts = [None if (d := _decimal(v)) is None else str(d) for v in distinct]
    return column.replace_strict(distinct, texts, return_dtype=pl.String) if distinct else column.cast(pl.String)


def _reasons_json(frame):
    """The reasons of each row as the JSON text of the list `_reasons` makes (few distinct values)."""
    import polars as pl

    if "reasons" not in frame.columns:
        return pl.repeat("[]", frame.height, dtype=pl.String, eager=True)
    column = frame["reasons"].cast(pl.String).fill_null("")
    distinct = column.unique().to_list()
    return column.replace_strict(distinct, [json.dumps(_reasons(text)) for text in distinct], return_dtype=pl.String)


def _text_or_blank(frame, name: str):
    import polars as pl

    if name not in frame.columns:
        return pl.repeat("", frame.height, dtype=pl.String, eager=True)
    return frame[name].cast(pl.String).fill_null("")


def _result_rows(pks: list[int], out):
    """The stored columns of a chunk's results, built column-wise from the engine's frame: the values
    `stored_fields` gives, JSON as its text."""
    import polars as pl

    return pl.DataFrame({
        "enterprise_id": pl.Series(pks, dtype=pl.Int64),
        "verdict": out["verdict"].cast(pl.String),
        "route": _text_or_blank(out, "route"),
        "score_min": _stored_decimals(out, "score_min"),
        "score_max": _stored_decimals(out, "score_max"),
        "grade": _text_or_blank(out, "grade"),
        "points": _json_texts(out, "points."),
        "bands": _json_texts(out, "band."),
        "reasons": _reasons_json(out),
        "stage": _text_or_blank(out, "stage"),
        "peer_group": _text_or_blank(out, "peer_group"),
    })


def _facts_texts(frame):
    """Each row of a typed facts frame as the JSON text of its snapshot: dates as ISO text, non-finite numbers as
    null (what `frame.to_dicts()` made JSON-safe gives)."""
    import polars as pl

    return frame.select(pl.struct(pl.all()).struct.json_encode()).to_series()


def _digests(texts):
    """The digest each snapshot text is found by: two seeded 64-bit polars hashes of it (40 digits). Polars does
    not promise the same hash across its versions: after an upgrade a run stores its snapshots anew, once."""
    import polars as pl

    return pl.select(pl.concat_str(pl.lit(texts).hash(seed=1).cast(pl.String).str.zfill(20),
                                   pl.lit(texts).hash(seed=2).cast(pl.String).str.zfill(20))).to_series()


def _facts_frame(pks: list[int], facts_frame):
    """(enterprise_id, digest, facts) of a batch: each enterprise's facts as JSON text with its digest, as
    `_save_chunk` stores them (made once per batch, whatever the number of runs that scored it)."""
    import polars as pl

    texts = _facts_texts(facts_frame)
    return pl.DataFrame({"enterprise_id": pl.Series(pks, dtype=pl.Int64)}).with_columns(
        digest=_digests(texts), facts=texts)


def _snapshot_ids(evaluation_date: date, first: int, last: int):
    """(enterprise_id, digest, snapshot_id) of the snapshots stored for the enterprises first..last on the date."""
    import polars as pl

    rows = FactsSnapshot.objects.filter(evaluation_date=evaluation_date, enterprise_id__gte=first,
                                        enterprise_id__lte=last).values_list("enterprise_id", "digest", "pk")
    return pl.DataFrame(list(rows), schema={"enterprise_id": pl.Int64, "digest": pl.String, "snapshot_id": pl.Int64},
                        orient="row")


def _save_chunk(run: ScoringRun, rows, facts, *, done: int, total: int, linked=None) -> tuple[Counter[str], Any]:
    """Store a chunk's results (`_result_rows`), the snapshots of its facts (enterprise_id, digest, facts text)
    not stored yet, and the run's progress (`done` before the chunk) in one short transaction. Answers the verdicts
    stored, counted, and (enterprise_id, snapshot_id) of the chunk, which another run that scored the same facts
    passes back as `linked` instead of `facts` (its snapshots are stored then). Rows are written straight from
    frames, with no model instance per row; a snapshot already stored for the same enterprise, date and facts is
    reused."""
    import polars as pl

    pks = rows["enterprise_id"].to_list()
    with transaction.atomic(), bulk_writes():
        # Lock the chunk's enterprises: one deleted since its facts were read is skipped, and one that someone is
        # deleting now waits for this chunk, then is refused (its results exist). FOR KEY SHARE (what the results'
        # foreign key takes) blocks a delete but neither an edit of the enterprise nor another run's chunk.
        sql, params = (Enterprise.objects.filter(pk__gte=pks[0], pk__lte=pks[-1]).order_by()
                       .values_list("pk", flat=True).query.sql_with_params())
        lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
        with connection.cursor() as cursor:  # counted by the database: the pks only come back when one is missing
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}{lock}) AS chunk", params)
            if cursor.fetchone()[0] != len(pks):
                cursor.execute(f"{sql}{lock}", params)
                present = [pk for (pk,) in cursor.fetchall()]
                rows = rows.filter(rows["enterprise_id"].is_in(pl.Series(present, dtype=pl.Int64).implode()))
        if linked is None:
            keys = ["enterprise_id", "digest"]
            facts = facts.filter(pl.col("enterprise_id").is_in(rows["enterprise_id"].implode()))
            linked = facts.join(_snapshot_ids(run.evaluation_date, pks[0], pks[-1]), on=keys, how="left",
                                maintain_order="left")
            new = linked.filter(pl.col("snapshot_id").is_null())
            if new.height:
                insert_frame(FactsSnapshot, new.select(*keys, "facts").with_columns(
                    evaluation_date=pl.lit(run.evaluation_date)))
                linked = facts.join(_snapshot_ids(run.evaluation_date, pks[0], pks[-1]), on=keys, how="left",
                                    maintain_order="left")
            linked = linked.select("enterprise_id", "snapshot_id")
        snapshot_ids = rows.select("enterprise_id").join(linked, on="enterprise_id", how="left",
                                                         maintain_order="left")["snapshot_id"]
        insert_frame(ScoreResult, rows.with_columns(run_id=pl.lit(run.pk, dtype=pl.Int64), snapshot_id=snapshot_ids))
        counts: Counter[str] = Counter()
        for verdict, n in rows.group_by("verdict", maintain_order=True).len().iter_rows():
            counts[verdict] += n
        done += rows.height
        ScoringRun.objects.filter(pk=run.pk).update(done=done, total=max(total, done))
    return counts, linked


def scoring_run_execute(
    *, run_id: int, batch_size: int | None = None, on_progress: Callable[[int, int], None] | None = None
) -> ScoringRun:
    """Score the registry for a pending run (`scoring_runs_execute` of that run alone).

    Claims the run with a conditional UPDATE (pending → running) so two workers can never execute the
    same run: a run that is not pending is refused (InvalidInput, code run_not_pending)."""
    progress = None if on_progress is None else (lambda _run_id, done, total: on_progress(done, total))
    runs = scoring_runs_execute(run_ids=[run_id], batch_size=batch_size, on_progress=progress)
    if runs[0] is None:
        raise InvalidInput("该评分任务已在执行或已完成 (run already started)", code="run_not_pending")
    return runs[0]


def scoring_runs_execute(
    *, run_ids: Iterable[int], batch_size: int | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> list[ScoringRun | None]:
    """Score the registry for pending runs, together: the runs of one evaluation date share one reading of the
    registry and one facts snapshot per enterprise (the nightly scoring and "score all" run every standard at once).
    Each run stores exactly what it would alone, and fails alone.

    Each run is claimed with a conditional UPDATE (pending → running) so two workers can never execute the same
    run; one that is not pending is left to whoever has it (None in the answer, in the order of `run_ids`).
    Registry facts are read once, in chunks, into typed (polars) frames. Standards with peer percentiles first
    freeze the reference over the whole registry; then every chunk is scored against it and saved in short
    transactions (one per run and batch), updating `done` so a page can show the progress
    (`on_progress(run_id, done, total)`). A failure marks the run failed with the reason and leaves no partial
    results behind."""
    size = batch_size or int(getattr(settings, "POINTS_RUN_BATCH", DEFAULT_BATCH))
    run_ids = list(run_ids)
    claimed = [run_id for run_id in dict.fromkeys(run_ids) if ScoringRun.objects.filter(
        pk=run_id, status=ScoringRun.Status.PENDING).update(
        status=ScoringRun.Status.RUNNING, started_at=timezone.now(), done=0) == 1]
    runs = ScoringRun.objects.select_related("standard").in_bulk(claimed)
    by_date: dict[date, list[ScoringRun]] = {}
    for run_id in claimed:
        by_date.setdefault(runs[run_id].evaluation_date, []).append(runs[run_id])
    for evaluation_date, together in by_date.items():
        _execute_together(together, evaluation_date, size, on_progress)
    fresh = ScoringRun.objects.select_related("standard").in_bulk(claimed)
    return [fresh.get(run_id) for run_id in run_ids]


def _execute_together(runs: list[ScoringRun], evaluation_date: date, size: int,
                      on_progress: Callable[[int, int, int], None] | None) -> None:
    """Score and store claimed runs of one evaluation date (see `scoring_runs_execute`)."""
    active: dict[int, ScoringRun] = {run.pk: run for run in runs}

    def fail(run: ScoringRun, exc: Exception) -> None:  # a failed run must say why on its page
        logger.error("scoring run %s failed", run.pk, exc_info=exc)
        active.pop(run.pk, None)
        # The facts snapshots it stored stay: they are the registry's facts on that date, which a retry (or another
        # standard's run of the date) reuses; an enterprise's snapshots go with it.
        ScoreResult.objects.filter(run_id=run.pk).delete()
        ScoringRun.objects.filter(pk=run.pk).update(
            status=ScoringRun.Status.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )

    def each(work: Callable[[ScoringRun], None]) -> None:
        for run in list(active.values()):
            try:
                work(run)
            except Exception as exc:  # noqa: BLE001 — this run fails, the others go on
                fail(run, exc)

    try:
        standards: dict[int, points_engine.Standard] = {}
        each(lambda run: standards.__setitem__(run.pk, engine_standard(run.standard)))
        total = Enterprise.objects.count()
        ScoringRun.objects.filter(pk__in=list(active)).update(total=total)
        # Read and scored in larger pieces than saved: fewer queries, and the engine plans once per piece.
        chunks: Iterable[tuple[list[int], Any]] = registry_frames(evaluation_date=evaluation_date,
                                                                  chunk_size=max(size, READ_BATCH))
        references: dict[int, Any] = {}
        if total and any(standards[pk].uses_percentiles for pk in active):
            import polars as pl

            chunks = list(chunks)  # columnar: ~60 MB for 100k enterprises
            frames = [frame for _pks, frame in chunks]
            whole = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
            each(lambda run: references.__setitem__(run.pk, points_engine.build_reference(
                standards[run.pk], whole, evaluation_date=evaluation_date)
                if standards[run.pk].uses_percentiles else None))
            del whole, frames
        counts: dict[int, Counter[str]] = {pk: Counter() for pk in active}
        done = dict.fromkeys(active, 0)

        def prepare(pks: list[int], frame, runs: list[ScoringRun]) -> list[tuple[list[int], Any, dict[int, Any]]]:
            """A chunk scored and turned into what its batches store: (pks, facts, {run: result rows or the
            exception that fails the run}) per batch. No database: it runs beside the writes of the chunk before."""
            results: dict[int, Any] = {}
            for run in runs:
                try:
                    results[run.pk] = points_engine.score_batch(
                        frame, standards[run.pk], evaluation_date=evaluation_date, reference=references.get(run.pk),
                        on_error="mark", keep_input=False, application=run.application).frame
                except Exception as exc:  # noqa: BLE001 — the run fails when its rows would be written
                    results[run.pk] = exc
            batches = []
            for start in range(0, len(pks), size):  # saved in batches: each transaction stays short
                batch = pks[start:start + size]
                rows: dict[int, Any] = {}
                for run_pk, out in results.items():
                    try:
                        rows[run_pk] = out if isinstance(out, Exception) else _result_rows(
                            batch, out.slice(start, size))
                    except Exception as exc:  # noqa: BLE001
                        rows[run_pk] = exc
                batches.append((batch, _facts_frame(batch, frame.slice(start, size)), rows))
            return batches

        def save(run: ScoringRun, prepared: Any, facts: Any, linked: Any) -> Any:
            if isinstance(prepared, Exception):
                raise prepared
            saved, linked = _save_chunk(run, prepared, facts, done=done[run.pk], total=total, linked=linked)
            counts[run.pk].update(saved)
            done[run.pk] += saved.total()
            if on_progress is not None:
                on_progress(run.pk, done[run.pk], max(total, done[run.pk]))
            return linked

        def write_runs(runs: list[ScoringRun], batches: list[tuple[list[int], Any, dict[int, Any]]],
                       links: list[tuple[int | None, Any]]) -> None:
            for run in runs:
                for (_batch, _facts, rows), (written_by, linked) in zip(batches, links, strict=True):
                    if run.pk in active and run.pk != written_by and linked is not None:
                        try:
                            save(run, rows[run.pk], None, linked)
                        except Exception as exc:  # noqa: BLE001 — this run fails, the others go on
                            fail(run, exc)

        def write(batches: list[tuple[list[int], Any, dict[int, Any]]], writer: ThreadPoolExecutor | None) -> None:
            # First each batch's snapshots, with the results of the first run that stores them...
            links: list[tuple[int | None, Any]] = []
            for _batch, facts, rows in batches:
                written: tuple[int | None, Any] = (None, None)
                for run in list(active.values()):
                    try:
                        written = (run.pk, save(run, rows[run.pk], facts, None))
                        break
                    except Exception as exc:  # noqa: BLE001 — this run fails, the others go on
                        fail(run, exc)
                links.append(written)
            # ...then the other runs' results, each run's batches in order: on PostgreSQL half of the runs over a
            # second connection (a second backend: the second core).
            rest = list(active.values())
            if writer is None:
                write_runs(rest, batches, links)
                return
            helped = writer.submit(write_runs, rest[1::2], batches, links)
            write_runs(rest[::2], batches, links)
            helped.result()

        # With several runs on PostgreSQL outside a caller's transaction (a worker, the command line), results are
        # written over two connections.
        writers = 2 if (len(active) > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block
                        and int(getattr(settings, "POINTS_RUN_WRITERS", 2)) > 1) else 1
        # Each chunk is scored and prepared in a second thread while the chunk before it is written (polars and
        # the database drivers let the other thread run meanwhile): the two cores work at once.
        with (ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring-prepare") as pool,
              ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring-write") as writer):
            try:
                helper = writer if writers > 1 else None
                pending = None
                for pks, frame in chunks:
                    if not active:
                        break
                    prepared = pool.submit(prepare, pks, frame, list(active.values()))
                    if pending is not None:
                        write(pending.result(), helper)
                    pending = prepared
                if pending is not None and active:
                    write(pending.result(), helper)
            finally:
                if writers > 1:
                    writer.submit(connections.close_all).result()  # the second connection, in its own thread
        for run in list(active.values()):
            ScoringRun.objects.filter(pk=run.pk).update(
                status=ScoringRun.Status.DONE, finished_at=timezone.now(), verdict_counts=dict(counts[run.pk]),
                reference=references.get(run.pk) or {}, total=done[run.pk], done=done[run.pk],
                engine_version=points_engine.ENGINE_VERSION,
            )
    except Exception as exc:  # noqa: BLE001 — reading the registry failed: every run still under way fails
        for run in list(active.values()):
            fail(run, exc)


# --- evaluation inputs: facts the registry cannot derive ------------------------------------------------------

JUDGEMENTS = frozenset({EvaluationInput.Fact.MARKET_POSITION_OK, EvaluationInput.Fact.MARKET_TOP3_CN,
                        EvaluationInput.Fact.KEY_CHAIN_LINK, EvaluationInput.Fact.AWARD_3Y_TOP3,
                        EvaluationInput.Fact.NAT_AWARD_3Y_TOP3})
# fact → (lowest, highest) value of a number
NUMBER_RANGES = {EvaluationInput.Fact.QUALITY_SCORE: (Decimal(0), Decimal(100)),
                 EvaluationInput.Fact.MARKET_SHARE: (Decimal(0), Decimal(1))}


def _input_value(fact: str, value: Any) -> bool | str:
    if fact in JUDGEMENTS:
        if not isinstance(value, bool):
            raise InvalidInput("应为是或否 (expected true or false)", extra={"fields": {"value": [str(value)]}})
        return value
    low, high = NUMBER_RANGES[EvaluationInput.Fact(fact)]
    try:
        number = Decimal(str(value))
        if isinstance(value, bool) or not number.is_finite() or not low <= number <= high:
            raise ValueError
    except (ArithmeticError, ValueError):
        raise InvalidInput(f"应为 {low} 到 {high} 之间的数 (expected a number from {low} to {high})",
                           extra={"fields": {"value": [str(value)]}}) from None
    return str(number.quantize(Decimal("0.0001")).normalize())


@transaction.atomic
def evaluation_input_set(*, actor, enterprise: Enterprise, fact: str, value: Any, year: int | None = None,
                         source: str = "", note: str = "") -> EvaluationInput:
    """Record (or change) a fact the registry cannot derive: a 专精特新发展评价 score of a year with its source, a
    market share, or a reviewer's judgement. Who, when, the value before and after are audited."""
    require(access.can_record_evaluation_inputs(actor, enterprise), ADMINISTRATORS_ONLY)
    if fact not in EvaluationInput.Fact.values:
        raise InvalidInput("未知的评价输入 (unknown evaluation input)", extra={"fields": {"fact": [str(fact)]}})
    needs_year = fact == EvaluationInput.Fact.QUALITY_SCORE
    if needs_year and not (isinstance(year, int) and 2000 <= year <= 2100):
        raise InvalidInput("评价得分需注明年度 (a score is for a year)", extra={"fields": {"year": [str(year)]}})
    stored_year = year if needs_year and year is not None else 0
    cleaned = _input_value(fact, value)
    current = EvaluationInput.objects.select_for_update().filter(enterprise=enterprise, fact=fact,
                                                                 year=stored_year).first()
    fields = ("value", "source", "note")
    before = None if current is None else {name: getattr(current, name) for name in fields}
    item = current or EvaluationInput(enterprise=enterprise, fact=fact, year=stored_year)
    item.value, item.source, item.note, item.recorded_by = cleaned, (source or "")[:200], (note or "")[:255], actor
    after = {name: getattr(item, name) for name in fields}
    if before == after:
        return item
    item.save()
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE if current else AuditEntry.Action.CREATE,
                 instance=item, before=before, after=after, subject=enterprise,
                 context=f"{fact}{f' {stored_year}' if stored_year else ''}")
    return item


@transaction.atomic
def evaluation_input_clear(*, actor, item: EvaluationInput) -> None:
    require(access.can_record_evaluation_inputs(actor, item.enterprise), ADMINISTRATORS_ONLY)
    audit_record(actor=actor, action=AuditEntry.Action.DELETE, instance=item,
                 before={"value": item.value, "source": item.source, "note": item.note}, subject=item.enterprise,
                 context=f"{item.fact}{f' {item.year}' if item.year else ''}")
    item.delete()


# --- what-if -----------------------------------------------------------------------------------------------


def _coerce_changes(changes: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(changes, dict):
        raise InvalidInput("修改必须是对象 (changes must be an object)", extra={"fields": {"changes": ["object"]}})
    unknown = sorted(k for k in changes if k not in KNOWN_FIELDS or k in WHAT_IF_LOCKED)
    if unknown:
        raise InvalidInput("未知或不可修改的字段 (unknown or locked fields)", code="unknown_field",
                           extra={"fields": {k: ["unknown field (see facts.md)"] for k in unknown}})
    coerced: dict[str, Any] = {}
    bad: dict[str, list[str]] = {}
    for name, value in changes.items():
        if isinstance(value, (dict, list)):
            bad[name] = ["must be a single value"]
            continue
        try:
            coerced[name] = coerce_value(name, value)
        except points_engine.FactsError as exc:
            bad[name] = [str(exc)]
    if bad:
        raise InvalidInput("数值无效 (invalid values)", extra={"fields": bad})
    return coerced


def what_if(
    *, user, enterprise: Enterprise, standard: StandardVersion, changes: dict[str, Any]
) -> tuple[points_engine.Explanation, points_engine.Explanation]:
    """(before, after): the enterprise's explanation under `standard` from its latest stored facts snapshot
    (or fresh registry facts when no run of that version holds it), and the same with `changes` applied.
    Scored against the run's frozen reference. Nothing is saved."""
    require(access.can_view_points(user, enterprise), "无权查看该企业的积分 (you may not see this enterprise's points)")
    coerced = _coerce_changes(changes)
    result = result_latest(enterprise=enterprise, standard=standard)
    engine = engine_standard(standard)
    application = Application.NEW
    if result is not None:
        facts, evaluation_date, reference = dict(result.facts), result.run.evaluation_date, result.run.reference
        application = Application(result.run.application)
    else:
        evaluation_date = timezone.localdate()
        facts = next(iter(dict(registry_facts(evaluation_date=evaluation_date, enterprise_ids=[enterprise.pk])).values()))
        latest_run = (ScoringRun.objects.filter(standard=standard, status=ScoringRun.Status.DONE)
                      .order_by("-evaluation_date", "-created_at").first())
        reference = latest_run.reference if latest_run else None
        if engine.uses_percentiles and not reference:
            raise Conflict("该标准版本尚无评分结果，请先运行评分 (run this standard version first)",
                               code="no_run", extra={"standard": str(standard)})
    changed = {**facts, **coerced}
    try:
        before = points_engine.explain(facts, engine, evaluation_date=evaluation_date, reference=reference or None,
                                      application=application)
        after = points_engine.explain(changed, engine, evaluation_date=evaluation_date, reference=reference or None,
                                     application=application)
    except points_engine.EngineError as exc:
        raise InvalidInput(str(exc), code="what_if_invalid") from exc
    return before, after


# --- whitelist export --------------------------------------------------------------------------------------

WHITELIST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("credit_code", "统一社会信用代码"),
    ("name", "企业名称"),
    ("city", "注册地"),
    ("industry_cluster", "重点产业集群"),
    ("standard", "评价标准"),
    ("version", "版本"),
    ("evaluation_date", "评价日期"),
    ("verdict", "结论"),
    ("score_min", "最低积分"),
    ("score_max", "最高积分"),
    ("grade", "等级"),
)
_WHITELIST_VALUES = ("enterprise__credit_code", "enterprise__name", "enterprise__city",
                     "enterprise__industry_cluster", "run__standard__standard_id", "run__standard__version",
                     "run__evaluation_date", "verdict", "score_min", "score_max", "grade")


def whitelist_rows(*, rows: QuerySet[ScoreResult]) -> Iterator[tuple]:
    """The export's rows as plain tuples (header excluded), streamed from the database."""
    yield from rows.values_list(*_WHITELIST_VALUES).iterator(chunk_size=2000)


def whitelist_csv_lines(*, rows: QuerySet[ScoreResult]) -> Iterable[str]:
    """CSV text in pieces, for a streaming response (text cells can never be formulas: core.exports)."""
    return csv_lines([key for key, _zh in WHITELIST_COLUMNS], whitelist_rows(rows=rows))


def whitelist_export(*, rows: QuerySet[ScoreResult], fmt: Literal["csv", "xlsx"]) -> bytes:
    """The whitelist as a file: a header of column names (WHITELIST_COLUMNS), then one line per result."""
    if fmt == "csv":
        return "".join(whitelist_csv_lines(rows=rows)).encode("utf-8")
    if fmt == "xlsx":
        return xlsx_bytes("whitelist", [key for key, _zh in WHITELIST_COLUMNS], whitelist_rows(rows=rows))
    raise InvalidInput("不支持的格式 (unsupported format)", extra={"fields": {"format": [str(fmt)]}})


INTERRUPTED_ERROR = "评分任务因后台任务中断而失败，请重新发起 (the run was interrupted; start it again)"


def scoring_run_retry_reset(*, run_id: int) -> None:
    """Before a retried task runs the run again: drop what its lost worker saved and let the run wait again, so
    the retry scores the whole registry once."""
    with transaction.atomic():
        if ScoringRun.objects.filter(pk=run_id, status=ScoringRun.Status.RUNNING).update(
            status=ScoringRun.Status.PENDING, done=0
        ):
            ScoreResult.objects.filter(run_id=run_id).delete()


def _given_up_run_ids(kwargs: dict) -> list[int]:
    """The runs of a scoring task's arguments: run_id (one run) or run_ids (runs executed together)."""
    if "run_ids" in kwargs:
        return [int(run_id) for run_id in kwargs["run_ids"]]
    return [int(kwargs["run_id"])]


def scoring_run_given_up(kwargs: dict, reason: str) -> None:
    """The run's task (or the task of runs executed together) failed for good (its worker was lost and no retry is
    left): each run still under way says so and keeps no partial results."""
    with transaction.atomic():
        interrupted = ScoringRun.objects.filter(
            pk__in=_given_up_run_ids(kwargs), status__in=(ScoringRun.Status.PENDING, ScoringRun.Status.RUNNING)
        )
        ScoreResult.objects.filter(run__in=interrupted).delete()
        interrupted.update(status=ScoringRun.Status.FAILED, finished_at=timezone.now(),
                           error=f"{INTERRUPTED_ERROR}: {reason}"[:2000])


