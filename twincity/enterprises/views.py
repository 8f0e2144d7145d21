from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render

from twincity.accounts.selectors import user_is_admin
from twincity.core.errors import ApplicationError
from twincity.enterprises import selectors, services
from twincity.enterprises.forms import EnterpriseCreateForm, EnterpriseProfileForm
from twincity.enterprises.fields import DECLARATION_FIGURES, INDUSTRY_CLUSTERS, SOURCES
from twincity.enterprises.models import Qualification
from twincity.enterprises.views_import import import_view  # noqa: F401  (re-exported for urls)

SORTS = [
    ("name", "名称 ↑"), ("-name", "名称 ↓"), ("credit_code", "信用代码"),
    ("-registered_on", "注册日期(新→旧)"), ("registered_on", "注册日期(旧→新)"),
]


@login_required
def enterprise_list_view(request):
    filters = {
        "query": request.GET.get("q", ""),
        "city": request.GET.get("city", ""),
        "industry_cluster": request.GET.get("industry_cluster", ""),
        "qualification": request.GET.get("qualification", ""),
        "ordering": request.GET.get("ordering", "name"),
    }
    enterprises = selectors.enterprise_search(user=request.user, **filters)
    page = Paginator(enterprises, 25).get_page(request.GET.get("page"))
    querystring = request.GET.copy()
    querystring.pop("page", None)
    context = {
        "page": page,
        "filters": filters,
        "querystring": querystring.urlencode(),
        "clusters": [(key, zh) for key, (zh, _en) in INDUSTRY_CLUSTERS.items()],
        "qualifications": Qualification.Kind.choices,
        "sorts": SORTS,
        "cities": [("chongqing", "重庆"), ("chengdu", "成都")],
        "can_register": user_is_admin(request.user),
    }
    template = "enterprises/enterprise_list.html"
    if request.headers.get("HX-Request"):
        template += "#results"
    return render(request, template, context)


@login_required
def my_enterprise_view(request):
    enterprise = selectors.enterprise_list_editable(user=request.user).first()
    if enterprise is None:
        raise Http404
    return redirect("enterprises:detail", credit_code=enterprise.credit_code)


@login_required
def enterprise_detail_view(request, credit_code: str):
    enterprise = selectors.enterprise_get_visible(user=request.user, credit_code=credit_code)
    if enterprise is None:
        raise Http404
    declarations = list(selectors.declaration_list_for_enterprise(user=request.user, enterprise=enterprise))
    rows = [
        {
            "spec": spec,
            "cells": [
                {"value": getattr(d, spec.name), "source": SOURCES[d.source_of(spec.name)["source"]][0],
                 "verified": d.source_of(spec.name)["verified"],
                 "flagged": any(spec.name in flag["fields"] for flag in d.flags)}
                for d in declarations
            ],
        }
        for spec in DECLARATION_FIGURES
    ]
    context = {
        "enterprise": enterprise,
        "qualifications": selectors.enterprise_qualifications(enterprise=enterprise),
        "declarations": declarations,
        "figure_rows": rows,
        "flags": [(d.fiscal_year, flag) for d in declarations for flag in d.flags],
        "can_see_declarations": selectors.enterprise_list_editable(user=request.user)
        .filter(pk=enterprise.pk)
        .exists(),
        "history": list(selectors.enterprise_audit_history(user=request.user, enterprise=enterprise)[:50])
        if user_is_admin(request.user)
        else None,
    }
    return render(request, "enterprises/enterprise_detail.html", context)


def _apply_service_errors(form, exc: ApplicationError) -> None:
    for field, errors in (exc.extra.get("fields") or {}).items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not form.errors:
        form.add_error(None, exc.message)


@login_required
def enterprise_create_view(request):
    if not user_is_admin(request.user):
        raise PermissionDenied
    form = EnterpriseCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            enterprise = services.enterprise_create(
                actor=request.user, credit_code=data.pop("credit_code"), name=data.pop("name"),
                city=data.pop("city"), **data,
            )
        except ApplicationError as exc:
            _apply_service_errors(form, exc)
        else:
            messages.success(request, _("Enterprise registered."))
            return redirect("enterprises:detail", credit_code=enterprise.credit_code)
    return render(request, "enterprises/enterprise_form.html", {"form": form, "enterprise": None})


@login_required
def enterprise_edit_view(request, credit_code: str):
    enterprise = selectors.enterprise_get_editable(user=request.user, credit_code=credit_code)
    if enterprise is None:
        raise Http404
    form = EnterpriseProfileForm(request.POST or None, instance=enterprise)
    if request.method == "POST" and form.is_valid():
        try:
            services.enterprise_update(actor=request.user, enterprise=enterprise, changes=form.profile_changes())
        except ApplicationError as exc:
            _apply_service_errors(form, exc)
        else:
            messages.success(request, _("Profile saved."))
            return redirect("enterprises:detail", credit_code=enterprise.credit_code)
    return render(request, "enterprises/enterprise_form.html", {"form": form, "enterprise": enterprise})
