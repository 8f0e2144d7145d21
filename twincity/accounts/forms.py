from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from twincity.accounts import access, services
from twincity.accounts.models import City, Organisation, User
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


def _head_organisations(actor):
    return access.organisations_visible(actor).filter(parent__isnull=True).order_by("kind", "name")


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Organisation.Kind.choices)
    city = forms.ChoiceField(label=_("City"), choices=[("", "—"), *City.choices], required=False)
    parent = forms.ModelChoiceField(label=_("Head organisation"), queryset=None, required=False, empty_label="—",
                                    help_text=_("Only for a branch, e.g. a bank branch under its bank."))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = _head_organisations(actor)


class OrganisationEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    city = forms.ChoiceField(label=_("City"), choices=[("", "—"), *City.choices], required=False)


class UserRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices, required=False)
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None, required=False, empty_label="—")
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = access.organisations_visible(actor).order_by("kind", "name")


class UserCreateForm(UserRoleForm):
    username = forms.RegexField(label=_("Username"), max_length=150, regex=r"^[\w.@+-]+$")
    display_name = forms.CharField(label=_("Display name"), max_length=64, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    password = forms.CharField(label=_("Initial password"), required=False, strip=False,
                               widget=forms.PasswordInput(render_value=False),
                               help_text=_("Leave empty: the account cannot log in until a password is set."))
    field_order = ["username", "display_name", "email", "role", "organisation", "password"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, actor=actor, **kwargs)
        del self.fields["is_active"]
