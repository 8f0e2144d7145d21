from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from twincity.accounts.selectors import user_is_admin
from twincity.core.selectors import audit_search
from twincity.core.models import AuditEntry
from twincity.core.stats import home_context_for


def home_view(request):
    return render(request, "core/home.html", home_context_for(request.user))


@login_required
def audit_list_view(request):
    if not user_is_admin(request.user):
        raise PermissionDenied
    filters = {
        "object_type": request.GET.get("object_type", ""),
        "object_id": request.GET.get("object_id", ""),
        "actor": request.GET.get("actor", ""),
        "action": request.GET.get("action", ""),
    }
    page = Paginator(audit_search(user=request.user, **filters), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "actions": AuditEntry.Action.choices,
        "object_types": [
            ("enterprises.enterprise", "企业"), ("enterprises.annualdeclaration", "年度申报"),
            ("enterprises.qualification", "资质"), ("accounts.organisation", "机构"),
            ("accounts.user", "用户角色"), ("accounts.apitoken", "API令牌"),
        ],
    }
    return render(request, "core/audit_list.html", context)


def health_view(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
