from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from twincity.accounts import selectors, services
from twincity.accounts.forms import ApiTokenForm, ThrottledAuthenticationForm
from twincity.core.errors import ApplicationError, NotFound


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


@login_required
def token_list_view(request):
    if not selectors.user_is_admin(request.user):
        raise PermissionDenied
    form = ApiTokenForm(request.POST or None, actor=request.user)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_key = services.api_token_create(
                actor=request.user, user=form.cleaned_data["user"], name=form.cleaned_data["name"]
            )
            messages.success(request, _("Token created. Copy the key now: it is not shown again."))
            form = ApiTokenForm(actor=request.user)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
    context = {"form": form, "tokens": selectors.api_token_list_visible(user=request.user), "new_key": new_key}
    return render(request, "accounts/token_list.html", context)


@login_required
@require_POST
def token_revoke_view(request, token_id: int):
    if not selectors.user_is_admin(request.user):
        raise PermissionDenied
    try:
        services.api_token_revoke(actor=request.user, token_id=token_id)
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("Token revoked."))
    return redirect("accounts:tokens")
