from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from twincity.accounts import access, selectors, services
from twincity.accounts.forms import ApiTokenForm, ThrottledAuthenticationForm
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
