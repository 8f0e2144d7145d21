"""The import page: upload a CSV or XLSX file, watch it run, read the result (or every row error)."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from twincity.core.access import require, visible
from twincity.core.errors import TooLarge
from twincity.enterprises import access, selectors
from twincity.enterprises.imports import ImportRejected, template_csv, template_xlsx
from twincity.enterprises.imports.jobs import import_job_create, import_job_progress, import_job_repeat
from twincity.enterprises.models import ImportJob
from twincity.enterprises.tasks import import_job_start

TEMPLATE = "enterprises/import.html"


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportJob.Kind.choices)
    file = forms.FileField(
        label=_("CSV or XLSX file"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"})
    )


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
            {"row": change["row"], "object": change["object"], "action": change["action"], "field": name,
             "before": values["before"], "after": values["after"]}
            for change in result.get("changes", [])
            for name, values in change["changes"].items()
        ],
    }


def _page(request, *, form: ImportForm, job: ImportJob | None = None, status: int = 200) -> HttpResponse:
    context: dict[str, object] = {
        "form": form,
        "kinds": ImportJob.Kind.choices,
        "recent": selectors.import_job_list_recent(user=request.user),
    }
    if job is not None:
        context.update(_job_context(job))
    return render(request, TEMPLATE, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def import_view(request):
    require(access.can_import(request.user), _("You may not import registry data."))
    if request.method == "POST" and request.POST.get("from_job"):
        raw_job_id = request.POST["from_job"]
        previewed = visible(
            selectors.import_job_get_visible(user=request.user, job_id=int(raw_job_id))
            if raw_job_id.isdigit() and len(raw_job_id) < 19
            else None
        )
        visible(previewed if previewed.status == ImportJob.Status.DONE else None)
        job = import_job_repeat(actor=request.user, job=previewed)
        import_job_start(job=job)
        return redirect("enterprises:import-job", job_id=job.pk)

    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        initial={"kind": request.GET.get("kind", ImportJob.Kind.DECLARATIONS)},
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(actor=request.user, kind=form.cleaned_data["kind"],
                                    upload=form.cleaned_data["file"], dry_run=request.POST.get("action") != "import")
        except ImportRejected as exc:
            first = exc.errors[0]
            form.add_error("file", f"{first.reason_zh} ({first.reason_en})")
        except TooLarge as exc:
            form.add_error("file", exc.message)
            status = 413
        else:
            # The job runs in the background (see import_job_start); its page polls for progress.
            import_job_start(job=job)
            return redirect("enterprises:import-job", job_id=job.pk)
    if form.errors and status == 200:
        status = 422
    return _page(request, form=form, status=status)


@login_required
@require_GET
def import_job_view(request, job_id: int):
    job = visible(selectors.import_job_get_visible(user=request.user, job_id=job_id))
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
