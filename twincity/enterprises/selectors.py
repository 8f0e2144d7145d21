"""Reads of the enterprise registry, and the one access rule for each of its object types.

Every list, page and API endpoint goes through `enterprise_list_visible` / `declaration_list_visible`.
"""

from django.db.models import Q, QuerySet

from twincity.accounts.models import User
from twincity.accounts.selectors import REGISTRY_READER_ROLES
from twincity.core.models import AuditEntry
from twincity.enterprises.models import AnnualDeclaration, Enterprise, Qualification


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def enterprise_list_visible(*, user) -> QuerySet[Enterprise]:
    """Administrators and registry readers (banks, guarantors, funds, clerks) see every profile;
    an enterprise user sees only the company of her own organisation; anyone else sees none."""
    if not _active(user):
        return Enterprise.objects.none()
    if user.is_platform_admin or user.role in REGISTRY_READER_ROLES:
        return Enterprise.objects.all()
    if user.role == User.Role.ENTERPRISE_USER and user.organisation_id:
        return Enterprise.objects.filter(organisation_id=user.organisation_id)
    return Enterprise.objects.none()


def enterprise_list_editable(*, user) -> QuerySet[Enterprise]:
    """Who may change a profile and its declarations: administrators, and a company's own users."""
    if not _active(user):
        return Enterprise.objects.none()
    if user.is_platform_admin:
        return Enterprise.objects.all()
    if user.role == User.Role.ENTERPRISE_USER and user.organisation_id:
        return Enterprise.objects.filter(organisation_id=user.organisation_id)
    return Enterprise.objects.none()


def enterprise_get_visible(*, user, credit_code: str) -> Enterprise | None:
    return enterprise_list_visible(user=user).filter(credit_code=credit_code).first()


def enterprise_get_editable(*, user, credit_code: str) -> Enterprise | None:
    return enterprise_list_editable(user=user).filter(credit_code=credit_code).first()


def declaration_list_visible(*, user) -> QuerySet[AnnualDeclaration]:
    """Declarations hold a company's finances: only administrators and the company's own users read them."""
    return AnnualDeclaration.objects.filter(enterprise__in=enterprise_list_editable(user=user))


def enterprise_search(
    *,
    user,
    query: str = "",
    city: str = "",
    industry_cluster: str = "",
    qualification: str = "",
    ordering: str = "name",
) -> QuerySet[Enterprise]:
    qs = enterprise_list_visible(user=user)
    query = query.strip()
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(credit_code__istartswith=query.upper()))
    if city:
        qs = qs.filter(city=city)
    if industry_cluster:
        qs = qs.filter(industry_cluster=industry_cluster)
    if qualification:
        qs = qs.filter(qualifications__kind=qualification).distinct()
    allowed = {"name", "-name", "credit_code", "-credit_code", "registered_on", "-registered_on", "city", "-city"}
    return qs.order_by(ordering if ordering in allowed else "name", "pk")


def enterprise_qualifications(*, enterprise: Enterprise) -> QuerySet[Qualification]:
    return enterprise.qualifications.all()


def declaration_list_for_enterprise(*, user, enterprise: Enterprise) -> QuerySet[AnnualDeclaration]:
    return declaration_list_visible(user=user).filter(enterprise=enterprise).order_by("-fiscal_year")


def audit_list_visible(*, user) -> QuerySet[AuditEntry]:
    """The audit trail is for administrators."""
    if _active(user) and user.is_platform_admin:
        return AuditEntry.objects.select_related("actor")
    return AuditEntry.objects.none()


def audit_history_for(*, user, object_type: str, object_ids: list[str]) -> QuerySet[AuditEntry]:
    return audit_list_visible(user=user).filter(object_type=object_type, object_id__in=object_ids)


def enterprise_audit_history(*, user, enterprise: Enterprise) -> QuerySet[AuditEntry]:
    """The enterprise's own changes and those of its declarations, newest first."""
    declaration_ids = [str(pk) for pk in enterprise.declarations.values_list("pk", flat=True)]
    return audit_list_visible(user=user).filter(
        Q(object_type="enterprises.enterprise", object_id=str(enterprise.pk))
        | Q(object_type="enterprises.annualdeclaration", object_id__in=declaration_ids)
        | Q(object_type="enterprises.qualification", context__startswith=f"enterprise:{enterprise.pk}")
    )
