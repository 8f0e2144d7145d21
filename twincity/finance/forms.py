"""Forms of the finance pages: they check what a person typed; the services decide what it means."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import Organisation
from twincity.finance.models import INSTITUTION_KINDS, Purpose

MAX_TERM_MONTHS = 600
WAN = Decimal(10000)


class MatchForm(forms.Form):
    """The amount (万元) and term (months) an enterprise asks for."""

    amount = forms.DecimalField(label=_("Amount (10,000 yuan)"), min_value=Decimal("0.01"),
                                max_value=Decimal("100000000"), decimal_places=2, required=False)
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=MAX_TERM_MONTHS, required=False)

    def clean(self):
        data = super().clean()
        if (data.get("amount") is None) != (data.get("term_months") is None):
            raise forms.ValidationError(_("Give both the amount and the term."))
        return data

    def asked(self) -> tuple[Decimal | None, int | None]:
        """(amount in yuan, term in months), or (None, None)."""
        amount = self.cleaned_data.get("amount")
        return (None if amount is None else amount * WAN), self.cleaned_data.get("term_months")


class ConsentForm(forms.Form):
    """Grant one institution, or every institution of a kind, access for a purpose until a day."""

    institution = forms.ModelChoiceField(
        label=_("Institution"), required=False, empty_label="—",
        queryset=Organisation.objects.filter(kind__in=INSTITUTION_KINDS).order_by("kind", "name"))
    institution_kind = forms.ChoiceField(
        label=_("Or every institution of a kind"), required=False,
        choices=[("", "—"), *((k.value, k.label) for k in INSTITUTION_KINDS)])
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    valid_until = forms.DateField(label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if (data.get("institution") is None) == (not data.get("institution_kind")):
            raise forms.ValidationError(_("Choose one institution or one kind of institution."))
        return data

    def valid_until_at(self) -> datetime:
        """The end of the chosen day (Asia/Shanghai): the consent holds through that day."""
        day = self.cleaned_data["valid_until"] + timedelta(days=1)
        return timezone.make_aware(datetime.combine(day, time.min))
