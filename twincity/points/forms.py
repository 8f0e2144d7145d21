"""Forms of the points pages: they check what a person typed; the services decide what it means."""

import json

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from twincity.enterprises.fields import DECLARATION_FIGURES, ENTERPRISE_FIELDS

GRADES = ("A", "B", "C", "D", "E")
GROUP_BYS = (
    ("industry_cluster", _("Industry cluster")),
    ("city", _("City")),
    ("stage", _("Development stage")),
)

# The figures a person may change in the what-if form: (fact name, kind). `_y3` is the last completed
# fiscal year before the evaluation date, `_y2` the one before.
WHAT_IF_FIGURES: tuple[tuple[str, str], ...] = (
    ("rd_y3", "money"),
    ("rd_y2", "money"),
    ("sales_y3", "money"),
    ("sales_y2", "money"),
    ("net_profit_y3", "money"),
    ("tax_y3", "money"),
    ("na_y3", "money"),
    ("hitech_rev_y3", "money"),
    ("tech_contract_y3", "money"),
    ("equity_3y", "money"),
    ("employees", "int"),
    ("tech_staff", "int"),
    ("rd_staff", "int"),
    ("ip_I_self", "int"),
    ("ip_I_acq", "int"),
    ("ip_I_hv", "int"),
    ("ip_II", "int"),
    ("transforms_3y", "int"),
)
_LABELS = {spec.name: spec.label_zh for spec in (*DECLARATION_FIGURES, *ENTERPRISE_FIELDS)}
_LABELS["equity"] = "新增股权融资"


def figure_kind(name: str) -> str:
    """How a what-if figure reads: money (万元) or a whole number."""
    return dict(WHAT_IF_FIGURES).get(name, "number")


def figure_label(name: str, evaluation_year: int | None = None) -> str:
    """The Chinese label of a fact, with its fiscal year: rd_y3 → 研发费用（2025年）."""
    if name in _LABELS:
        return _LABELS[name]
    for suffix, back in (("_y3", 1), ("_y2", 2), ("_y1", 3), ("_3y", None)):
        if name.endswith(suffix):
            base = _LABELS.get(name.removesuffix(suffix), name)
            if back is None:
                return f"{base}（近三年合计）"
            return f"{base}（{evaluation_year - back}年）" if evaluation_year else f"{base}（{suffix[1:]}）"
    return _LABELS.get(name, name)


def _plain(value):
    """400.0 → 400 for the form: whole numbers read without a decimal point."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class WhatIfForm(forms.Form):
    """One field per figure, pre-filled from the facts snapshot. Blank means unknown."""

    def __init__(self, *args, facts: dict | None = None, evaluation_year: int | None = None, **kwargs):
        facts = facts or {}
        initial = {name: _plain(facts.get(name)) for name, _kind in WHAT_IF_FIGURES}
        super().__init__(*args, initial=initial, **kwargs)
        self.facts = facts
        for name, kind in WHAT_IF_FIGURES:
            label = figure_label(name, evaluation_year) + (" (万元)" if kind == "money" else "")
            if kind == "money":
                field = forms.FloatField(label=label, required=False,
                                         widget=forms.NumberInput(attrs={"step": "any"}))
            else:
                field = forms.IntegerField(label=label, required=False, min_value=0)
            field.widget.attrs["data-figure"] = name
            self.fields[name] = field

    def changes(self) -> dict[str, float | int | None]:
        """The figures that differ from the snapshot (call after is_valid())."""
        out: dict[str, float | int | None] = {}
        for name, _kind in WHAT_IF_FIGURES:
            new = self.cleaned_data.get(name)
            old = self.facts.get(name)
            if new is None and old is None:
                continue
            if new is None or old is None or abs(float(new) - float(old)) > 1e-9:
                out[name] = new
        return out


class RunStartForm(forms.Form):
    standard = forms.ChoiceField(label=_("Standard version"))
    evaluation_date = forms.DateField(label=_("Evaluation date"),
                                      widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, standards=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.standards = {str(s.pk): s for s in standards}
        self.fields["standard"].choices = [
            (str(s.pk), f"{s.name_zh} · {s.standard_id} v{s.version}") for s in standards
        ]
        self.fields["evaluation_date"].initial = timezone.localdate()

    def clean_standard(self):
        return self.standards[self.cleaned_data["standard"]]


class WhitelistForm(forms.Form):
    min_grade = forms.ChoiceField(
        label=_("Minimum grade"), required=False, choices=[("", "—"), *((g, g) for g in GRADES)]
    )
    min_score = forms.DecimalField(label=_("Minimum score"), required=False, min_value=0, decimal_places=4)


class RankingsForm(forms.Form):
    group_by = forms.ChoiceField(label=_("Group by"), choices=GROUP_BYS, required=False)


class StandardVersionForm(forms.Form):
    """A new version derived from an old one: its number, why, and the whole definition as JSON."""

    version = forms.CharField(label=_("New version number"), max_length=16)
    note = forms.CharField(label=_("Change note"), max_length=255, required=False)
    definition = forms.CharField(
        label=_("Definition (JSON)"),
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "mono json-editor"}),
    )

    def clean_definition(self):
        text = self.cleaned_data["definition"]
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("This is not valid JSON (line %(line)s, column %(column)s: %(error)s)"),
                params={"line": exc.lineno, "column": exc.colno, "error": exc.msg},
            ) from None
        if not isinstance(data, dict):
            raise forms.ValidationError(_("The definition must be a JSON object."))
        return data
