from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from twincity.accounts import access, services
from twincity.core.http import client_address


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, refusing further tries after too many failures for a username from one address."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _("Too many failed logins. Please wait 15 minutes and try again."),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        if services.login_is_throttled(username=username, address=address):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            services.login_failure_record(username=username, address=address)
            raise
        services.login_failures_clear(username=username, address=address)
        return cleaned


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100)
    user = forms.ModelChoiceField(label=_("Acts as user"), queryset=None)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = access.users_visible(actor).filter(is_active=True).order_by(
            "username"
        )
