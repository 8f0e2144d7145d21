from django import forms
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import Organisation


def _events(text: str) -> list[str]:
    return [name.strip() for name in text.replace("，", ",").replace("\n", ",").split(",") if name.strip()]


class EndpointForm(forms.Form):
    url = forms.CharField(label=_("URL"), max_length=500,
                          widget=forms.URLInput(attrs={"placeholder": "https://bank.example/hooks/twincity"}))
    events = forms.CharField(label=_("Events"), max_length=2000, initial="*",
                             help_text=_("Event names separated by commas, or * for every event"))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)

    def events_list(self) -> list[str]:
        return _events(self.cleaned_data["events"])


class EndpointCreateForm(EndpointForm):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none())

    field_order = ["organisation", "url", "events", "description"]

    def __init__(self, *args, organisations, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations.order_by("kind", "name")
