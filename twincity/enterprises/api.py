"""The registry's JSON endpoints. Access goes through the selectors; writes through the services."""

from django.http import Http404
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from twincity.core.api import Pagination
from twincity.enterprises import selectors, services
from twincity.enterprises.schemas import (
    AuditEntryOut,
    DeclarationIn,
    DeclarationOut,
    EnterpriseCreateIn,
    EnterpriseDetailOut,
    EnterpriseOut,
    EnterpriseProfileIn,
)

router = Router(tags=["enterprises 企业库"])


class EnterpriseFilters(Schema):
    q: str = ""
    city: str = ""
    industry_cluster: str = ""
    qualification: str = ""
    ordering: str = "name"


def _visible(request, credit_code: str):
    enterprise = selectors.enterprise_get_visible(user=request.user, credit_code=credit_code)
    if enterprise is None:
        raise Http404
    return enterprise


@router.get("/", response=list[EnterpriseOut], summary="List enterprises you may see")
@paginate(Pagination)
def enterprise_list_api(request, filters: Query[EnterpriseFilters]):
    data = filters.dict()
    return selectors.enterprise_search(user=request.user, query=data.pop("q"), **data)


@router.post("/", response={201: EnterpriseDetailOut}, summary="Register an enterprise (administrators)")
def enterprise_create_api(request, payload: EnterpriseCreateIn):
    data = payload.dict(exclude_unset=True)
    enterprise = services.enterprise_create(
        actor=request.user, credit_code=data.pop("credit_code"), name=data.pop("name"), city=data.pop("city"),
        **data,
    )
    return Status(201, enterprise)


@router.get("/{credit_code}", response=EnterpriseDetailOut, summary="One enterprise's profile")
def enterprise_detail_api(request, credit_code: str):
    return _visible(request, credit_code)


@router.patch("/{credit_code}", response=EnterpriseDetailOut, summary="Change an enterprise's profile")
def enterprise_update_api(request, credit_code: str, payload: EnterpriseProfileIn):
    enterprise = _visible(request, credit_code)
    return services.enterprise_update(actor=request.user, enterprise=enterprise,
                                      changes=payload.dict(exclude_unset=True))


@router.delete("/{credit_code}", response={204: None}, summary="Delete an enterprise (administrators)")
def enterprise_delete_api(request, credit_code: str):
    services.enterprise_delete(actor=request.user, enterprise=_visible(request, credit_code))
    return Status(204, None)


@router.get("/{credit_code}/declarations", response=list[DeclarationOut], summary="Annual declarations")
def declaration_list_api(request, credit_code: str):
    enterprise = _visible(request, credit_code)
    return selectors.declaration_list_for_enterprise(user=request.user, enterprise=enterprise).select_related(
        "enterprise"
    )


def _declaration(request, credit_code: str, fiscal_year: int):
    enterprise = _visible(request, credit_code)
    declaration = (
        selectors.declaration_list_for_enterprise(user=request.user, enterprise=enterprise)
        .select_related("enterprise")
        .filter(fiscal_year=fiscal_year)
        .first()
    )
    if declaration is None:
        raise Http404
    return declaration


@router.get("/{credit_code}/declarations/{fiscal_year}", response=DeclarationOut, summary="One fiscal year")
def declaration_detail_api(request, credit_code: str, fiscal_year: int):
    return _declaration(request, credit_code, fiscal_year)


@router.put("/{credit_code}/declarations/{fiscal_year}", response=DeclarationOut,
            summary="Create or update one fiscal year's declaration")
def declaration_upsert_api(request, credit_code: str, fiscal_year: int, payload: DeclarationIn):
    enterprise = _visible(request, credit_code)
    return services.declaration_upsert(
        actor=request.user,
        enterprise=enterprise,
        fiscal_year=fiscal_year,
        figures=payload.figures.dict(exclude_unset=True),
        provenance={name: entry.dict() for name, entry in payload.provenance.items()},
        replace=payload.replace,
    )


@router.delete("/{credit_code}/declarations/{fiscal_year}", response={204: None},
               summary="Delete one fiscal year's declaration")
def declaration_delete_api(request, credit_code: str, fiscal_year: int):
    services.declaration_delete(actor=request.user, declaration=_declaration(request, credit_code, fiscal_year))
    return Status(204, None)


@router.get("/{credit_code}/history", response=list[AuditEntryOut],
            summary="Audit history of an enterprise and its declarations (administrators)")
@paginate(Pagination)
def enterprise_history_api(request, credit_code: str):
    enterprise = _visible(request, credit_code)
    return selectors.enterprise_audit_history(user=request.user, enterprise=enterprise)
