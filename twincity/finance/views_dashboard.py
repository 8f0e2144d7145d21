"""科技金融看板 (the finance dashboard): volume and count by product, institution, city, cluster and points grade;
the institutions' league table (claim rate, time to claim, time to decision, approval rate, rejection reasons);
the pool's balance and losses (tables other domains add: twincity.finance.dashboard.ExtraTable); the time to
disbursement of twin-city loans; charts, and CSV/XLSX export of every table. Filters: the period (default the
last 12 months) and the city. Figures: twincity.finance.dashboard; who sees what: twincity.finance.access."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET

from twincity.accounts.models import City
from twincity.core.access import require
from twincity.core.exports import csv_lines, xlsx_bytes
from twincity.finance import access
from twincity.finance import dashboard as figures

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE = "finance/dashboard.html"
MAX_DAYS = 3 * 366  # the longest period asked at once


class DashboardFilterForm(forms.Form):
    date_from = forms.DateField(label=pgettext_lazy("period", "From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=pgettext_lazy("period", "To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    city = forms.ChoiceField(label=gettext_lazy("City"), required=False,
                             choices=[("", gettext_lazy("Both cities")), *City.choices])

    def filters(self, today: dt.date) -> figures.Filters:
        """The filters asked (the last 12 months by default); call after is_valid()."""
        default = figures.Filters.default(today)
        data = self.cleaned_data
        return figures.Filters(data.get("date_from") or default.date_from, data.get("date_to") or default.date_to,
                               data.get("city") or "")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The period ends before it starts."))
        if start and end and (end - start).days > MAX_DAYS:
            raise forms.ValidationError(_("Choose a period of at most three years."))
        return data


def _board(request) -> tuple[DashboardFilterForm, figures.Dashboard | None, list[int] | None]:
    require(access.can_view_dashboard(request.user))
    today = timezone.localdate()
    default = figures.Filters.default(today)
    # The form shows the period in force: the last 12 months unless asked otherwise.
    data = {"date_from": default.date_from.isoformat(), "date_to": default.date_to.isoformat(), "city": ""}
    data.update({k: v for k, v in request.GET.items() if k in data and v})
    form = DashboardFilterForm(data)
    institution_ids = access.dashboard_institutions(request.user)
    if not form.is_valid():
        return form, None, institution_ids
    board = figures.dashboard(filters=form.filters(today), institution_ids=institution_ids, today=today)
    return form, board, institution_ids


def _charts(board: figures.Dashboard) -> dict[str, Any]:
    """The charts' data (ECharts options are built by static/js/finance-dashboard.js)."""
    volume = {dim: {"labels": [r.label for r in rows[:12]], "cases": [r.cases for r in rows[:12]],
                    "asked": [round(float(r.asked) / 10000, 2) for r in rows[:12]],
                    "approved": [round(float(r.approved_amount) / 10000, 2) for r in rows[:12]]}
              for dim, rows in board.volumes.items()}
    league = board.league[:12]
    return {
        "series": {"cases": _("Cases"), "asked": _("Amount asked (10k yuan)"),
                   "approved": _("Approved (10k yuan)"), "wd": _("Working days (median)"),
                   "cd": _("Calendar days (median)"), "claim_rate": _("Claim rate %"),
                   "approval_rate": _("Approval rate %")},
        "volume": volume,
        "league": {"labels": [r.name for r in league],
                   "claim_wd": [r.to_claim.wd_median for r in league],
                   "decision_wd": [r.to_decision.wd_median for r in league],
                   "decision_cd": [r.to_decision.cd_median for r in league],
                   "claim_rate": [r.claim_rate for r in league],
                   "approval_rate": [r.approval_rate for r in league]},
        "reasons": {"labels": [reason for reason, _n in board.reasons], "counts": [n for _r, n in board.reasons]},
    }


def _extras(request, filters: figures.Filters, charts: dict[str, Any]) -> list[dict[str, Any]]:
    """The tables other domains add (the risk pool), with their charts' data put into `charts`."""
    out = []
    for extra in figures.extra_tables():
        rows = extra.rows(request.user, filters)
        chart = extra.chart(rows) if extra.chart and rows else None
        if chart:
            charts.setdefault("extras", {})[extra.key] = chart
        out.append({"table": extra, "rows": rows, "chart": chart,
                    "cells": [[{"v": v, "num": isinstance(v, (int, float, Decimal)) and not isinstance(v, bool),
                                "money": isinstance(v, Decimal)}
                               for v in row] for row in rows]})
    return out


@login_required
@require_GET
def dashboard_view(request):
    form, board, institution_ids = _board(request)
    context: dict[str, Any] = {"form": form, "board": board, "dimensions": figures.DIMENSIONS,
                               "query": request.GET.urlencode(), "is_admin": institution_ids is None}
    if board is not None:
        context["charts"] = _charts(board)
        context["extras"] = _extras(request, board.filters, context["charts"])
        context["volume_tables"] = [(dim, label, board.volumes[dim]) for dim, label in figures.DIMENSIONS.items()]
    template = TEMPLATE + ("#dashboard-body" if request.headers.get("HX-Request") else "")
    return render(request, template, context, status=200 if board is not None else 400)


@login_required
@require_GET
def dashboard_export_view(request, table: str, fmt: str):
    """One of the dashboard's tables, with the filters of the page, as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    form, board, _ids = _board(request)
    if board is None:
        return HttpResponse("; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()), status=400,
                            content_type="text/plain; charset=utf-8")
    found = figures.table(board, table)
    if found is None:
        extra = next((t for t in figures.extra_tables() if t.key == table), None)
        if extra is None:
            raise Http404
        found = (tuple((key, str(label)) for key, label in extra.columns), extra.rows(request.user, board.filters))
    columns, rows = found
    header = [label for _key, label in columns]
    f = board.filters
    filename = f"finance-{table}-{f.date_from.isoformat()}-{f.date_to.isoformat()}{'-' + f.city if f.city else ''}"
    if fmt == "csv":
        response = HttpResponse("".join(csv_lines(header, rows)).encode("utf-8"),
                                content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(xlsx_bytes(table[:31], header, rows), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
