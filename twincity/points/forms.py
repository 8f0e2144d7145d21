"""Forms of the points pages: they check what a person typed; the services decide what it means."""

import json

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from points_engine import EVALUATION_KINDS, FACTS
from twincity.points.models import Application, EvaluationInput, StandardVersion

GRADES = ("A", "B", "C", "D", "E")
GROUP_BYS = (
    ("industry_cluster", _("Industry cluster")),
    ("city", _("City")),
    ("stage", _("Development stage")),
)

# The figures a person may change in the what-if form (fact names; labels, units and types come from the
# engine's one facts vocabulary, points_engine.FACTS). `_y3` is the last completed fiscal year before the
# evaluation date, `_y2` the one before.
WHAT_IF_FACTS: tuple[str, ...] = (
    "rd_y3", "rd_y2", "sales_y3", "sales_y2", "net_profit_y3", "tax_y3", "na_y3", "hitech_rev_y3",
    "tech_contract_y3", "equity_3y", "employees", "tech_staff", "rd_staff", "ip_I_self", "ip_I_acq", "ip_I_hv",
    "ip_II", "transforms_3y",
)


def figure_kind(name: str) -> str:
    """How a fact reads: money (万元), a whole number, a ratio, or a plain number."""
    spec = FACTS.get(name)
    if spec is None:
        return "number"
    if spec.unit == "万元":
        return "money"
    if spec.unit == "ratio":
        return "ratio"
    return "int" if spec.type == "int" else "number"


def figure_label(name: str, evaluation_year: int | None = None) -> str:
    """The label of a fact in the viewer's language, with its fiscal year: rd_y3 → 研发费用（2025年）."""
    spec = FACTS.get(name)
    if spec is None:
        return name
    english = (get_language() or "").startswith("en")
    label = spec.label_en if english else spec.label_zh
    if spec.year is None:
        return label
    if evaluation_year is None:
        return f"{label} (y{spec.year})" if english else f"{label}（y{spec.year}）"
    year = evaluation_year - (4 - spec.year)
    return f"{label} ({year})" if english else f"{label}（{year}年）"


def _plain(value):
    """400.0 → 400 for the form: whole numbers read without a decimal point."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class WhatIfForm(forms.Form):
    """One field per figure, pre-filled from the facts snapshot. Blank means unknown."""

    def __init__(self, *args, facts: dict | None = None, evaluation_year: int | None = None, **kwargs):
        facts = facts or {}
        initial = {name: _plain(facts.get(name)) for name in WHAT_IF_FACTS}
        super().__init__(*args, initial=initial, **kwargs)
        self.facts = facts
        for name in WHAT_IF_FACTS:
            kind = figure_kind(name)
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
        for name in WHAT_IF_FACTS:
            new = self.cleaned_data.get(name)
            old = self.facts.get(name)
            if new is None and old is None:
                continue
            if new is None or old is None or abs(float(new) - float(old)) > 1e-9:
                out[name] = new
        return out


KIND_PREFIX = "kind:"


class RunStartForm(forms.Form):
    """A kind of evaluation (its version is the one in force on the evaluation date, or for renewals the one
    configured for that year), or an explicit standard version."""

    standard = forms.ChoiceField(label=_("Standard"))
    evaluation_date = forms.DateField(label=_("Evaluation date"),
                                      widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    application = forms.ChoiceField(label=_("Application"), choices=Application.choices, initial=Application.NEW,
                                    required=False)

    def __init__(self, *args, standards=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.standards = {str(s.pk): s for s in standards}
        by_kind = [(f"{KIND_PREFIX}{kind}", _("%(kind)s · the version in force on the date") % {"kind": zh})
                   for kind, (zh, _en) in EVALUATION_KINDS.items()]
        versions = [(str(s.pk), f"{s.name_zh} · {s.standard_id} v{s.version}") for s in standards]
        self.fields["standard"].choices = [(_("Kind of evaluation"), by_kind), (_("Standard version"), versions)]
        self.fields["evaluation_date"].initial = timezone.localdate()

    def clean_application(self) -> str:
        return self.cleaned_data.get("application") or Application.NEW

    def clean_standard(self):
        """A StandardVersion, or the kind of evaluation (str) whose version the date decides."""
        value = self.cleaned_data["standard"]
        if value.startswith(KIND_PREFIX):
            return value.removeprefix(KIND_PREFIX)
        return self.standards[value]


class RenewalRuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of evaluation"))
    year = forms.IntegerField(label=_("Year of the renewals"), min_value=2000, max_value=2100)
    standard = forms.ModelChoiceField(label=_("Judged by the version"), queryset=StandardVersion.objects.none())
    note = forms.CharField(label=_("The notice it follows"), max_length=255, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind, zh) for kind, (zh, _en) in EVALUATION_KINDS.items()]
        self.fields["standard"].queryset = StandardVersion.objects.order_by("kind", "-effective_from")
        self.fields["standard"].label_from_instance = lambda s: f"{s.name_zh} · {s.standard_id} v{s.version}"
        self.fields["year"].initial = timezone.localdate().year


class EvaluationInputForm(forms.Form):
    """A fact the registry cannot derive: yes/no for a judgement, a number for a score (0–100) or a share
    (0–1); a score names its year."""

    fact = forms.ChoiceField(label=_("Fact"), choices=EvaluationInput.Fact.choices)
    year = forms.IntegerField(label=_("Year (scores)"), min_value=2000, max_value=2100, required=False)
    value = forms.CharField(label=_("Value (yes/no, or a number)"), max_length=32)
    source = forms.CharField(label=_("Source"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), max_length=255, required=False)

    def clean_value(self):
        text = self.cleaned_data["value"].strip().lower()
        if text in {"y", "yes", "true", "是", "1"} and self.data.get("fact") not in ("quality_score", "market_share"):
            return True
        if text in {"n", "no", "false", "否", "0"} and self.data.get("fact") not in ("quality_score", "market_share"):
            return False
        return text


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
