"""What each person's home page shows, composed from the domains' selectors and access predicates."""

from django.db.models import Count
from django.utils import timezone

from twincity.accounts import access as accounts_access
from twincity.audit.access import can_view_audit_trail
from twincity.audit.selectors import audit_search
from twincity.core.caching import REGISTRY, cached
from twincity.enterprises import access as enterprises_access
from twincity.enterprises import selectors as enterprises_selectors
from twincity.enterprises.fields import INDUSTRY_CLUSTERS
from twincity.enterprises.models import Enterprise
from twincity.points.presentation import VERDICT_BADGES, verdict_labels
from twincity.points.selectors import result_latest_per_standard


def public_figures() -> dict[str, object]:
    """Aggregate registry figures: public, as the programme publishes them; no single company is named. Cached
    until an audited write changes the registry (twincity.core.caching)."""
    return cached(REGISTRY, "home:public-figures", _public_figures)


def _public_figures() -> dict[str, object]:
    # One pass over the (city, industry_cluster) index.
    by_city: dict[str, int] = {}
    by_cluster: dict[str, int] = {}
    for city, cluster, n in (Enterprise.objects.values_list("city", "industry_cluster")
                             .annotate(n=Count("pk")).order_by()):
        by_city[city] = by_city.get(city, 0) + n
        by_cluster[cluster] = by_cluster.get(cluster, 0) + n
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
        # Administrators see every declaration: one count for all of them, cached like the figures.
        context["flagged_declarations"] = cached(
            REGISTRY, "home:flagged-declarations",
            lambda: enterprises_access.declarations_visible(user).exclude(flags=[]).count(),
        )
    elif enterprises_access.has_own_enterprise(user):
        context["panel"] = "enterprise"
        enterprise = enterprises_access.own_enterprise(user)
        context["enterprise"] = enterprise
        context["qualifications"] = enterprises_selectors.qualifications_held(enterprise=enterprise,
                                                                               on=timezone.localdate())
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
