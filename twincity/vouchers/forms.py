"""The voucher pages' forms: a batch's terms, issuing, an evidence file, an export period."""

from django import forms

from twincity.accounts.models import City, Organisation
from twincity.vouchers.models import EvidenceKind, SettlementMode


class BatchForm(forms.Form):
    code = forms.CharField(label="批次编号", max_length=40)
    name = forms.CharField(label="批次名称", max_length=200)
    city = forms.ChoiceField(label="发券城市", choices=City.choices)
    amount = forms.DecimalField(label="每张面额（元）", max_digits=12, decimal_places=2, min_value=1)
    valid_from = forms.DateField(label="有效期自", widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label="有效期至", widget=forms.DateInput(attrs={"type": "date"}))
    categories = forms.CharField(label="可用服务类别（仪器分类代码，逗号分隔；空为不限）", required=False, max_length=200)
    providers = forms.ModelMultipleChoiceField(
        label="入库服务机构（不选为不限）", required=False,
        queryset=Organisation.objects.filter(kind=Organisation.Kind.INSTITUTE).order_by("city", "name"))
    regions = forms.MultipleChoiceField(label="接受使用的城市（川渝互认）", choices=City.choices,
                                        widget=forms.CheckboxSelectMultiple)
    settlement_mode = forms.ChoiceField(label="兑付方式", choices=SettlementMode.choices)
    copay_share = forms.DecimalField(label="企业自付比例（0–0.99）", max_digits=4, decimal_places=3, min_value=0,
                                     max_value=0.999, initial=0)

    def category_codes(self) -> list[str]:
        raw = self.cleaned_data.get("categories") or ""
        return [code.strip() for code in raw.replace("，", ",").split(",") if code.strip()]


class IssueForm(forms.Form):
    holders = forms.ModelMultipleChoiceField(
        label="发放企业", queryset=Organisation.objects.filter(kind=Organisation.Kind.ENTERPRISE).order_by("name"))


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(label="材料类型", choices=EvidenceKind.choices)
    file = forms.FileField(label="文件")


class PeriodForm(forms.Form):
    period_from = forms.DateField(label="服务日期自", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    period_until = forms.DateField(label="服务日期至", required=False, widget=forms.DateInput(attrs={"type": "date"}))
