"""The registry's JSON endpoints. Access goes through the predicates of `access`: an object named in the path
that the caller may not see answers 404; an action on one they may see but may not take answers 403."""

from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from twincity.core.access import require, visible
from twincity.core.api import AuditEntryOut, Pagination, RegistryPagination, errors
from twincity.enterprises import access, selectors, services
from twincity.enterprises.fields import CREDIT_CODE_PATTERN, FISCAL_YEAR_MIN, INDUSTRY_CLUSTERS
from twincity.enterprises.models import Enterprise, Qualification
from twincity.enterprises.schemas import (
    NO_NUL,
    DeclarationIn,
    DeclarationOut,
    EnterpriseCreateIn,
    EnterpriseDetailOut,
    EnterpriseOut,
    EnterpriseProfileIn,
    QualificationIn,
    QualificationOut,
)

router = Router(tags=["enterprises 企业库"])

CreditCode = Path(..., pattern=CREDIT_CODE_PATTERN, format="uscc",
                  description="统一社会信用代码 (18 characters)")
FiscalYear = Path(..., ge=FISCAL_YEAR_MIN, le=services.fiscal_year_max(), description="会计年度")


class EnterpriseFilters(Schema):
    q: str = Field("", max_length=100, pattern=NO_NUL, description="name contains, or credit code starts with")
    city: str = Field("", pattern=r"^([a-z]{2,32})?$")
    industry_cluster: Literal[("", *INDUSTRY_CLUSTERS)] = ""  # type: ignore[valid-type]
    qualification: Literal[("", *Qualification.Kind.values)] = ""  # type: ignore[valid-type]
    ordering: Literal[selectors.SORTS] = "name"  # type: ignore[valid-type]


def _enterprise(request, credit_code: str) -> Enterprise:
    return visible(selectors.enterprise_get_visible(user=request.user, credit_code=credit_code),
                   "企业不存在或无权查看 (no such enterprise)")


@router.get("/", response={200: list[EnterpriseOut], **errors(401, 403, 422)},
            summary="List enterprises you may see")
@paginate(RegistryPagination)
def enterprise_list_api(request, filters: Query[EnterpriseFilters]):
    require(access.can_list_enterprises(request.user), _("You may not read the enterprise registry."))
    data = filters.dict()
    return selectors.enterprise_search(user=request.user, query=data.pop("q"), **data)


@router.post("/", response={201: EnterpriseDetailOut, **errors(401, 403, 409, 422)},
             summary="Register an enterprise (administrators)")
def enterprise_create_api(request, payload: EnterpriseCreateIn):
    data = payload.dict(exclude_unset=True)
    enterprise = services.enterprise_create(actor=request.user, **data)
    return Status(201, enterprise)


@router.get("/{credit_code}", response={200: EnterpriseDetailOut, **errors(401, 404, 422)},
            summary="One enterprise's profile")
def enterprise_detail_api(request, credit_code: str = CreditCode):
    return _enterprise(request, credit_code)


@router.patch("/{credit_code}", response={200: EnterpriseDetailOut, **errors(401, 403, 404, 422)},
              summary="Change an enterprise's profile (fields left out are unchanged; null clears)")
def enterprise_update_api(request, payload: EnterpriseProfileIn, credit_code: str = CreditCode):
    enterprise = _enterprise(request, credit_code)
    return services.enterprise_update(actor=request.user, enterprise=enterprise,
                                      changes=payload.dict(exclude_unset=True))


@router.delete("/{credit_code}", response={204: None, **errors(401, 403, 404, 409, 422)},
               summary="Delete an enterprise (administrators; refused once it has scoring results)")
def enterprise_delete_api(request, credit_code: str = CreditCode):
    services.enterprise_delete(actor=request.user, enterprise=_enterprise(request, credit_code))
    return Status(204, None)


# --- declarations ------------------------------------------------------------------------------------------


def _declarations_of(request, credit_code: str) -> Enterprise:
    enterprise = _enterprise(request, credit_code)
    require(access.can_view_declarations(request.user, enterprise),
            "无权查看该企业的申报数据 (you may not read this enterprise's declarations)")
    return enterprise


@router.get("/{credit_code}/declarations", response={200: list[DeclarationOut], **errors(401, 403, 404, 422)},
            summary="Annual declarations")
def declaration_list_api(request, credit_code: str = CreditCode):
    enterprise = _declarations_of(request, credit_code)
    return selectors.declaration_list_for_enterprise(enterprise=enterprise).select_related("enterprise")


def _declaration(request, credit_code: str, fiscal_year: int):
    enterprise = _declarations_of(request, credit_code)
    declaration = visible(selectors.declaration_get(enterprise=enterprise, fiscal_year=fiscal_year),
                          "该年度没有申报 (no declaration for this year)")
    declaration.enterprise = enterprise
    return declaration


@router.get("/{credit_code}/declarations/{fiscal_year}",
            response={200: DeclarationOut, **errors(401, 403, 404, 422)}, summary="One fiscal year")
def declaration_detail_api(request, credit_code: str = CreditCode, fiscal_year: int = FiscalYear):
    return _declaration(request, credit_code, fiscal_year)


@router.put("/{credit_code}/declarations/{fiscal_year}",
            response={200: DeclarationOut, **errors(401, 403, 404, 422)},
            summary="Create or update one fiscal year's declaration")
def declaration_upsert_api(request, payload: DeclarationIn, credit_code: str = CreditCode,
                           fiscal_year: int = FiscalYear):
    enterprise = _enterprise(request, credit_code)
    return services.declaration_upsert(
        actor=request.user,
        enterprise=enterprise,
        fiscal_year=fiscal_year,
        figures=payload.figures.dict(exclude_unset=True),
        provenance={name: entry for name, entry in payload.provenance.dict(exclude_unset=True).items()
                    if entry is not None},
        replace=payload.replace,
    )


@router.delete("/{credit_code}/declarations/{fiscal_year}", response={204: None, **errors(401, 403, 404, 422)},
               summary="Delete one fiscal year's declaration")
def declaration_delete_api(request, credit_code: str = CreditCode, fiscal_year: int = FiscalYear):
    services.declaration_delete(actor=request.user, declaration=_declaration(request, credit_code, fiscal_year))
    return Status(204, None)


# --- qualifications and history ------------------------------------------------------------------------------


@router.post("/{credit_code}/qualifications", response={201: QualificationOut, **errors(401, 403, 404, 409, 422)},
             summary="Record a qualification certificate (administrators)")
def qualification_add_api(request, payload: QualificationIn, credit_code: str = CreditCode):
    enterprise = _enterprise(request, credit_code)
    return Status(201, services.qualification_add(actor=request.user, enterprise=enterprise, **payload.dict()))


@router.delete("/{credit_code}/qualifications/{qualification_id}",
               response={204: None, **errors(401, 403, 404, 422)},
               summary="Remove a qualification certificate (administrators)")
def qualification_delete_api(request, credit_code: str = CreditCode,
                             qualification_id: int = Path(..., ge=1, le=2**63 - 1)):
    enterprise = _enterprise(request, credit_code)
    qualification: Qualification = visible(selectors.qualification_get(enterprise=enterprise,
                                                                        qualification_id=qualification_id))
    services.qualification_delete(actor=request.user, qualification=qualification)
    return Status(204, None)


@router.get("/{credit_code}/history", response={200: list[AuditEntryOut], **errors(401, 403, 404, 422)},
            summary="Audit history of an enterprise, its declarations and qualifications (administrators)")
@paginate(Pagination)
def enterprise_history_api(request, credit_code: str = CreditCode):
    enterprise = _enterprise(request, credit_code)
    require(access.can_view_enterprise_history(request.user, enterprise),
            "只有管理员可以查看变更记录 (administrators only)")
    return selectors.enterprise_history(enterprise=enterprise)

