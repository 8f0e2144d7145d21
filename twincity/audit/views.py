from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from twincity.audit import selectors
from twincity.audit.access import can_view_audit_trail
from twincity.core.access import require
from twincity.core.models import AuditEntry


@login_required
@require_GET
def audit_list_view(request):
    require(can_view_audit_trail(request.user))
    filters = {
        "object_type": request.GET.get("object_type", ""),
        "object_id": request.GET.get("object_id", ""),
        "actor": request.GET.get("actor", ""),
        "action": request.GET.get("action", ""),
    }
    page = Paginator(selectors.audit_search(**filters), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "actions": AuditEntry.Action.choices,
        "object_types": selectors.audited_object_types(),
    }
    return render(request, "audit/audit_list.html", context)
