from django import forms
from django.utils.translation import gettext_lazy as _

from twincity.enterprises.models import Enterprise
from twincity.enterprises.validators import credit_code_problem, normalise_credit_code

PROFILE_FIELDS = [
    "name", "city", "district", "registered_on", "industry_cluster", "industry_code", "size_class",
    "resident", "prohibited", "compliant", "is_sme", "ip_I_self", "ip_I_acq", "ip_I_hv", "ip_II", "transforms_3y",
    "sei", "niche_years", "innov_title", "nat_award_5y_top3", "sci_award_3y", "led_standard_5y",
    "maker_top500_3y",
]
CITY_CHOICES = [("chongqing", _("Chongqing")), ("chengdu", _("Chengdu"))]


class EnterpriseProfileForm(forms.ModelForm):
    """The profile fields a person may change. Saving goes through the service, which checks access and
    writes the audit entry; the form only validates the input."""

    city = forms.ChoiceField(label=_("City"), choices=CITY_CHOICES)

    class Meta:
        model = Enterprise
        fields = PROFILE_FIELDS
        widgets = {"registered_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def profile_changes(self) -> dict[str, object]:
        return {name: self.cleaned_data[name] for name in self.changed_data if name in PROFILE_FIELDS}


class EnterpriseCreateForm(EnterpriseProfileForm):
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=32)

    class Meta(EnterpriseProfileForm.Meta):
        fields = ["credit_code", *PROFILE_FIELDS]

    def clean_credit_code(self) -> str:
        code = normalise_credit_code(self.cleaned_data["credit_code"])
        problem = credit_code_problem(code)
        if problem:
            raise forms.ValidationError(f"{problem[0]} ({problem[1]})", code="invalid_credit_code")
        if Enterprise.objects.filter(credit_code=code).exists():
            raise forms.ValidationError(_("This credit code is already registered."), code="duplicate_credit_code")
        return code
