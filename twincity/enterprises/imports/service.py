"""Importing enterprises and annual declarations from a CSV or XLSX file.

`import_plan` is the dry run: what would be created, updated or left unchanged, and the first changes with
their before and after values. `import_apply` is all or nothing: the whole file is checked first (pass 1, no
writes); only a file without a single error is written (pass 2, one transaction, bulk writes in chunks). Rows
that change nothing write nothing and leave no audit entry, so importing the same file twice changes nothing
the second time.

Both passes stream the file in chunks of CHUNK rows, so memory does not grow with the file: the only thing kept
for the whole file is the set of keys seen (to refuse duplicate rows).
"""

import gc
import itertools
import logging
import os
import pickle
import tempfile
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction

from twincity.core.access import require
from twincity.core.errors import InvalidInput
from twincity.core.processes import process_pool
from twincity.enterprises import access
from twincity.enterprises.imports.files import (
    KINDS,
    FileRejected,
    ImportKind,
    Record,
    RowError,
    estimate_rows,
    file_format,
    read_records,
)
from twincity.enterprises.imports.rows import (
    CHANGES_SHOWN,
    ImportResult,
    Walk,
    declaration_apply,
    declaration_parse,
    enterprise_apply,
    enterprise_parse,
)
from twincity.enterprises.services import (
    DeclarationPlan,
    DeclarationWrites,
    declarations_companies,
    declarations_fingerprint,
    declarations_writes,
    declarations_writes_store,
)

logger = logging.getLogger(__name__)

CHUNK = 2000  # rows read, looked up and written together
ERRORS_SHOWN = 200  # errors returned by the API and stored on a job

ProgressCallback = Callable[[int, int], None]


class ImportRejected(InvalidInput):
    """The file has errors; nothing was written. `errors` holds the first ones, `error_count` all."""

    code = "import_rejected"

    def __init__(self, *, errors: list[RowError], error_count: int, filename: str) -> None:
        errors = sorted(errors, key=lambda error: error.row)  # cell errors and refusals, in the file's order
        super().__init__(
            f"导入被拒绝：{filename} 中有 {error_count} 处错误，未写入任何数据 "
            f"(import rejected: {error_count} error(s) in {filename}; nothing was written)",
            extra={"errors": [error.as_dict() for error in errors[:ERRORS_SHOWN]], "error_count": error_count},
        )
        self.errors = errors
        self.error_count = error_count


def import_access_check(*, actor, kind: str) -> None:
    """Administrators import anything; a company's own users rows of their company; others nothing.
    `actor=None` is the command line acting as the platform itself."""
    if kind not in KINDS:
        raise InvalidInput(f"未知的导入类型 {kind} (unknown import kind)", code="unknown_import_kind")
    if actor is not None:
        require(access.can_import(actor), "无权导入企业数据 (you may not import registry data)")


def _walk(*, actor, kind: ImportKind, path: Path, filename: str, dry_run: bool, write: bool,
          on_progress: ProgressCallback | None, offset: int, total: int, parsed: Iterable[list] | None = None,
          spool: IO[bytes] | None = None) -> Walk:
    """One pass over the file, chunk by chunk: each chunk's cells are cleaned, then handed to the write path
    (which checks access and merges with the stored rows, writing only when `write`). Pass 2 of an import gives
    the chunks pass 1 cleaned (`parsed`, from its spool) instead of the file."""
    walk = Walk(actor=actor, kind=kind, filename=filename, system=actor is None,
                result=ImportResult(kind=kind, filename=filename, dry_run=dry_run))
    parse, apply = (enterprise_parse, enterprise_apply) if kind == "enterprises" else (declaration_parse,
                                                                                         declaration_apply)
    try:
        if parsed is None:
            chunks: Iterable[list] = (parse(walk, records)
                                      for records in itertools.batched(read_records(kind, path, filename), CHUNK))
        else:
            chunks = parsed
        for index, chunk in enumerate(chunks):
            if parsed is not None:  # pass 2: what pass 1 spooled of the chunk
                _store_chunk(walk, path, index, chunk)
                _progress(walk, on_progress, offset, total)
                continue
            planned = apply(walk, chunk, write=write)
            if write and walk.error_count:
                raise ImportRejected(errors=walk.errors, error_count=walk.error_count, filename=filename)
            if spool is not None:
                entry: object = chunk
                if planned is not None and not planned.refused:
                    # What pass 2 writes, worked out now; pass 2 only checks that nobody changed its rows since.
                    entry = PlannedChunk.of(actor, len(chunk), planned)
                pickle.dump(entry, spool, protocol=pickle.HIGHEST_PROTOCOL)
            _progress(walk, on_progress, offset, total)
    except FileRejected as exc:
        walk.reject(exc.errors)
    if walk.error_count:
        raise ImportRejected(errors=walk.errors, error_count=walk.error_count, filename=filename)
    return walk


def _store_chunk(walk: Walk, path: Path, index: int, chunk: object) -> None:
    """Pass 2 of one chunk, inside the import's transaction: a declarations chunk pass 1 planned is written as
    planned while the rows and companies its plan read are unchanged, else read from the file and planned again
    here; an enterprises chunk (pass 1's cleaned rows) is handed to the write path."""
    kind, actor, filename = walk.kind, walk.actor, walk.filename
    if isinstance(chunk, PlannedChunk):
        if chunk.still_valid():
            if chunk.writes:
                declarations_writes_store(actor=actor, context=walk.context, writes=chunk.writes)
            chunk.count(walk.result)
            return
        # Someone changed its rows (or its companies) in between: read and plan it again.
        chunk = declaration_parse(walk, _file_chunk(kind, path, filename, index))
    else:
        walk.result.rows += len(chunk)  # type: ignore[arg-type]
    apply = enterprise_apply if kind == "enterprises" else declaration_apply
    apply(walk, chunk, write=True)  # type: ignore[arg-type]
    if walk.error_count:
        # Pass 1 found no error; finding one now means the registry changed in between. Roll back.
        raise ImportRejected(errors=walk.errors, error_count=walk.error_count, filename=filename)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a file is walked. An import allocates millions of small objects
    that die young without cycles (cells, decimals, row dicts), and the collector's passes over them cost about
    a fifth of the import's CPU time (measured: 4.8 of 20.6 CPU seconds for a 20,000-row file). The few cycles
    made meanwhile are collected afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def import_plan(*, actor, kind: ImportKind, path: Path | str, filename: str,
                on_progress: ProgressCallback | None = None) -> ImportResult:
    """The dry run: validate the whole file and count what would change. Writes nothing.

    Raises ImportRejected with every row error when the file could not be imported.
    """
    import_access_check(actor=actor, kind=kind)
    path = Path(path)
    with _collector_paused():
        return _plan(actor=actor, kind=kind, path=path, filename=filename, on_progress=on_progress)


def _plan(*, actor, kind: ImportKind, path: Path, filename: str, on_progress: ProgressCallback | None
          ) -> ImportResult:
    walk = _walk(actor=actor, kind=kind, path=path, filename=filename, dry_run=True, write=False,
                 on_progress=on_progress, offset=0, total=_estimate(path, filename))
    if on_progress:
        on_progress(walk.result.rows, walk.result.rows)
    return walk.result


def import_apply(*, actor, kind: ImportKind, path: Path | str, filename: str,
                 on_progress: ProgressCallback | None = None) -> ImportResult:
    """Import the file, all or nothing. Progress counts each row twice: once checked, once written."""
    import_access_check(actor=actor, kind=kind)
    with _collector_paused():
        return _apply(actor=actor, kind=kind, path=Path(path), filename=filename, on_progress=on_progress)


def _apply(*, actor, kind: ImportKind, path: Path, filename: str, on_progress: ProgressCallback | None
           ) -> ImportResult:
    estimate = _estimate(path, filename)
    planners = _planners(kind, estimate)
    if planners > 1 and _pipelined():
        pipelined = _apply_pipelined(actor=actor, kind=kind, path=path, filename=filename, on_progress=on_progress,
                                     total=2 * estimate, planners=planners)
        if pipelined is not None:
            return pipelined
        planners = 1  # the file has an error (or the workers could not plan it): pass 1 here finds it
    # Pass 1 keeps the parsed records in a temporary file, so pass 2 does not read the file again.
    with tempfile.TemporaryFile(prefix="twincity-import-") as spool:
        checked = None
        if planners > 1:
            checked = _walk_parallel(actor=actor, kind=kind, path=path, filename=filename, on_progress=on_progress,
                                     total=2 * estimate, spool=spool, planners=planners)
        if checked is None:  # one planner, or the file has errors: pass 1 here, row by row, as always
            spool.seek(0)
            spool.truncate()
            checked = _walk(actor=actor, kind=kind, path=path, filename=filename, dry_run=False, write=False,
                            on_progress=on_progress, offset=0, total=2 * estimate, spool=spool)
        rows = checked.result.rows
        if not (checked.result.created or checked.result.updated):
            if on_progress:
                on_progress(2 * rows, 2 * rows)
            return checked.result  # nothing to write: not even a transaction
        with transaction.atomic():
            written = _walk(actor=actor, kind=kind, path=path, filename=filename, dry_run=False, write=True,
                            on_progress=on_progress, offset=rows, total=2 * rows, parsed=_spooled(spool))
    return written.result


# --- pass 1 on several cores ----------------------------------------------------------------------------------
#
# Pass 1 of a large declarations import plans its chunks in worker processes (each chunk is independent: it reads
# its own stored rows and companies, and pass 2 checks that nobody changed them since). The parent reads the file,
# hands out the chunks, and takes the plans back in the file's order, spooling them as pass 1 here would. Only a
# clean file is planned this way: the first chunk with an error, or a row that repeats a row of another chunk,
# stops the workers and pass 1 runs again here, row by row, so a rejected file gives exactly the errors it always
# gave.


def _planners(kind: ImportKind, estimate: int) -> int:
    """How many worker processes plan pass 1 of this import: settings.IMPORT_PLANNERS (default: the cores, at most
    2) for a declarations file of at least settings.IMPORT_PARALLEL_ROWS rows; 1 (none: pass 1 runs here) for a
    smaller file, inside a transaction (workers would not see its rows) or on an in-memory database."""
    planners = int(getattr(settings, "IMPORT_PLANNERS", 1))
    if (planners < 2 or kind != "declarations" or estimate < int(getattr(settings, "IMPORT_PARALLEL_ROWS", 10_000))
            or connection.in_atomic_block
            or (connection.vendor == "sqlite" and connection.is_in_memory_db())):  # type: ignore[attr-defined]
        return 1
    return planners


@dataclass(frozen=True, slots=True)
class _ChunkPlan:
    """What a worker gives back for a chunk: its spool entry (pickled), its counts and first changes, how many
    errors it found, and the keys of its rows with their row numbers (rows repeated across chunks)."""

    spooled: bytes
    result: ImportResult
    error_count: int
    seen: list[tuple[Any, int]]


def _chunk_plan(actor, kind: ImportKind, filename: str, records: list) -> _ChunkPlan:
    """Pass 1 of one chunk, in a worker: what `_walk` does with it, in a walk of its own. `records`: the chunk's
    records, a record without errors as its (row, cells) pair."""
    records = [Record(*record) if type(record) is tuple else record for record in records]
    walk = Walk(actor=actor, kind=kind, filename=filename, system=actor is None,
                result=ImportResult(kind=kind, filename=filename, dry_run=False))
    with _collector_paused():
        parsed = declaration_parse(walk, records)
        planned = declaration_apply(walk, parsed, write=False)
        entry: object = parsed if planned.refused else PlannedChunk.of(actor, len(parsed), planned)
        spooled = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
    return _ChunkPlan(spooled, walk.result, walk.error_count, list(walk.seen.items()))


def _pipelined() -> bool:
    """Whether an import whose pass 1 is planned by worker processes writes each chunk as soon as it is planned
    (inside the import's one transaction) rather than after the whole file is planned: settings.IMPORT_PIPELINE,
    by default on PostgreSQL only. There the transaction locks only the rows it writes; on SQLite it would hold
    the database's one write lock through pass 1 too."""
    pipeline = getattr(settings, "IMPORT_PIPELINE", None)
    return connection.vendor == "postgresql" if pipeline is None else bool(pipeline)


class _Fallback(Exception):
    """The pipelined import cannot finish as planned (an error in the file, a worker that could not plan): roll
    back what it wrote and import the file the ordinary way."""


class _SinkFailed(Exception):
    """Writing a planned chunk failed: the cause is the import's own error, not the workers'."""


class _ChunkWriter:
    """Pass 2 of a pipelined import: takes the planned chunks in the file's order, while the workers plan the
    next ones, and stores each inside the import's transaction as pass 2 would (`_store_chunk`: written as planned
    while what its plan read is unchanged, else planned again here). Chunks that write nothing are held until the
    first one that writes: a file that changes nothing (a re-import) is then never checked again nor written,
    as `_apply` does with it."""

    def __init__(self, *, actor, kind: ImportKind, path: Path, filename: str) -> None:
        self.path = path
        self.walk = Walk(actor=actor, kind=kind, filename=filename, system=actor is None,
                         result=ImportResult(kind=kind, filename=filename, dry_run=False))
        self.held: list[tuple[int, PlannedChunk]] = []
        self.writing = False

    @property
    def rows(self) -> int:
        return self.walk.result.rows

    def take(self, index: int, spooled: bytes) -> None:
        chunk = pickle.loads(spooled)
        if not self.writing:
            if isinstance(chunk, PlannedChunk) and not chunk.writes:
                self.held.append((index, chunk))
                return
            self.writing = True
            for held_index, held in self.held:
                _store_chunk(self.walk, self.path, held_index, held)
            self.held = []
        _store_chunk(self.walk, self.path, index, chunk)


def _apply_pipelined(*, actor, kind: ImportKind, path: Path, filename: str, on_progress: ProgressCallback | None,
                     total: int, planners: int) -> ImportResult | None:
    """`_apply` with pass 1 planned by worker processes and pass 2 writing each planned chunk meanwhile, in one
    transaction: the same checks, rows and audit entries as the two passes one after the other. None (nothing
    written) when the file has an error or the workers could not plan it."""
    writer = _ChunkWriter(actor=actor, kind=kind, path=path, filename=filename)
    try:
        with transaction.atomic():
            checked = _walk_parallel(actor=actor, kind=kind, path=path, filename=filename, on_progress=on_progress,
                                     total=total, spool=None, planners=planners, sink=writer)
            if checked is None:
                raise _Fallback
    except _Fallback:
        return None
    rows = checked.result.rows
    if on_progress:
        on_progress(2 * rows, 2 * rows)
    # Nothing to write (no chunk wrote): pass 1's counts, as `_apply` gives them without a pass 2.
    return writer.walk.result if writer.writing else checked.result


def _walk_parallel(*, actor, kind: ImportKind, path: Path, filename: str, on_progress: ProgressCallback | None,
                   total: int, spool: IO[bytes] | None, planners: int | None = None,
                   sink: _ChunkWriter | None = None) -> Walk | None:
    """Pass 1 of `_apply` with its chunks planned by worker processes, spooled (or, with `sink`, handed to it in
    the file's order as they come). None when the file has an error (or a worker could not run): the caller then
    runs pass 1 itself."""
    if planners is None:
        planners = _planners(kind, total // 2)
    walk = Walk(actor=actor, kind=kind, filename=filename, system=actor is None,
                result=ImportResult(kind=kind, filename=filename, dry_run=False))
    result = walk.result
    try:
        pool = process_pool(planners, preload=(__name__,))
    except OSError:
        return None
    try:
        chunks = itertools.batched(read_records(kind, path, filename), CHUNK)
        pending: deque = deque()
        # The workers take a moment to start (Python, then Django): meanwhile this process plans the first chunks.
        started = [pool.submit(os.getpid) for _ in range(planners)]

        def submit() -> None:
            records = next(chunks, None)
            if records is None:
                return
            if pending or all(future.done() for future in started):
                # (row, cells) pairs: the records' own pickling costs twice as much
                pending.append(pool.submit(_chunk_plan, actor, kind, filename,
                                           [record if record.errors else (record.row, record.values)
                                            for record in records]))
            else:
                done: Future = Future()
                done.set_result(_chunk_plan(actor, kind, filename, list(records)))
                pending.append(done)

        submit()
        index = 0
        while pending:
            planned: _ChunkPlan = pending.popleft().result()
            for _ in range(2 * planners - len(pending)):
                submit()
            if planned.error_count:
                return None
            for key, row in planned.seen:
                if walk.seen.setdefault(key, row) != row:  # the same row as one of another chunk
                    return None
            if sink is not None:
                try:
                    sink.take(index, planned.spooled)
                except Exception as exc:
                    raise _SinkFailed from exc
                index += 1
            else:
                assert spool is not None
                spool.write(planned.spooled)
            chunk = planned.result
            result.rows += chunk.rows
            result.created += chunk.created
            result.updated += chunk.updated
            result.unchanged += chunk.unchanged
            result.flagged += chunk.flagged
            result.changes.extend(chunk.changes[:max(0, CHANGES_SHOWN - len(result.changes))])
            if on_progress:
                done = result.rows + (sink.rows if sink is not None else 0)
                on_progress(done, max(total, done))
    except (FileRejected, BrokenProcessPool):
        return None
    except _SinkFailed as exc:  # the import's own error (e.g. rejected in pass 2): the caller's
        assert exc.__cause__ is not None
        raise exc.__cause__ from None
    except Exception:  # noqa: BLE001 — e.g. an actor that cannot be sent to a worker: pass 1 here says what is wrong
        logger.warning("pass 1 of import %s in worker processes failed; checking it here instead", filename,
                       exc_info=True)
        return None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return walk


def _progress(walk: Walk, on_progress: ProgressCallback | None, offset: int, total: int) -> None:
    if on_progress:
        done = offset + walk.result.rows
        on_progress(done, max(total, done))


@dataclass(frozen=True, slots=True)
class PlannedChunk:
    """What pass 1 spools of a declarations chunk: its counts and first changes, what storing it writes (nothing,
    for most of a re-import), and what its plan read — the keys and fingerprint of the stored rows, and the
    companies (id, name, organisation) — so pass 2 can tell that nobody changed them since. Only primitives."""

    rows: int
    created: int
    updated: int
    unchanged: int
    flagged: int
    changes: list[dict]
    keys: list[tuple[int, int]]
    fingerprint: frozenset
    companies: frozenset
    writes: DeclarationWrites

    @classmethod
    def of(cls, actor, rows: int, plan: DeclarationPlan) -> "PlannedChunk":
        actions = Counter(outcome.action for outcome in plan.outcomes)
        changes = [{"row": o.row, "action": o.action, "object": o.key, "changes": o.changes}
                   for o in itertools.islice((o for o in plan.outcomes if o.action in ("create", "update")),
                                             CHANGES_SHOWN)]
        return cls(rows=rows, created=actions["create"], updated=actions["update"], unchanged=actions["unchanged"],
                   flagged=sum(o.flagged for o in plan.outcomes), changes=changes, keys=plan.keys,
                   fingerprint=plan.fingerprint, companies=frozenset(plan.companies.items()),
                   writes=declarations_writes(actor=actor, plan=plan))

    def still_valid(self) -> bool:
        return (declarations_fingerprint(self.keys) == self.fingerprint
                and declarations_companies({pk for pk, _ in self.companies}) == dict(self.companies))

    def count(self, result: ImportResult) -> None:
        result.rows += self.rows
        result.created += self.created
        result.updated += self.updated
        result.unchanged += self.unchanged
        result.flagged += self.flagged
        result.changes.extend(self.changes[:max(0, CHANGES_SHOWN - len(result.changes))])


def _file_chunk(kind: ImportKind, path: Path, filename: str, index: int) -> tuple:
    """The records of the index-th chunk of the file (pass 2, when a chunk must be planned again)."""
    return next(itertools.islice(itertools.batched(read_records(kind, path, filename), CHUNK), index, None))


def _spooled(spool: IO[bytes]) -> Iterator[list]:
    spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)  # our own file, written by pass 1 a moment ago: one cleaned chunk
        except EOFError:
            return


def _estimate(path: Path, filename: str) -> int:
    try:
        return estimate_rows(path, file_format(filename))
    except FileRejected:
        return 1
