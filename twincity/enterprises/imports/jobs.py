"""The jobs of the import page: an uploaded file, who sent it, how far it got and what came of it.

A job row is the source of truth for the page that polls it. `tasks.import_job_start` hands the job to a worker
as a task (twincity.enterprises.tasks, which calls in here: this module does not import it); `import_job_run`
claims it exactly once (pending → running) and records the
outcome, whatever happens. A job whose worker was lost is retried (nothing of it was written: an import writes in
one transaction) or, once no retry is left, marked failed with the reason (`import_job_given_up`).
"""

import logging
import time
import uuid
from pathlib import Path
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from twincity.core.access import require
from twincity.core.errors import ApplicationError, Forbidden, TooLarge
from twincity.enterprises.imports.files import FileRejected, ImportKind, file_format
from twincity.enterprises.imports.service import ImportRejected, import_access_check, import_apply, import_plan
from twincity.enterprises.models import ImportJob

logger = logging.getLogger(__name__)


def _progress_key(job_id: int) -> str:
    return f"import-job-progress:{job_id}"


def upload_check_size(upload) -> None:
    """Refuse a file larger than settings.IMPORT_MAX_BYTES with a clear 413."""
    limit = settings.IMPORT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise TooLarge(f"文件过大：最大 {limit // (1024 * 1024)} MB (the file is too large: at most "
                       f"{limit // (1024 * 1024)} MB)", extra={"max_bytes": limit, "size": upload.size})


def import_job_create(*, actor, kind: str, upload, dry_run: bool) -> ImportJob:
    """Store the uploaded file under MEDIA_ROOT/imports/ and queue a job for it (not started yet)."""
    import_access_check(actor=actor, kind=kind)
    upload_check_size(upload)
    try:
        fmt = file_format(upload.name or "")
    except FileRejected as exc:
        raise ImportRejected(errors=exc.errors, error_count=len(exc.errors), filename=upload.name or "") from None
    stored = default_storage.save(f"imports/{uuid.uuid4().hex}.{fmt}", upload)
    return ImportJob.objects.create(created_by=actor, kind=kind, filename=Path(upload.name).name[:255],
                                    stored_path=stored, dry_run=dry_run)


def import_job_repeat(*, actor, job: ImportJob) -> ImportJob:
    """A real import of a file that was previewed, without uploading it again."""
    require(job.created_by_id == getattr(actor, "pk", None),
            "只能导入自己上传的文件 (you may import only files you uploaded)")
    import_access_check(actor=actor, kind=job.kind)
    return ImportJob.objects.create(created_by=actor, kind=job.kind, filename=job.filename,
                                    stored_path=job.stored_path, dry_run=False)


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
        kind = cast(ImportKind, job.kind)  # ImportJob.Kind's values; the stubs type a choices field as str
        result = service(actor=job.created_by, kind=kind, path=default_storage.path(job.stored_path),
                         filename=job.filename, on_progress=on_progress)
        job.status, job.result = ImportJob.Status.DONE, result.as_dict()
        job.total = job.done = result.rows * (1 if job.dry_run else 2)
    except ImportRejected as exc:
        job.status = ImportJob.Status.REJECTED
        job.result = {"message": exc.message, **exc.extra}
    except ApplicationError as exc:
        job.status = ImportJob.Status.REJECTED
        job.result = {"message": exc.message, "errors": [], "error_count": 0}
    except Exception:  # noqa: BLE001 — any other failure is logged and shown; nothing was written
        logger.exception("import job %s failed", job_id)
        job.status = ImportJob.Status.FAILED
        job.result = {"message": "导入失败，未写入任何数据；请联系管理员 (the import failed; nothing was written)"}
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


INTERRUPTED_MESSAGE = ("导入因后台任务中断而失败，未写入任何数据，请重新上传 (the import was interrupted; nothing was "
                       "written; please upload the file again)")


def import_job_retry_reset(*, job_id: int) -> None:
    """Before a retried task runs the job again: a job its lost worker left running waits again (nothing of it
    was written, an import writes in one transaction)."""
    ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.RUNNING).update(
        status=ImportJob.Status.PENDING, updated_at=timezone.now()
    )


def import_job_given_up(kwargs: dict, reason: str) -> None:
    """The job's task failed for good (its worker was lost and no retry is left): the job says so."""
    ImportJob.objects.filter(
        pk=int(kwargs["job_id"]), status__in=(ImportJob.Status.PENDING, ImportJob.Status.RUNNING)
    ).update(status=ImportJob.Status.FAILED, finished_at=timezone.now(),
             result={"message": INTERRUPTED_MESSAGE, "reason": reason[:500]})
