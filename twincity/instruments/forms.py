"""Forms of the instrument pages: they check what a person typed (local Asia/Shanghai dates and times); the
services decide what it means."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import City, Organisation
from twincity.instruments.models import OWNER_KINDS, InstrumentCategory, RateClass


def _at(day: date, clock: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, clock))


class CatalogueImportForm(forms.Form):
    file = forms.FileField(label=_("File (.xlsx)"))


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    category = forms.ModelChoiceField(label=_("Category"), queryset=InstrumentCategory.objects.order_by("code"),
                                      to_field_name="code", required=False)
    city = forms.ChoiceField(label=_("City"), choices=[("", "—"), *City.choices], required=False)
    owner = forms.ModelChoiceField(label=_("Owner"), required=False,
                                   queryset=Organisation.objects.filter(kind__in=OWNER_KINDS).order_by("name"))
    max_price = forms.DecimalField(label=_("Price at most (yuan)"), min_value=Decimal(0),
                                   max_value=Decimal("9999999999"), decimal_places=2, required=False)
    # Industry first: the rate a search prices at when none is chosen.
    rate_class = forms.ChoiceField(label=_("Rate class"), choices=list(reversed(RateClass.choices)),
                                   initial=RateClass.INDUSTRY, required=False)
    day = forms.DateField(label=_("Free on"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    free_from = forms.TimeField(label=_("Window start"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    free_until = forms.TimeField(label=_("Window end"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    def clean(self):
        data = super().clean()
        parts = [data.get("day"), data.get("free_from"), data.get("free_until")]
        if any(p is not None for p in parts) and not all(p is not None for p in parts):
            raise forms.ValidationError(_("Give the day, the start and the end of the window."))
        if all(p is not None for p in parts) and data["free_until"] <= data["free_from"]:
            raise forms.ValidationError(_("The window must end after it starts."))
        return data

    def window(self) -> tuple[datetime | None, datetime | None]:
        data = self.cleaned_data
        if data.get("day") is None:
            return None, None
        return _at(data["day"], data["free_from"]), _at(data["day"], data["free_until"])


class BookingForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start = forms.TimeField(label=_("Start"), widget=forms.TimeInput(attrs={"type": "time", "step": 1800}, format="%H:%M"))
    end = forms.TimeField(label=_("End"), widget=forms.TimeInput(attrs={"type": "time", "step": 1800}, format="%H:%M"))
    purpose = forms.CharField(label=_("Purpose"), max_length=200, required=False)
    override_reason = forms.CharField(label=_("Override reason (administrators)"), max_length=255, required=False)

    def period(self) -> tuple[datetime, datetime]:
        """The local day and times as instants; an end at or before the start ends the next day (past midnight)."""
        data = self.cleaned_data
        starts_at = _at(data["day"], data["start"])
        ends_at = _at(data["day"], data["end"])
        if data["end"] == time(0, 0):
            ends_at += timedelta(days=1)
        return starts_at, ends_at


class SeriesForm(forms.Form):
    """A recurring booking: the first occurrence (local day and times), an RFC 5545 RRULE, exceptions and the
    choice to skip the dates the rules refuse."""

    first_day = forms.DateField(label="首次日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start = forms.TimeField(label="开始", widget=forms.TimeInput(attrs={"type": "time", "step": 1800}, format="%H:%M"))
    end = forms.TimeField(label="结束", widget=forms.TimeInput(attrs={"type": "time", "step": 1800}, format="%H:%M"))
    rrule = forms.CharField(label="重复规则（RFC 5545 RRULE）", max_length=400, initial="FREQ=WEEKLY;COUNT=4",
                            help_text="例如 FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8（须有 COUNT 或 UNTIL，至多100次）")
    exdates = forms.CharField(label="例外日期", max_length=1000, required=False,
                              help_text="不预约的日期，逗号分隔，如 2026-12-15,2026-12-22")
    skip_conflicts = forms.BooleanField(label="跳过不能预约的日期（否则任一日期不能预约则全部不预约）", required=False)
    purpose = forms.CharField(label="用途", max_length=200, required=False)
    override_reason = forms.CharField(label="越过规则的理由（平台管理员）", max_length=255, required=False)

    def clean(self):
        data = super().clean()
        if data.get("start") is not None and data.get("end") is not None and data["end"] <= data["start"]:
            raise forms.ValidationError("结束时间须晚于开始时间")
        return data

    def first_period(self) -> tuple[datetime, datetime]:
        data = self.cleaned_data
        return _at(data["first_day"], data["start"]), _at(data["first_day"], data["end"])

    def exceptions(self) -> list[str]:
        return [x.strip() for x in self.cleaned_data.get("exdates", "").replace("，", ",").split(",") if x.strip()]
