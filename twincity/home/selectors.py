"""What each person's home page shows, composed from the domains' selectors and access predicates."""

from django.db.models import Count

from twincity.accounts import access as accounts_access
from twincity.audit.access import can_view_audit_trail
from twincity.audit.selectors import audit_search
from twincity.enterprises import access as enterprises_access
from twincity.enterprises.fields import INDUSTRY_CLUSTERS
from twincity.enterprises.models import Enterprise
from twincity.points.presentation import VERDICT_BADGES, verdict_labels
from twincity.points.selectors import result_latest_per_standard


def public_figures() -> dict[str, object]:
    """Aggregate registry figures: public, as the programme publishes them; no single company is named."""
    by_city = dict(Enterprise.objects.values_list("city").annotate(n=Count("pk")).order_by())
    by_cluster = dict(Enterprise.objects.values_list("industry_cluster").annotate(n=Count("pk")).order_by())
    return {
        "enterprise_total": sum(by_city.values()),
        "chongqing_total": by_city.get("chongqing", 0),
        "chengdu_total": by_city.get("chengdu", 0),
        "clusters": [
            {"key": key, "label": label, "count": by_cluster.get(key, 0)}
            for key, (label, _en) in INDUSTRY_CLUSTERS.items()
        ],
    }


def home_context_for(user) -> dict[str, object]:
    context: dict[str, object] = {"figures": public_figures(), "panel": "public"}
    if not accounts_access.is_signed_in(user):
        return context
    if accounts_access.is_admin(user):
        context["panel"] = "admin"
        context["can_view_audit_trail"] = can_view_audit_trail(user)
        context["recent_changes"] = list(audit_search()[:8])
        context["flagged_declarations"] = (
            enterprises_access.declarations_visible(user).exclude(flags=[]).count()
        )
    elif enterprises_access.has_own_enterprise(user):
        context["panel"] = "enterprise"
        enterprise = enterprises_access.own_enterprise(user)
        context["enterprise"] = enterprise
        context["qualifications"] = list(enterprise.qualifications.all())
        context["can_import"] = enterprises_access.can_import(user)
        context["declarations"] = list(enterprise.declarations.order_by("-fiscal_year")[:3])
        labels = verdict_labels()
        context["points_results"] = [
            {"result": r, "verdict": labels.get(r.verdict, r.verdict), "badge": VERDICT_BADGES.get(r.verdict, "")}
            for r in result_latest_per_standard(user=user, enterprise=enterprise)
        ]
    elif enterprises_access.can_browse_registry(user):
        context["panel"] = "institution"
        context["organisations"] = list(accounts_access.organisations_visible(user))
    else:
        context["panel"] = "no_role"
    return context
