"""Forms of the finance pages: they check what a person typed; the services decide what it means."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import City, Organisation
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


# --- demands and applications ------------------------------------------------------------------------------


class CaseForm(forms.Form):
    """A demand (no product) or an application to a published loan product: amount (万元), term, purpose, and
    the project city (a twin-city loan's other city)."""

    product = forms.ModelChoiceField(label=_("Product (leave empty to publish a demand)"), required=False,
                                     empty_label="—", queryset=None)
    amount = forms.DecimalField(label=_("Amount (10,000 yuan)"), min_value=Decimal("0.01"),
                                max_value=Decimal("100000000"), decimal_places=2)
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=MAX_TERM_MONTHS)
    purpose = forms.CharField(label=_("Purpose"), max_length=500)
    project_city = forms.ChoiceField(label=_("Project city"), required=False,
                                     choices=[("", _("as registered")), *City.choices])
    submit = forms.BooleanField(label=_("Submit now"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from twincity.finance.selectors import products_published

        self.fields["product"].queryset = products_published().filter(
            kind__in=("credit_loan", "points_loan", "twin_city_loan"))

    def amount_yuan(self) -> Decimal:
        return self.cleaned_data["amount"] * WAN


class DecisionForm(forms.Form):
    """A branch's decision: approve with its amount (or share, 万元), rate (% a year) and term; reject or refer
    back with a reason."""

    decision = forms.ChoiceField(label=_("Decision"), choices=[
        ("approve", _("Approve")), ("reject", _("Reject")), ("refer_back", _("Refer back"))])
    amount = forms.DecimalField(label=_("Amount or share (10,000 yuan)"), min_value=Decimal("0.01"),
                                max_value=Decimal("100000000"), decimal_places=2, required=False)
    rate = forms.DecimalField(label=_("Annual rate (%)"), min_value=Decimal(0), max_value=Decimal("99.9999"),
                              decimal_places=4, required=False)
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=MAX_TERM_MONTHS,
                                     required=False)
    comment = forms.CharField(label=_("Reason or comment"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if data.get("decision") == "approve" and (data.get("amount") is None or data.get("rate") is None):
            raise forms.ValidationError(_("An approval needs the amount and the rate."))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"decision": data["decision"], "comment": data.get("comment") or "",
                "amount": None if data.get("amount") is None else data["amount"] * WAN,
                "rate": None if data.get("rate") is None else data["rate"] / 100,
                "term_months": data.get("term_months")}


class MoneyEventForm(forms.Form):
    """A disbursement, repayment or overdue report: amount (万元; empty: all), the day, a comment."""

    amount = forms.DecimalField(label=_("Amount (10,000 yuan)"), min_value=Decimal("0.01"),
                                max_value=Decimal("100000000"), decimal_places=6, required=False)
    on = forms.DateField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    comment = forms.CharField(label=_("Comment"), max_length=500, required=False)

    def amount_yuan(self) -> Decimal | None:
        amount = self.cleaned_data.get("amount")
        return None if amount is None else amount * WAN
