"""Forms of the registry pages, built from the one vocabulary (fields.py). A form parses what a person typed;
the services validate it (twincity.enterprises.validation) and decide who may change what."""

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import City
from twincity.enterprises.fields import CHOICES, ENTERPRISE_FIELDS, FieldSpec
from twincity.enterprises.models import Qualification


def spec_label(spec: FieldSpec) -> str:
    return spec.label_en if (get_language() or "").startswith("en") else spec.label_zh


def _form_field(spec: FieldSpec) -> forms.Field:
    label = spec_label(spec)
    required = spec.required
    if spec.kind == "city":
        return forms.ChoiceField(label=label, required=required, choices=City.choices)
    if spec.kind == "choice":
        choices = [("", "—"), *((key, zh) for key, (zh, _en) in CHOICES[spec.name].items())]
        return forms.ChoiceField(label=label, required=required, choices=choices)
    if spec.kind == "date":
        return forms.DateField(label=label, required=required,
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    if spec.kind == "bool":
        return forms.NullBooleanField(label=label, required=False)
    if spec.kind == "count":
        return forms.IntegerField(label=label, required=required, min_value=0, max_value=spec.maximum)
    if spec.kind == "email":
        return forms.EmailField(label=label, required=required, max_length=spec.max_length)
    return forms.CharField(label=label, required=required, max_length=spec.max_length)


class EnterpriseProfileForm(forms.Form):
    """The profile fields this person may change (see access.editable_profile_fields); with `credit_code`
    for a registration."""

    def __init__(self, *args, editable: frozenset[str], instance=None, with_code: bool = False, **kwargs):
        initial = {spec.name: getattr(instance, spec.name) for spec in ENTERPRISE_FIELDS} if instance else {}
        super().__init__(*args, initial=initial, **kwargs)
        if with_code:
            self.fields["credit_code"] = forms.CharField(label=_("Unified social credit code"), max_length=32)
        for spec in ENTERPRISE_FIELDS:
            if spec.name in editable:
                self.fields[spec.name] = _form_field(spec)

    def values(self) -> dict[str, object]:
        """Every field of the form (a registration)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "credit_code"}

    def changes(self) -> dict[str, object]:
        """The fields the person changed; an emptied field is None (cleared)."""
        return {name: (None if self.cleaned_data[name] in ("", None) else self.cleaned_data[name])
                for name in self.changed_data if name != "credit_code"}


class QualificationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Qualification"), choices=Qualification.Kind.choices)
    certificate_no = forms.CharField(label=_("Certificate number"), max_length=64)
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("Valid until"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
