"""Who may see and change what in the enterprise registry: one predicate per decision.

Views, API handlers, services, selectors and the navigation call these and nothing else. Each object rule
comes in two forms side by side, one for a single object (`can_view_enterprise`) and one for lists
(`enterprises_visible`), built from the same role predicates; tests check that they agree for the whole
persona cast.
"""

from django.db.models import QuerySet

from twincity.accounts.access import is_admin, is_enterprise_user, is_registry_reader
from twincity.enterprises.fields import COMPANY_EDITABLE_FIELDS, PROFILE_FIELD_NAMES
from twincity.enterprises.models import AnnualDeclaration, Enterprise, ImportJob


def is_own_enterprise(user, enterprise: Enterprise) -> bool:
    """The enterprise is the company the person acts for."""
    return is_enterprise_user(user) and enterprise.organisation_id == user.organisation_id


def own_enterprise(user) -> Enterprise | None:
    """The company an enterprise user acts for (looked up once per user object)."""
    if not is_enterprise_user(user):
        return None
    cache = getattr(user, "_own_enterprise_cache", None)
    if cache is None or cache[0] != user.organisation_id:
        cache = (user.organisation_id, Enterprise.objects.filter(organisation_id=user.organisation_id).first())
        user._own_enterprise_cache = cache
    return cache[1]


def has_own_enterprise(user) -> bool:
    return own_enterprise(user) is not None


# --- enterprises -------------------------------------------------------------------------------------------


def can_browse_registry(user) -> bool:
    """Search the whole registry: administrators and registry readers (banks, guarantors, funds, clerks)."""
    return is_admin(user) or is_registry_reader(user)


def can_list_enterprises(user) -> bool:
    """Open the registry list at all (a company's users see their own company in it)."""
    return can_browse_registry(user) or has_own_enterprise(user)


def can_view_enterprise(user, enterprise: Enterprise) -> bool:
    return can_browse_registry(user) or is_own_enterprise(user, enterprise)


def enterprises_visible(user) -> QuerySet[Enterprise]:
    if can_browse_registry(user):
        return Enterprise.objects.all()
    if is_enterprise_user(user):
        return Enterprise.objects.filter(organisation_id=user.organisation_id)
    return Enterprise.objects.none()


def can_register_enterprise(user) -> bool:
    return is_admin(user)


def can_delete_enterprise(user, enterprise: Enterprise) -> bool:
    return is_admin(user)


def editable_profile_fields(user, enterprise: Enterprise) -> frozenset[str]:
    """The profile fields this person may change: administrators all of them; a company's own users its
    contact details and self-declared facts, never its registered identity (name, code, address of record)."""
    if is_admin(user):
        return PROFILE_FIELD_NAMES
    if is_own_enterprise(user, enterprise):
        return COMPANY_EDITABLE_FIELDS
    return frozenset()


def can_edit_enterprise(user, enterprise: Enterprise) -> bool:
    return bool(editable_profile_fields(user, enterprise))


def enterprises_editable(user) -> QuerySet[Enterprise]:
    if is_admin(user):
        return Enterprise.objects.all()
    if is_enterprise_user(user):
        return Enterprise.objects.filter(organisation_id=user.organisation_id)
    return Enterprise.objects.none()


def can_view_enterprise_history(user, enterprise: Enterprise) -> bool:
    return is_admin(user)


def can_manage_qualifications(user, enterprise: Enterprise) -> bool:
    return is_admin(user)


# --- declarations ------------------------------------------------------------------------------------------


def can_view_declarations(user, enterprise: Enterprise) -> bool:
    """A company's finances: administrators and the company's own users."""
    return is_admin(user) or is_own_enterprise(user, enterprise)


def can_edit_declarations(user, enterprise: Enterprise) -> bool:
    return is_admin(user) or is_own_enterprise(user, enterprise)


def declarations_visible(user) -> QuerySet[AnnualDeclaration]:
    if is_admin(user):
        return AnnualDeclaration.objects.all()
    if is_enterprise_user(user):
        return AnnualDeclaration.objects.filter(enterprise__organisation_id=user.organisation_id)
    return AnnualDeclaration.objects.none()


def can_verify_figures(user) -> bool:
    """Mark a figure verified (or attribute it to an authority as verified): administrators only; a company
    never verifies its own figures."""
    return is_admin(user)


# --- imports -----------------------------------------------------------------------------------------------


def can_import(user) -> bool:
    """Upload registry files: administrators (any company), a company's users (their company's rows)."""
    return is_admin(user) or has_own_enterprise(user)


def can_view_import_job(user, job: ImportJob) -> bool:
    return is_admin(user) or (job.created_by_id is not None and job.created_by_id == getattr(user, "pk", None))


def import_jobs_visible(user) -> QuerySet[ImportJob]:
    if is_admin(user):
        return ImportJob.objects.all()
    if getattr(user, "pk", None) is None:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(created_by_id=user.pk)
