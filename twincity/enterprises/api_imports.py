"""Import endpoints: a CSV or XLSX file in, counts out (or every row error, and nothing written)."""

import tempfile
from pathlib import Path
from typing import Any, Literal

from django.http import HttpResponse
from ninja import File, Router, Schema
from ninja.files import UploadedFile

from twincity.core.api import errors
from twincity.enterprises.imports import import_access_check, import_apply, import_plan, template_csv
from twincity.enterprises.imports.files import FileRejected, file_format
from twincity.enterprises.imports.jobs import upload_check_size

router = Router(tags=["imports 导入"])

KindPath = Literal["enterprises", "declarations"]


class ImportResultOut(Schema):
    kind: str
    filename: str
    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    flagged: int
    changes: list[dict[str, Any]]


@router.post(
    "/{kind}",
    response={200: ImportResultOut, **errors(401, 403, 413, 422)},
    summary="Import a CSV or XLSX file of enterprises or declarations",
    description=(
        "All or nothing: a file with any invalid row is refused with 422, code `import_rejected`, and "
        "`extra.errors` = [{row, column, value, reason_zh, reason_en}] (first 200; `extra.error_count` counts "
        "all); nothing is written. `dry_run=true` only counts what would change. A blank cell changes nothing; "
        "a cell holding 清空 (or `clear`) clears the stored value. Files above the upload limit answer 413. "
        "Runs synchronously: the web page runs large files in the background instead."
    ),
)
def import_api(request, kind: KindPath, file: File[UploadedFile], dry_run: bool = False):
    import_access_check(actor=request.user, kind=kind)
    upload_check_size(file)
    filename = Path(file.name or "upload").name
    try:
        suffix = "." + file_format(filename)
    except FileRejected:
        suffix = ""  # the service refuses the file with the usual error shape
    service = import_plan if dry_run else import_apply
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
        for chunk in file.chunks():
            copy.write(chunk)
        copy.flush()
        return service(actor=request.user, kind=kind, path=copy.name, filename=filename).as_dict()


@router.get("/template/{kind}", response={200: None, **errors()},
            summary="The CSV template of a kind (header `name (中文标签)` and one example row)",
            openapi_extra={"responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {
                "type": "string", "description": "UTF-8 CSV: the header row and one example row"}}}}}})
def import_template_api(request, kind: KindPath):
    response = HttpResponse(template_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response
