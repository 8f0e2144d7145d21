"""Reads of the enterprise registry. Who may see what is decided in `access`; every list starts from there."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from twincity.core.audit import subject_of
from twincity.core.caching import REGISTRY, cached_count
from twincity.core.models import AuditEntry
from twincity.enterprises import access
from twincity.enterprises.models import AnnualDeclaration, Enterprise, ImportJob, Qualification

# What a credit code (or its start) may hold; a query with anything else is searched in the names only.
CODE_CHARACTERS = re.compile(r"[0-9A-Za-z]+")
SORTS = ("name", "-name", "credit_code", "-credit_code", "registered_on", "-registered_on", "city", "-city")


def enterprise_get_visible(*, user, credit_code: str) -> Enterprise | None:
    # A company's user asking for their own company: the row the navigation already read (no second query).
    own = access.own_enterprise(user)
    if own is not None and own.credit_code == credit_code:
        return own
    return access.enterprises_visible(user).filter(credit_code=credit_code).first()


def enterprise_search(
    *,
    user,
    query: str = "",
    city: str = "",
    industry_cluster: str = "",
    qualification: str = "",
    ordering: str = "name",
) -> QuerySet[Enterprise]:
    qs = access.enterprises_visible(user)
    query = query.strip()
    if query and CODE_CHARACTERS.fullmatch(query):
        qs = qs.filter(Q(name__icontains=query) | Q(credit_code__istartswith=query.upper()))
    elif query:  # no credit code starts with it (they are digits and capitals): the name alone
        qs = qs.filter(name__icontains=query)
    if city:
        qs = qs.filter(city=city)
    if industry_cluster:
        qs = qs.filter(industry_cluster=industry_cluster)
    if qualification:
        qs = qs.filter(pk__in=Qualification.objects.filter(kind=qualification).values("enterprise_id"))
    return qs.order_by(search_ordering(ordering), "pk")


def search_ordering(ordering: str) -> str:
    """The list's ordering: one of SORTS (then the primary key), by name when it is not one."""
    return ordering if ordering in SORTS else "name"


def enterprise_search_count(*, user, query: str = "", city: str = "", industry_cluster: str = "",
                            qualification: str = "", ordering: str = "name") -> int:
    """How many enterprises `enterprise_search` finds: cached until an audited write changes the registry
    (twincity.core.caching)."""
    return cached_count(REGISTRY, enterprise_search(user=user, query=query, city=city,
                                                    industry_cluster=industry_cluster, qualification=qualification))


def enterprise_qualifications(*, enterprise: Enterprise) -> QuerySet[Qualification]:
    return enterprise.qualifications.all()


def qualification_get(*, enterprise: Enterprise, qualification_id: int) -> Qualification | None:
    return enterprise.qualifications.filter(pk=qualification_id).first()


def declaration_list_for_enterprise(*, enterprise: Enterprise) -> QuerySet[AnnualDeclaration]:
    """An enterprise's declarations, newest first (callers check `access.can_view_declarations`)."""
    return enterprise.declarations.order_by("-fiscal_year")


def declaration_get(*, enterprise: Enterprise, fiscal_year: int) -> AnnualDeclaration | None:
    return enterprise.declarations.filter(fiscal_year=fiscal_year).first()


def enterprise_history(*, enterprise: Enterprise) -> QuerySet[AuditEntry]:
    """The enterprise's own changes and those of its declarations and qualifications (deleted ones
    included), newest first (callers check `access.can_view_enterprise_history`)."""
    return AuditEntry.objects.select_related("actor").filter(subject=subject_of(enterprise)).order_by("-at", "-id")


def import_job_get_visible(*, user, job_id: int) -> ImportJob | None:
    return access.import_jobs_visible(user).select_related("created_by").filter(pk=job_id).first()


def import_job_list_recent(*, user, limit: int = 10) -> list[ImportJob]:
    """The person's own recent uploads (administrators too see only theirs here)."""
    if getattr(user, "pk", None) is None:
        return []
    return list(ImportJob.objects.filter(created_by_id=user.pk)[:limit])


# --- 科技和创新型中小企业: a tier, not a table -----------------------------------------------------------------
# The 2026 《优质中小企业梯度培育管理办法》 publishes no evaluation standard for it: an enterprise holds the tier when
# it holds a valid 科技型中小企业 registration or a valid 创新型中小企业 title (shared/reference/miit-2026.md §2).
TECH_INNOVATIVE_BASIS = (Qualification.Kind.TSME, Qualification.Kind.INNOV)


@dataclass(frozen=True)
class Tier:
    held: bool
    basis: tuple[Qualification, ...]  # the valid certificates that make it so


def qualifications_held(*, enterprise: Enterprise, on: date) -> list[Qualification]:
    """The qualifications in force on a date, one per kind (its newest valid certificate): what a company holds,
    not every certificate it ever had."""
    held: dict[str, Qualification] = {}
    for qualification in enterprise.qualifications.valid_on(on).order_by("kind", "-valid_from"):
        held.setdefault(qualification.kind, qualification)
    return list(held.values())


def tech_innovative_tier(*, enterprise: Enterprise, on: date) -> Tier:
    """Whether the enterprise holds the 科技和创新型 tier on a date, and the certificates it rests on."""
    basis = tuple(enterprise.qualifications.valid_on(on).filter(kind__in=TECH_INNOVATIVE_BASIS)
                  .order_by("kind", "-valid_from"))
    return Tier(held=bool(basis), basis=basis)


def tech_innovative_tiers(*, enterprise_ids: Iterable[int], on: date) -> dict[int, Tier]:
    """The tier of many enterprises at once (rankings): one query."""
    basis: dict[int, list[Qualification]] = {}
    for qualification in (Qualification.objects.valid_on(on)
                          .filter(enterprise_id__in=list(enterprise_ids), kind__in=TECH_INNOVATIVE_BASIS)
                          .order_by("kind", "-valid_from")):
        basis.setdefault(qualification.enterprise_id, []).append(qualification)
    return {pk: Tier(held=True, basis=tuple(items)) for pk, items in basis.items()}
