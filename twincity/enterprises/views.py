"""The registry pages. Each view asks the access predicates, calls one selector or service, and renders."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.defaultfilters import date as date_filter
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from twincity.accounts.models import City
from twincity.core.access import require, visible
from twincity.core.caching import REGISTRY, cached
from twincity.core.errors import ApplicationError
from twincity.core.keyset import numbered_page
from twincity.core.navigation import object_links_for, url_maker
from twincity.enterprises import access, selectors, services
from twincity.enterprises.fields import DECLARATION_FIGURES, INDUSTRY_CLUSTERS, PROFILE_FIELD_NAMES, SOURCES
from twincity.enterprises.forms import EnterpriseProfileForm, QualificationForm, spec_label
from twincity.enterprises.models import Qualification

PAGE_SIZE = 25
DETAIL_TEMPLATE = "enterprises/enterprise_detail.html"
SORTS = [
    ("name", "名称 ↑"), ("-name", "名称 ↓"), ("credit_code", "信用代码"),
    ("-registered_on", "注册日期(新→旧)"), ("registered_on", "注册日期(旧→新)"),
]


@login_required
def enterprise_list_view(request):
    require(access.can_list_enterprises(request.user))
    filters = {
        "query": request.GET.get("q", ""),
        "city": request.GET.get("city", ""),
        "industry_cluster": request.GET.get("industry_cluster", ""),
        "qualification": request.GET.get("qualification", ""),
        "ordering": request.GET.get("ordering", "name"),
    }
    enterprises = selectors.enterprise_search(user=request.user, **filters)
    # Keyset pages (twincity.core.keyset): page 4,000 costs what page 1 costs; the count is cached.
    page = numbered_page(enterprises, [selectors.search_ordering(filters["ordering"])], request.GET, size=PAGE_SIZE,
                         count=selectors.enterprise_search_count(user=request.user, **filters))
    # Each row's texts, shaped here once (a template tag per cell per row was most of the page's time).
    detail_url = url_maker("enterprises:detail")
    cities = {"chongqing": _("Chongqing"), "chengdu": _("Chengdu")}
    for enterprise in page.object_list:
        enterprise.detail_url = detail_url(enterprise.credit_code)
        enterprise.city_label = cities.get(enterprise.city, enterprise.city)
        enterprise.cluster_label = enterprise.get_industry_cluster_display()
        enterprise.registered_text = date_filter(enterprise.registered_on, "Y-m-d") or "—"
    querystring = request.GET.copy()
    for name in ("page", "after", "before"):
        querystring.pop(name, None)
    context = {
        "page": page,
        "filters": filters,
        "querystring": querystring.urlencode(),
        "clusters": [(key, zh) for key, (zh, _en) in INDUSTRY_CLUSTERS.items()],
        "qualifications": Qualification.Kind.choices,
        "sorts": SORTS,
        "cities": City.choices,
        "can_register": access.can_register_enterprise(request.user),
    }
    template = "enterprises/enterprise_list.html"
    if request.headers.get("HX-Request"):
        template += "#results"
    return render(request, template, context)


@login_required
def my_enterprise_view(request):
    enterprise = visible(access.own_enterprise(request.user))
    return redirect("enterprises:detail", credit_code=enterprise.credit_code)


def _declarations_html(enterprise, *, can_import: bool) -> str:
    """The declarations table and its consistency flags (callers check `access.can_view_declarations`), rendered
    once until an audited write changes the registry (twincity.core.caching: every change of a declaration is
    audited); the key names everything else it shows (the import link, the language)."""
    def render() -> str:
        declarations = list(selectors.declaration_list_for_enterprise(enterprise=enterprise))
        return render_to_string(DETAIL_TEMPLATE + "#declarations", {
            "declarations": declarations,
            "figure_rows": _figure_rows(declarations),
            "flags": [(d.fiscal_year, flag) for d in declarations for flag in d.flags],
            "can_import": can_import,
        })

    key = f"enterprise-declarations:{enterprise.pk}:{int(can_import)}:{translation.get_language()}"
    return mark_safe(cached(REGISTRY, key, render))  # noqa: S308 (the template's escaped output)


def _figure_rows(declarations) -> list[dict]:
    return [
        {
            "spec": spec,
            "label": spec_label(spec),
            "cells": [
                {"value": getattr(d, spec.name), "source": SOURCES[d.source_of(spec.name)["source"]][0],
                 "verified": d.source_of(spec.name)["verified"],
                 "flagged": any(spec.name in flag["fields"] for flag in d.flags)}
                for d in declarations
            ],
        }
        for spec in DECLARATION_FIGURES
    ]


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_detail_view(request, credit_code: str):
    enterprise = visible(selectors.enterprise_get_visible(user=request.user, credit_code=credit_code))
    user = request.user
    qualification_form = None
    if access.can_manage_qualifications(user, enterprise):
        qualification_form = QualificationForm(request.POST or None)
    if request.method == "POST":
        require(qualification_form is not None)
        if qualification_form.is_valid():
            try:
                services.qualification_add(actor=user, enterprise=enterprise, **qualification_form.cleaned_data)
            except ApplicationError as exc:
                _apply_service_errors(qualification_form, exc)
            else:
                messages.success(request, _("Qualification recorded."))
                return redirect("enterprises:detail", credit_code=enterprise.credit_code)
    can_view_declarations = access.can_view_declarations(user, enterprise)
    can_import = access.can_import(user)
    context = {
        "enterprise": enterprise,
        "qualifications": selectors.enterprise_qualifications(enterprise=enterprise),
        "qualification_form": qualification_form,
        "declarations_html": _declarations_html(enterprise, can_import=can_import) if can_view_declarations else None,
        "can_view_declarations": can_view_declarations,
        "can_edit": access.can_edit_enterprise(user, enterprise),
        "can_import": can_import,
        "links": object_links_for(user, enterprise),
        "tier": selectors.tech_innovative_tier(enterprise=enterprise, on=timezone.localdate()),
        "history": list(selectors.enterprise_history(enterprise=enterprise)[:50])
        if access.can_view_enterprise_history(user, enterprise)
        else None,
    }
    return render(request, DETAIL_TEMPLATE, context,
                  status=422 if qualification_form is not None and qualification_form.errors else 200)


@login_required
@require_POST
def qualification_delete_view(request, credit_code: str, qualification_id: int):
    enterprise = visible(selectors.enterprise_get_visible(user=request.user, credit_code=credit_code))
    qualification = visible(selectors.qualification_get(enterprise=enterprise, qualification_id=qualification_id))
    services.qualification_delete(actor=request.user, qualification=qualification)
    messages.success(request, _("Qualification removed."))
    return redirect("enterprises:detail", credit_code=enterprise.credit_code)


def _apply_service_errors(form, exc: ApplicationError) -> None:
    for field, errors in (exc.extra.get("fields") or {}).items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not form.errors:
        form.add_error(None, exc.message)


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_create_view(request):
    require(access.can_register_enterprise(request.user))
    form = EnterpriseProfileForm(request.POST or None, editable=PROFILE_FIELD_NAMES, with_code=True)
    if request.method == "POST" and form.is_valid():
        try:
            enterprise = services.enterprise_create(actor=request.user, credit_code=form.cleaned_data["credit_code"],
                                                    **form.values())
        except ApplicationError as exc:
            _apply_service_errors(form, exc)
        else:
            messages.success(request, _("Enterprise registered."))
            return redirect("enterprises:detail", credit_code=enterprise.credit_code)
    return render(request, "enterprises/enterprise_form.html", {"form": form, "enterprise": None})


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_edit_view(request, credit_code: str):
    enterprise = visible(selectors.enterprise_get_visible(user=request.user, credit_code=credit_code))
    editable = access.editable_profile_fields(request.user, enterprise)
    require(bool(editable), _("You may not change this enterprise."))
    form = EnterpriseProfileForm(request.POST or None, editable=editable, instance=enterprise)
    if request.method == "POST" and form.is_valid():
        try:
            services.enterprise_update(actor=request.user, enterprise=enterprise, changes=form.changes())
        except ApplicationError as exc:
            _apply_service_errors(form, exc)
        else:
            messages.success(request, _("Profile saved."))
            return redirect("enterprises:detail", credit_code=enterprise.credit_code)
    return render(request, "enterprises/enterprise_form.html", {"form": form, "enterprise": enterprise})
