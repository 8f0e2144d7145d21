"""Importing enterprises and annual declarations from a CSV or XLSX file.

`import_plan` is the dry run: what would be created, updated or left unchanged, and the first changes with their
before and after values. `import_apply` is all or nothing: the whole file is validated first (pass 1, no writes);
only a file without a single error is written (pass 2, one transaction, bulk writes in chunks). Rows that change
nothing write nothing and leave no audit entry, so importing the same file twice changes nothing the second time.

Both passes stream the file in chunks of CHUNK rows, so memory does not grow with the file: the only thing kept
for the whole file is the set of keys seen (to refuse duplicate rows).
"""

import itertools
import logging
import pickle
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from twincity.accounts.selectors import user_is_admin
from twincity.core.audit import audit_entry_build, snapshot
from twincity.core.errors import ApplicationError, Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.enterprises.consistency import declaration_flags
from twincity.enterprises.fields import FIGURE_NAMES
from twincity.enterprises.importing import (
    KINDS,
    SOURCE_SUFFIX,
    VERIFIED_SUFFIX,
    FileRejected,
    ImportKind,
    Record,
    RowError,
    estimate_rows,
    file_format,
    provenance_columns,
    read_records,
)
from twincity.enterprises.models import AnnualDeclaration, Enterprise, ImportJob
from twincity.enterprises.selectors import enterprise_list_editable

logger = logging.getLogger(__name__)

CHUNK = 2000  # rows read, looked up and written together
ERRORS_KEPT = 1000  # errors remembered in full; the rest are only counted
ERRORS_SHOWN = 200  # errors returned by the API and stored on a job
CHANGES_SHOWN = 50  # changes listed by a dry run
DEFAULT_PROVENANCE = {"source": "self_declared", "verified": False}
BLANK_FIGURES = dict.fromkeys(FIGURE_NAMES)
# Profile text fields that cannot hold NULL: a blank cell stores the model's "unknown".
ENTERPRISE_BLANKS = {"district": "", "industry_code": "", "size_class": "", "industry_cluster": "other"}

ProgressCallback = Callable[[int, int], None]


def _plain(value: Any) -> Any:
    """A value as the audit trail stores it (snapshot's JSON-safe form)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class ImportRejected(InvalidInput):
    """The file has errors; nothing was written. `errors` holds the first ERRORS_KEPT, `error_count` all."""

    code = "import_rejected"

    def __init__(self, *, errors: list[RowError], error_count: int, filename: str) -> None:
        super().__init__(
            f"导入被拒绝：{filename} 中有 {error_count} 处错误，未写入任何数据 "
            f"(import rejected: {error_count} error(s) in {filename}; nothing was written)",
            extra={
                "errors": [error.as_dict() for error in errors[:ERRORS_SHOWN]],
                "error_count": error_count,
            },
        )
        self.errors = errors
        self.error_count = error_count


@dataclass
class ImportResult:
    kind: str
    filename: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged: int = 0  # declarations that fail a consistency check (stored with their flags, never refused)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Run:
    actor: Any
    kind: ImportKind
    path: Path
    filename: str
    result: ImportResult
    editable_codes: set[str] | None  # None: every company (administrators, the command line)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    seen: dict[Any, int] = field(default_factory=dict)

    @property
    def context(self) -> str:
        return f"import {self.filename}"[:255]

    def reject(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.error_count += 1
            if len(self.errors) < ERRORS_KEPT:
                self.errors.append(error)

    def preview(self, *, row: int, action: str, key: str, changes: dict[str, dict[str, Any]]) -> None:
        if len(self.result.changes) < CHANGES_SHOWN:
            self.result.changes.append({"row": row, "action": action, "object": key, "changes": changes})


# --- Access --------------------------------------------------------------------------------------------------


def import_access_check(*, actor, kind: str) -> None:
    """Administrators import anything; a company's own users only rows of their company; others nothing.

    `actor=None` is the command line acting as the system.
    """
    if kind not in KINDS:
        raise InvalidInput(f"未知的导入类型 {kind} (unknown import kind)", code="unknown_import_kind")
    if actor is None or user_is_admin(actor):
        return
    if enterprise_list_editable(user=actor).exists():
        return
    raise Forbidden("无权导入企业数据 (you may not import registry data)")


def _editable_codes(actor) -> set[str] | None:
    if actor is None or user_is_admin(actor):
        return None
    return set(enterprise_list_editable(user=actor).values_list("credit_code", flat=True))


# --- Rows ----------------------------------------------------------------------------------------------------


def _required(record: Record, name: str, errors: list[RowError]) -> None:
    if record.values.get(name) is None and not any(error.column == name for error in errors):
        errors.append(RowError(record.row, name, "", "必填项不能为空", f"{name} is required"))


def _duplicate(run: _Run, record: Record, key: Any, column: str, shown: str, errors: list[RowError]) -> None:
    first = run.seen.setdefault(key, record.row)
    if first != record.row:
        errors.append(RowError(record.row, column, shown, f"与第{first}行重复", f"duplicates row {first}"))


def _may_change(run: _Run, record: Record, code: str, errors: list[RowError]) -> bool:
    """Whether the actor may write this company's rows; a row error if not.

    The same answer whether or not the company exists, so the registry cannot be probed through imports
    (only administrators add enterprises, and they may change every one).
    """
    if run.editable_codes is None or code in run.editable_codes:
        return True
    errors.append(
        RowError(record.row, "credit_code", code, "无权修改该企业", "you may not change this enterprise")
    )
    return False


def _enterprise_chunk(run: _Run, records: tuple[Record, ...], *, write: bool) -> None:
    codes = {record.values.get("credit_code") for record in records} - {None}
    existing = {e.credit_code: e for e in Enterprise.objects.filter(credit_code__in=codes)}
    creates: list[Enterprise] = []
    updates: list[tuple[Enterprise, dict[str, Any], dict[str, Any]]] = []
    update_fields: set[str] = set()
    for record in records:
        run.result.rows += 1
        errors = list(record.errors)
        values = record.values
        code = values.get("credit_code")
        _required(record, "credit_code", errors)
        enterprise = existing.get(code) if code else None
        if code:
            _duplicate(run, record, code, "credit_code", code, errors)
            _may_change(run, record, code, errors)
        for name in ("name", "city"):
            if name in values or enterprise is None:
                _required(record, name, errors)
        if errors:
            run.reject(errors)
            continue
        profile = {
            name: ENTERPRISE_BLANKS.get(name) if value is None and name in ENTERPRISE_BLANKS else value
            for name, value in values.items()
            if name != "credit_code"
        }
        if enterprise is None:
            run.result.created += 1
            run.preview(
                row=record.row,
                action="create",
                key=code,
                changes={
                    name: {"before": None, "after": _plain(value)}
                    for name, value in profile.items()
                    if value is not None
                },
            )
            if write:
                creates.append(Enterprise(credit_code=code, **profile))
            continue
        changed = [name for name, value in profile.items() if getattr(enterprise, name) != value]
        if not changed:
            run.result.unchanged += 1
            continue
        run.result.updated += 1
        before = snapshot(enterprise, changed)
        for name in changed:
            setattr(enterprise, name, profile[name])
        after = snapshot(enterprise, changed)
        run.preview(
            row=record.row,
            action="update",
            key=code,
            changes={name: {"before": before[name], "after": after[name]} for name in changed},
        )
        if write:
            updates.append((enterprise, before, after))
            update_fields.update(changed)
    if write:
        _check_before_write(run)
        _write(run, Enterprise, creates=creates, updates=updates, update_fields=update_fields)


def _declaration_chunk(run: _Run, records: tuple[Record, ...], *, write: bool) -> None:
    codes = {record.values.get("credit_code") for record in records} - {None}
    enterprises = {
        e.credit_code: e
        for e in Enterprise.objects.filter(credit_code__in=codes).only("pk", "credit_code", "name")
    }
    by_pk = {e.pk: e for e in enterprises.values()}
    years = {record.values.get("fiscal_year") for record in records} - {None}
    existing: dict[tuple[int, int], AnnualDeclaration] = {}
    for declaration in AnnualDeclaration.objects.filter(enterprise_id__in=list(by_pk), fiscal_year__in=years):
        declaration.enterprise = by_pk[declaration.enterprise_id]  # str() needs the name; no query per row
        existing[(declaration.enterprise_id, declaration.fiscal_year)] = declaration
    submitter = run.actor.pk if getattr(run.actor, "pk", None) else None
    creates: list[AnnualDeclaration] = []
    updates: list[tuple[AnnualDeclaration, dict[str, Any], dict[str, Any]]] = []
    update_fields: set[str] = set()
    for record in records:
        run.result.rows += 1
        errors = list(record.errors)
        values = record.values
        code, year = values.get("credit_code"), values.get("fiscal_year")
        _required(record, "credit_code", errors)
        _required(record, "fiscal_year", errors)
        enterprise = enterprises.get(code) if code else None
        if code and _may_change(run, record, code, errors) and enterprise is None:
            errors.append(
                RowError(
                    record.row,
                    "credit_code",
                    code,
                    "企业库中没有该企业，请先导入企业",
                    "this enterprise is not in the registry; import it first",
                )
            )
        if code and year is not None:
            _duplicate(run, record, (code, year), "fiscal_year", str(year), errors)
        if errors:
            run.reject(errors)
            continue
        declaration = existing.get((enterprise.pk, year))
        created = declaration is None
        new = {name: values[name] for name in FIGURE_NAMES if name in values}
        figures = {**(BLANK_FIGURES if created else declaration.figures()), **new}
        provenance = {} if created else dict(declaration.provenance or {})
        for figure in provenance_columns(values):
            entry = {**DEFAULT_PROVENANCE, **provenance.get(figure, {})}
            if figure + SOURCE_SUFFIX in values:
                entry["source"] = values[figure + SOURCE_SUFFIX] or "self_declared"
            if figure + VERIFIED_SUFFIX in values:
                entry["verified"] = bool(values[figure + VERIFIED_SUFFIX])
            if entry == DEFAULT_PROVENANCE:
                provenance.pop(figure, None)
            else:
                provenance[figure] = entry
        flags = [flag.as_dict() for flag in declaration_flags(figures)]
        if flags:
            run.result.flagged += 1
        key = f"{code} {year}"
        if created:
            run.result.created += 1
            run.preview(
                row=record.row,
                action="create",
                key=key,
                changes={
                    name: {"before": None, "after": _plain(value)}
                    for name, value in new.items()
                    if value is not None
                },
            )
            if write:  # model instances are built only when written: they cost more than the checks
                creates.append(
                    AnnualDeclaration(
                        enterprise=enterprise,
                        fiscal_year=year,
                        provenance=provenance,
                        flags=flags,
                        submitted_by_id=submitter,
                        **new,
                    )
                )
            continue
        changed = [name for name, value in new.items() if getattr(declaration, name) != value]
        if provenance != (declaration.provenance or {}):
            changed.append("provenance")
        if flags != declaration.flags:
            changed.append("flags")
        if not changed:
            run.result.unchanged += 1
            continue
        run.result.updated += 1
        if submitter is not None and declaration.submitted_by_id != submitter:
            changed.append("submitted_by_id")
        before = snapshot(declaration, changed)
        for name, value in new.items():
            setattr(declaration, name, value)
        declaration.provenance, declaration.flags = provenance, flags
        if submitter is not None:
            declaration.submitted_by_id = submitter
        after = snapshot(declaration, changed)
        run.preview(
            row=record.row,
            action="update",
            key=key,
            changes={name: {"before": before[name], "after": after[name]} for name in changed},
        )
        if write:
            updates.append((declaration, before, after))
            update_fields.update("submitted_by" if name == "submitted_by_id" else name for name in changed)
    if write:
        _check_before_write(run)
        _write(run, AnnualDeclaration, creates=creates, updates=updates, update_fields=update_fields)


def _check_before_write(run: _Run) -> None:
    # Pass 1 found no error; finding one now means the registry changed in between. Roll everything back.
    if run.error_count:
        raise ImportRejected(errors=run.errors, error_count=run.error_count, filename=run.filename)


def _write(run: _Run, model, *, creates: list, updates: list, update_fields: set[str]) -> None:
    entries: list[AuditEntry | None] = []
    if creates:
        model.objects.bulk_create(creates, batch_size=CHUNK)  # sets pk on SQLite ≥ 3.35 and PostgreSQL
        entries += [
            audit_entry_build(
                actor=run.actor,
                action=AuditEntry.Action.CREATE,
                instance=obj,
                before=None,
                after=snapshot(obj),
                context=run.context,
            )
            for obj in creates
        ]
    if updates:
        now = timezone.now()
        objects = [obj for obj, _before, _after in updates]
        for obj in objects:
            obj.updated_at = now  # bulk_update does not touch auto_now fields
        model.objects.bulk_update(objects, fields=sorted(update_fields | {"updated_at"}), batch_size=500)
        entries += [
            audit_entry_build(
                actor=run.actor,
                action=AuditEntry.Action.UPDATE,
                instance=obj,
                before=before,
                after=after,
                context=run.context,
            )
            for obj, before, after in updates
        ]
    AuditEntry.objects.bulk_create([entry for entry in entries if entry is not None], batch_size=CHUNK)


# --- Passes --------------------------------------------------------------------------------------------------


def _walk(
    *,
    actor,
    kind: ImportKind,
    path: Path,
    filename: str,
    dry_run: bool,
    write: bool,
    on_progress: ProgressCallback | None,
    offset: int,
    total: int,
    records: Iterable[Record] | None = None,
    spool: IO[bytes] | None = None,
) -> _Run:
    """One pass over the file (or over `records` spooled by an earlier pass), chunk by chunk."""
    run = _Run(
        actor=actor,
        kind=kind,
        path=path,
        filename=filename,
        result=ImportResult(kind=kind, filename=filename, dry_run=dry_run),
        editable_codes=_editable_codes(actor),
    )
    handle_chunk = _enterprise_chunk if kind == "enterprises" else _declaration_chunk
    try:
        source = read_records(kind, path, filename) if records is None else records
        for chunk in itertools.batched(source, CHUNK):
            handle_chunk(run, chunk, write=write)
            if spool is not None:
                pickle.dump(chunk, spool, protocol=pickle.HIGHEST_PROTOCOL)
            if on_progress:
                done = offset + run.result.rows
                on_progress(done, max(total, done))
    except FileRejected as exc:
        run.reject(exc.errors)
    if run.error_count:
        raise ImportRejected(errors=run.errors, error_count=run.error_count, filename=filename)
    return run


def import_plan(
    *, actor, kind: ImportKind, path: Path | str, filename: str, on_progress: ProgressCallback | None = None
) -> ImportResult:
    """The dry run: validate the whole file and count what would change. Writes nothing.

    Raises ImportRejected with every row error when the file could not be imported.
    """
    import_access_check(actor=actor, kind=kind)
    path = Path(path)
    estimate = _estimate(path, filename)
    run = _walk(
        actor=actor,
        kind=kind,
        path=path,
        filename=filename,
        dry_run=True,
        write=False,
        on_progress=on_progress,
        offset=0,
        total=estimate,
    )
    if on_progress:
        on_progress(run.result.rows, run.result.rows)
    return run.result


def import_apply(
    *, actor, kind: ImportKind, path: Path | str, filename: str, on_progress: ProgressCallback | None = None
) -> ImportResult:
    """Import the file, all or nothing. Progress counts each row twice: once validated, once written."""
    import_access_check(actor=actor, kind=kind)
    path = Path(path)
    estimate = _estimate(path, filename)
    # Pass 1 keeps the parsed records in a temporary file, so pass 2 does not read and convert the file again.
    with tempfile.TemporaryFile(prefix="twincity-import-") as spool:
        checked = _walk(
            actor=actor,
            kind=kind,
            path=path,
            filename=filename,
            dry_run=False,
            write=False,
            on_progress=on_progress,
            offset=0,
            total=2 * estimate,
            spool=spool,
        )
        rows = checked.result.rows
        if not (checked.result.created or checked.result.updated):
            if on_progress:
                on_progress(2 * rows, 2 * rows)
            return checked.result  # nothing to write: not even a transaction
        with transaction.atomic():
            written = _walk(
                actor=actor,
                kind=kind,
                path=path,
                filename=filename,
                dry_run=False,
                write=True,
                on_progress=on_progress,
                offset=rows,
                total=2 * rows,
                records=_spooled(spool),
            )
    return written.result


def _spooled(spool: IO[bytes]) -> Iterator[Record]:
    spool.seek(0)
    while True:
        try:
            yield from pickle.load(spool)  # our own file, written by pass 1 a moment ago
        except EOFError:
            return


def _estimate(path: Path, filename: str) -> int:
    try:
        return estimate_rows(path, file_format(filename))
    except FileRejected:
        return 1


# --- Jobs of the import page ---------------------------------------------------------------------------------


def _progress_key(job_id: int) -> str:
    return f"import-job-progress:{job_id}"


def import_job_create(*, actor, kind: str, upload, dry_run: bool) -> ImportJob:
    """Store the uploaded file under MEDIA_ROOT/imports/ and queue a job for it (not started yet)."""
    import_access_check(actor=actor, kind=kind)
    try:
        fmt = file_format(upload.name or "")
    except FileRejected as exc:
        raise ImportRejected(
            errors=exc.errors, error_count=len(exc.errors), filename=upload.name or ""
        ) from None
    stored = default_storage.save(f"imports/{uuid.uuid4().hex}.{fmt}", upload)
    return ImportJob.objects.create(
        created_by=actor,
        kind=kind,
        filename=Path(upload.name).name[:255],
        stored_path=stored,
        dry_run=dry_run,
    )


def import_job_repeat(*, actor, job: ImportJob) -> ImportJob:
    """A real import of a file that was previewed, without uploading it again."""
    if job.created_by_id != getattr(actor, "pk", None):
        raise Forbidden("只能导入自己上传的文件 (you may import only files you uploaded)")
    import_access_check(actor=actor, kind=job.kind)
    return ImportJob.objects.create(
        created_by=actor, kind=job.kind, filename=job.filename, stored_path=job.stored_path, dry_run=False
    )


def import_job_start(*, job: ImportJob) -> None:
    """Run the job inline (settings.IMPORT_RUN_INLINE, used by tests) or in a background thread.

    Why a thread: this project deploys no task worker (django.tasks runs on the Immediate backend), and a
    100,000-row file takes longer than a request should. The job row is the source of truth: the page polls it,
    and a job is claimed (pending → running) exactly once. A thread dies with its process; a job left "running"
    by a restart has to be uploaded again (see import_job_progress for how that shows).
    """
    if getattr(settings, "IMPORT_RUN_INLINE", False):
        import_job_run(job_id=job.pk)
        return
    transaction.on_commit(
        lambda: threading.Thread(
            target=_run_in_thread, args=(job.pk,), name=f"import-job-{job.pk}", daemon=True
        ).start()
    )


def _run_in_thread(job_id: int) -> None:
    try:
        import_job_run(job_id=job_id)
    finally:
        connection.close()  # this thread's own connection


def import_job_run(*, job_id: int) -> None:
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING, updated_at=timezone.now()
    )
    if claimed != 1:
        return
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    saved_at = [0.0]

    def on_progress(done: int, total: int) -> None:
        # The write phase runs inside one transaction, which other connections cannot see (and on SQLite, which
        # they cannot write past): progress goes to the cache, and to the job row whenever it can be committed.
        cache.set(_progress_key(job_id), (done, total), timeout=24 * 3600)
        if not connection.in_atomic_block and time.monotonic() - saved_at[0] > 0.5:
            ImportJob.objects.filter(pk=job_id).update(done=done, total=total, updated_at=timezone.now())
            saved_at[0] = time.monotonic()

    try:
        if job.created_by is None:  # never run as the system on behalf of a deleted account
            raise Forbidden("上传者的账户已不存在 (the uploader's account no longer exists)")
        service = import_plan if job.dry_run else import_apply
        result = service(
            actor=job.created_by,
            kind=job.kind,
            path=default_storage.path(job.stored_path),
            filename=job.filename,
            on_progress=on_progress,
        )
        job.status, job.result = ImportJob.Status.DONE, result.as_dict()
        job.total = job.done = result.rows * (1 if job.dry_run else 2)
    except ImportRejected as exc:
        job.status = ImportJob.Status.REJECTED
        job.result = {"message": exc.message, **exc.extra}
    except ApplicationError as exc:
        job.status = ImportJob.Status.REJECTED
        job.result = {"message": exc.message, "errors": [], "error_count": 0}
    except Exception:
        logger.exception("import job %s failed", job_id)
        job.status = ImportJob.Status.FAILED
        job.result = {
            "message": "导入失败，未写入任何数据；请联系管理员 (the import failed; nothing was written)"
        }
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "result", "done", "total", "finished_at", "updated_at"])
    cache.delete(_progress_key(job_id))


def import_job_progress(job: ImportJob) -> tuple[int, int]:
    """(done, total) of a job: the cache while it runs (see on_progress above), else the row."""
    if not job.is_finished:
        cached = cache.get(_progress_key(job.pk))
        if cached:
            return cached
    return job.done, job.total


# Reads of import jobs (kept beside the jobs so the import work stays in its own files).


def import_job_get_visible(*, user, job_id: int) -> ImportJob | None:
    """A job is seen by the person who uploaded it, and by administrators."""
    jobs = ImportJob.objects.select_related("created_by")
    if not user_is_admin(user):
        jobs = jobs.filter(created_by_id=getattr(user, "pk", None) or -1)
    return jobs.filter(pk=job_id).first()


def import_job_list_recent(*, user, limit: int = 10) -> list[ImportJob]:
    return list(ImportJob.objects.filter(created_by_id=getattr(user, "pk", None) or -1)[:limit])


def import_jobs_interrupted_fail(*, started_before) -> int:
    """Mark the jobs that a stopped process left waiting or running as failed, saying why, so their pages
    stop polling and the person knows to upload again. Nothing of such a job was written: an import
    writes in one transaction."""
    return ImportJob.objects.filter(
        status__in=(ImportJob.Status.PENDING, ImportJob.Status.RUNNING), created_at__lt=started_before
    ).update(
        status=ImportJob.Status.FAILED,
        finished_at=timezone.now(),
        result={"message": "导入因服务重启而中断，未写入任何数据，请重新上传 (interrupted by a restart; nothing was "
                           "written; please upload the file again)"},
    )
