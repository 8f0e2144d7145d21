from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from twincity.audit import selectors
from twincity.audit.access import can_view_audit_trail
from twincity.core.access import require
from twincity.core.caching import REGISTRY, cached_count
from twincity.core.keyset import numbered_page
from twincity.core.models import AuditEntry

PAGE_SIZE = 50


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
    entries = selectors.audit_search(**filters)
    # Keyset pages (twincity.core.keyset) newest first; every audit entry bumps the registry's version, so the
    # count is cached under it.
    page = numbered_page(entries, ["-at", "-pk"], request.GET, size=PAGE_SIZE,
                         count=cached_count(REGISTRY, entries))
    context = {
        "page": page,
        "filters": filters,
        "actions": AuditEntry.Action.choices,
        "object_types": selectors.audited_object_types(),
    }
    return render(request, "audit/audit_list.html", context)
