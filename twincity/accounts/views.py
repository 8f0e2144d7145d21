from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from twincity.accounts import access, selectors, services
from twincity.accounts.forms import (
    ApiTokenForm,
    OrganisationEditForm,
    OrganisationForm,
    ThrottledAuthenticationForm,
    UserCreateForm,
    UserRoleForm,
)
from twincity.accounts.models import City, Organisation, User
from twincity.core.access import require, visible
from twincity.core.errors import ApplicationError


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


@login_required
@require_http_methods(["GET", "POST"])
def token_list_view(request):
    require(access.can_manage_accounts(request.user))
    form = ApiTokenForm(request.POST or None, actor=request.user)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = services.api_token_create(
                actor=request.user, user=form.cleaned_data["user"], name=form.cleaned_data["name"]
            )
            messages.success(request, _("Token created. Copy the key now: it is not shown again."))
            form = ApiTokenForm(actor=request.user)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
    context = {"form": form, "tokens": selectors.api_token_list(user=request.user), "new_key": new_key}
    return render(request, "accounts/token_list.html", context)


@login_required
@require_POST
def token_revoke_view(request, token_id: int):
    token = visible(selectors.api_token_get_visible(user=request.user, token_id=token_id))
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("Token revoked."))
    return redirect("accounts:tokens")


def _form_error(form, exc: ApplicationError) -> None:
    """Put a service's refusal on the form: on the fields it names, else on the form."""
    fields = (exc.extra or {}).get("fields") or {}
    placed = False
    for name in fields:
        if name in form.fields:
            form.add_error(name, exc.message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@login_required
@require_http_methods(["GET", "POST"])
def organisation_list_view(request):
    require(access.can_manage_accounts(request.user))
    form = OrganisationForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Organisation created."))
            return redirect("accounts:organisation", organisation_id=organisation.pk)
    filters = {"kind": request.GET.get("kind", ""), "city": request.GET.get("city", ""),
               "q": request.GET.get("q", "").strip()[:100]}
    rows = selectors.organisation_search(
        user=request.user, q=filters["q"],
        kind=filters["kind"] if filters["kind"] in Organisation.Kind.values else "",
        city=filters["city"] if filters["city"] in City.values else "",
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "filters": filters, "kinds": Organisation.Kind.choices,
               "cities": City.choices}
    return render(request, "accounts/organisation_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def organisation_detail_view(request, organisation_id: int):
    require(access.can_manage_accounts(request.user))
    organisation = visible(selectors.organisation_get_visible(user=request.user, organisation_id=organisation_id))
    form = OrganisationEditForm(request.POST or None,
                                initial={"name": organisation.name, "city": organisation.city})
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_update(actor=request.user, organisation=organisation, **form.cleaned_data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Organisation saved."))
            return redirect("accounts:organisation", organisation_id=organisation.pk)
    context = {
        "organisation": organisation, "form": form,
        "members": selectors.organisation_members(user=request.user, organisation=organisation),
        "branches": selectors.organisation_search(user=request.user).filter(parent=organisation),
    }
    return render(request, "accounts/organisation_detail.html", context)


@login_required
@require_POST
def organisation_delete_view(request, organisation_id: int):
    require(access.can_manage_accounts(request.user))
    organisation = visible(selectors.organisation_get_visible(user=request.user, organisation_id=organisation_id))
    try:
        services.organisation_delete(actor=request.user, organisation=organisation)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:organisation", organisation_id=organisation.pk)
    messages.success(request, _("Organisation deleted."))
    return redirect("accounts:organisations")


@login_required
@require_http_methods(["GET", "POST"])
def user_list_view(request):
    require(access.can_manage_accounts(request.user))
    form = UserCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Account created."))
            return redirect("accounts:user", username=user.username)
    filters = {"role": request.GET.get("role", ""), "q": request.GET.get("q", "").strip()[:100]}
    rows = selectors.user_search(
        user=request.user, q=filters["q"],
        role=filters["role"] if filters["role"] in User.Role.values and filters["role"] else None,
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "filters": filters, "roles": User.Role.choices}
    return render(request, "accounts/user_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def user_detail_view(request, username: str):
    require(access.can_manage_accounts(request.user))
    person = visible(selectors.user_get_visible(user=request.user, username=username))
    form = UserRoleForm(request.POST or None, actor=request.user, initial={
        "role": person.role, "organisation": person.organisation, "is_active": person.is_active})
    if request.method == "POST" and form.is_valid():
        try:
            services.user_role_set(actor=request.user, user=person, **form.cleaned_data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Account saved."))
            return redirect("accounts:user", username=person.username)
    return render(request, "accounts/user_detail.html", {"person": person, "form": form})
