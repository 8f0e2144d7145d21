"""What each person's home page shows, composed from the domains' selectors."""

from django.db.models import Count

from twincity.accounts.models import User
from twincity.accounts.selectors import REGISTRY_READER_ROLES, organisation_list_visible, user_is_admin
from twincity.core.selectors import audit_search
from twincity.enterprises.fields import INDUSTRY_CLUSTERS
from twincity.enterprises.models import Enterprise
from twincity.enterprises.selectors import declaration_list_visible, enterprise_list_visible
from twincity.points.presentation import VERDICT_BADGES, verdict_labels
from twincity.points.selectors import enterprise_latest_results


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
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return context
    if user_is_admin(user):
        context["panel"] = "admin"
        context["recent_changes"] = list(audit_search(user=user)[:8])
        context["flagged_declarations"] = declaration_list_visible(user=user).exclude(flags=[]).count()
    elif user.role == User.Role.ENTERPRISE_USER and user.organisation_id:
        context["panel"] = "enterprise"
        enterprise = enterprise_list_visible(user=user).prefetch_related("qualifications").first()
        context["enterprise"] = enterprise
        if enterprise is not None:
            context["declarations"] = list(
                declaration_list_visible(user=user).filter(enterprise=enterprise).order_by("-fiscal_year")[:3]
            )
            labels = verdict_labels()
            context["points_results"] = [
                {"result": r, "verdict": labels.get(r.verdict, r.verdict), "badge": VERDICT_BADGES.get(r.verdict, "")}
                for r in enterprise_latest_results(user=user, enterprise=enterprise)
            ]
    elif user.role in REGISTRY_READER_ROLES:
        context["panel"] = "institution"
        context["organisations"] = list(organisation_list_visible(user=user))
    else:
        context["panel"] = "no_role"
    return context
