"""The import page: upload a CSV or XLSX file, watch it run, read the result (or every row error)."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from twincity.core.errors import Forbidden
from twincity.enterprises.importing import template_csv, template_xlsx
from twincity.enterprises.models import ImportJob
from twincity.enterprises.services_import import (
    ImportRejected,
    import_access_check,
    import_job_create,
    import_job_get_visible,
    import_job_list_recent,
    import_job_progress,
    import_job_repeat,
    import_job_start,
)

TEMPLATE = "enterprises/import.html"


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportJob.Kind.choices)
    file = forms.FileField(
        label=_("CSV or XLSX file"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"})
    )


def _may_import(user) -> None:
    try:
        import_access_check(actor=user, kind="declarations")
    except Forbidden:
        raise PermissionDenied from None


def _job_context(job: ImportJob) -> dict[str, object]:
    done, total = import_job_progress(job)
    percent = 100 if job.is_finished else (min(99, done * 100 // total) if total else 0)
    result = job.result or {}
    errors = result.get("errors") or []
    return {
        "job": job,
        "done": done,
        "total": total,
        "percent": percent,
        "result": result,
        "errors": errors,
        "error_count": result.get("error_count", len(errors)),
        "changes": [
            {
                "row": change["row"],
                "object": change["object"],
                "action": change["action"],
                "field": name,
                "before": values["before"],
                "after": values["after"],
            }
            for change in result.get("changes", [])
            for name, values in change["changes"].items()
        ],
    }


def _page(request, *, form: ImportForm, job: ImportJob | None = None, status: int = 200) -> HttpResponse:
    context: dict[str, object] = {
        "form": form,
        "kinds": ImportJob.Kind.choices,
        "recent": import_job_list_recent(user=request.user),
    }
    if job is not None:
        context.update(_job_context(job))
    return render(request, TEMPLATE, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def import_view(request):
    _may_import(request.user)
    if request.method == "POST" and request.POST.get("from_job"):
        raw_job_id = request.POST["from_job"]
        previewed = (
            import_job_get_visible(user=request.user, job_id=int(raw_job_id))
            if raw_job_id.isdigit() and len(raw_job_id) < 19
            else None
        )
        if previewed is None or previewed.status != ImportJob.Status.DONE:
            raise Http404
        try:
            job = import_job_repeat(actor=request.user, job=previewed)
        except Forbidden:
            raise PermissionDenied from None
        import_job_start(job=job)
        return redirect("enterprises:import-job", job_id=job.pk)

    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        initial={"kind": request.GET.get("kind", ImportJob.Kind.DECLARATIONS)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
                dry_run=request.POST.get("action") != "import",
            )
        except ImportRejected as exc:
            first = exc.errors[0]
            form.add_error("file", f"{first.reason_zh} ({first.reason_en})")
        else:
            # The job runs in the background (see import_job_start); its page polls for progress.
            import_job_start(job=job)
            return redirect("enterprises:import-job", job_id=job.pk)
    return _page(request, form=form, status=422 if form.errors else 200)


@login_required
@require_GET
def import_job_view(request, job_id: int):
    job = import_job_get_visible(user=request.user, job_id=job_id)
    if job is None:
        raise Http404
    if request.headers.get("HX-Request"):
        return render(request, TEMPLATE + "#job-status", _job_context(job))
    return _page(request, form=ImportForm(initial={"kind": job.kind}), job=job)


@login_required
@require_GET
def import_template_view(request, kind: str, fmt: str):
    if fmt == "xlsx":
        body = template_xlsx(kind)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = template_csv(kind)
        content_type = "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.{fmt}"'
    return response
