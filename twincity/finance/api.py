"""The finance JSON endpoints: products (read by everyone signed in; published, changed as new versions and
withdrawn by their institution's officers and administrators), matching an enterprise against them, the
enterprise's consents, and the institution-side reads of its points and declarations, each checked against
a consent at the moment of access and logged where the enterprise sees it.

Money is in yuan as decimal strings (to the fen); rates are annual fractions as decimal strings."""

from decimal import ROUND_HALF_UP
from typing import Literal

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from twincity.accounts.models import Organisation
from twincity.core.access import require, visible
from twincity.core.api import Pagination, errors
from twincity.core.errors import Conflict
from twincity.core.keyset import InvalidCursor
from twincity.enterprises.access import own_enterprise
from twincity.enterprises.api import CreditCode
from twincity.enterprises.fields import CREDIT_CODE_PATTERN
from twincity.enterprises.schemas import DeclarationOut
from twincity.enterprises.selectors import declaration_list_for_enterprise, enterprise_get_visible
from twincity.finance import access, selectors, services
from twincity.finance.models import AccessLog, FinancialProduct
from twincity.finance.schemas import (
    AccessLogOut,
    CaseCreateIn,
    CaseDetailOut,
    CaseKindIn,
    CaseOut,
    CommentIn,
    ConsentIn,
    ConsentOut,
    DecisionIn,
    DefaultIn,
    EquityRoundIn,
    EquityRoundOut,
    KindIn,
    MatchFilters,
    MatchOut,
    MoneyEventIn,
    OverdueIn,
    OverdueOut,
    PointsResultOut,
    ProductCreateIn,
    ProductDetailOut,
    ProductOut,
    ProductVersionIn,
    ProductWithdrawIn,
    ResubmitIn,
    WhitelistFilters,
    WhitelistOut,
)
from twincity.finance.services import FEN

router = Router(tags=["finance 科技金融"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_FILE = {"schema": {"type": "string", "description": "UTF-8 CSV with a header row"}}
XLSX_FILE = {"schema": {"type": "string", "format": "binary"}}

ProductId = Path(..., max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
NO_ENTERPRISE = "企业不存在或无权查看 (no such enterprise)"
NOT_YOURS = "无权查看该企业的数据 (you may not read this enterprise's data)"


def _product_out(product: FinancialProduct) -> dict:
    data = {f: getattr(product, f) for f in (
        "product_id", "version", "status", "institution_id", "kind", "name_zh", "name_en", "rate", "guarantee_fee",
        "interest_subsidy", "fee_subsidy", "min_amount", "max_amount", "min_term_months", "max_term_months",
        "created_at", "definition")}
    data["institution.name"] = product.institution.name
    data["versions"] = list(selectors.product_versions(product_id=product.product_id)
                            .values("version", "status", "created_at", "note"))
    return data


def _enterprise(request, credit_code: str | None):
    """The enterprise named (default: the caller's own company), or 404."""
    if credit_code:
        return visible(enterprise_get_visible(user=request.user, credit_code=credit_code), NO_ENTERPRISE)
    return visible(own_enterprise(request.user), NO_ENTERPRISE)


def _read_as_institution_or_own(request, enterprise, what: str, via: str) -> None:
    """An institution reads under consent (checked now, and logged); the company's own users and
    administrators read without one; anyone else is refused."""
    if access.is_institution_officer(request.user):
        services.institution_read_record(user=request.user, enterprise=enterprise, what=what, via=via)
        return
    require(access.can_view_consents(request.user, enterprise), NOT_YOURS)


# --- products ----------------------------------------------------------------------------------------------


@router.get("/products", response={200: list[ProductOut], **errors(401, 422)},
            summary="Published products (every signed-in user)")
@paginate(Pagination)
def product_list_api(request, kind: KindIn | None = None,
                     institution_id: int | None = Query(None, ge=1, le=2**31 - 1)):
    products = selectors.products_published()
    if kind:
        products = products.filter(kind=kind)
    if institution_id:
        products = products.filter(institution_id=institution_id)
    return products


@router.get("/products/{product_id}", response={200: ProductDetailOut, **errors(401, 404, 422)},
            summary="A product's latest version, with its definition and every version",
            description="A withdrawn product answers 404 except to its institution's officers and administrators.")
def product_detail_api(request, product_id: str = ProductId):
    return _product_out(selectors.product_for(request.user, product_id))


@router.get("/products/{product_id}/versions/{version}", response={200: ProductDetailOut, **errors(401, 404, 422)},
            summary="One version of a product, as it was published (versions are never changed)")
def product_version_detail_api(request, product_id: str = ProductId, version: int = Path(..., ge=1, le=2**31 - 1)):
    selectors.product_for(request.user, product_id)  # who may see the product may see its versions
    return _product_out(visible(selectors.product_version(product_id=product_id, version=version),
                                "该版本不存在 (no such version)"))


@router.post("/products", response={201: ProductDetailOut, **errors(403, 404, 409, 422)},
             summary="Publish a product (the institution's officers, administrators)",
             description="An invalid definition answers 422 with every error (`extra.errors`); a product id "
                         "already taken answers 409.")
def product_create_api(request, payload: ProductCreateIn):
    require(access.can_create_products(request.user))
    institution = visible(Organisation.objects.filter(pk=payload.institution_id).first(),
                          "机构不存在 (no such institution)")
    product = services.product_create(actor=request.user, institution=institution, product_id=payload.product_id,
                                      definition=payload.definition, note=payload.note)
    return Status(201, _product_out(product))


@router.post("/products/{product_id}/versions", response={201: ProductDetailOut, **errors(403, 404, 409, 422)},
             summary="Publish a change as the product's next version (the old one is kept, superseded)",
             description="A withdrawn product answers 409.")
def product_version_api(request, payload: ProductVersionIn, product_id: str = ProductId):
    product = selectors.product_for(request.user, product_id)
    created = services.product_version_create(actor=request.user, product=product, definition=payload.definition,
                                              note=payload.note)
    return Status(201, _product_out(created))


@router.post("/products/{product_id}/withdraw", response={200: ProductDetailOut, **errors(403, 404, 409, 422)},
             summary="Withdraw a product (it is kept with every version)",
             description="A product already withdrawn answers 409.")
def product_withdraw_api(request, payload: ProductWithdrawIn, product_id: str = ProductId):
    product = selectors.product_for(request.user, product_id)
    return _product_out(services.product_withdraw(actor=request.user, product=product, note=payload.note))


# --- matching ----------------------------------------------------------------------------------------------


@router.get("/match", response={200: MatchOut, **errors(401, 403, 404, 422)},
            summary="The products an enterprise qualifies for, with reasons and the net cost",
            description="Every published product, ranked: eligible, needs review, ineligible (cheapest net "
                        "annual rate first). With an `amount` (yuan, counted to the fen) each priced product "
                        "carries its net cost over `term_months` (default 12) and whether the amount and term fit "
                        "it; without one, eligibility alone. The company's own users and administrators may match "
                        "it; an institution only under the company's consent (403 without), and the read is logged "
                        "where the company sees it.")
def match_api(request, filters: Query[MatchFilters]):
    enterprise, amount, term_months = filters.enterprise, filters.amount, filters.term_months
    company = _enterprise(request, enterprise)
    term = None
    if amount is not None:
        amount = amount.quantize(FEN, rounding=ROUND_HALF_UP)  # "1e6" and "1000000" ask the same
        term = term_months
    _read_as_institution_or_own(request, company, AccessLog.What.MATCH, "api: GET /api/finance/match")
    on = timezone.localdate()
    offers = selectors.enterprise_match(enterprise=company, on=on, amount=amount, term_months=term)
    return {
        "credit_code": company.credit_code, "evaluation_date": on, "amount": amount, "term_months": term,
        "offers": [{
            "product_id": o.product.product_id, "version": o.product.version, "name_zh": o.product.name_zh,
            "name_en": o.product.name_en, "institution": o.product.institution.name, "kind": o.product.kind,
            "verdict": o.verdict,
            "conditions": [{"id": c.id, "name_zh": c.name_zh, "name_en": c.name_en, "met": c.met,
                            "reason_zh": c.reason_zh, "reason_en": c.reason_en} for c in o.match.conditions],
            "limits": [vars(c) for c in o.limits],
            "credit_line": o.match.credit_line, "annual_rate": o.match.annual_rate,
            "cost": None if o.match.cost is None else vars(o.match.cost),
        } for o in offers],
    }


# --- institution-side reads (consent checked at the moment of access, logged) ------------------------------


@router.get("/enterprises/{credit_code}/points", response={200: list[PointsResultOut], **errors(401, 403, 404, 422)},
            summary="An enterprise's latest points per standard, for an institution with its consent",
            description="An institution without a consent in force answers 403 (and reads nothing); each read "
                        "is logged. The company's own users and administrators read it too.")
def enterprise_points_api(request, credit_code: str = CreditCode):
    company = _enterprise(request, credit_code)
    _read_as_institution_or_own(request, company, AccessLog.What.POINTS, "api: points")
    return [{"standard_id": r.run.standard.standard_id, "version": r.run.standard.version,
             "evaluation_date": r.run.evaluation_date, "verdict": r.verdict, "score_min": r.score_min,
             "score_max": r.score_max, "grade": r.grade} for r in selectors.points_latest(enterprise=company)]


@router.get("/enterprises/{credit_code}/declarations",
            response={200: list[DeclarationOut], **errors(401, 403, 404, 422)},
            summary="An enterprise's annual declarations, for an institution with its consent",
            description="An institution without a consent in force answers 403 (and reads nothing); each read "
                        "is logged.")
def enterprise_declarations_api(request, credit_code: str = CreditCode):
    company = _enterprise(request, credit_code)
    _read_as_institution_or_own(request, company, AccessLog.What.DECLARATIONS, "api: declarations")
    return declaration_list_for_enterprise(enterprise=company).select_related("enterprise")


# --- consent -----------------------------------------------------------------------------------------------


@router.get("/consents", response={200: list[ConsentOut], **errors(401, 403, 404, 422)},
            summary="An enterprise's consents (its own users, administrators)")
@paginate(Pagination)
def consent_list_api(request, enterprise: str | None = Query(None, pattern=CREDIT_CODE_PATTERN)):
    company = _enterprise(request, enterprise)
    require(access.can_view_consents(request.user, company), NOT_YOURS)
    return selectors.consents_of(enterprise=company).select_related("enterprise")


@router.post("/consents", response={201: ConsentOut, **errors(403, 404, 422)},
             summary="Grant an institution (or every institution of a kind) access for a purpose until a time",
             description="Name `institution_id` or `institution_kind`, not both. Only the company's own users grant.")
def consent_grant_api(request, payload: ConsentIn):
    company = _enterprise(request, payload.credit_code)
    valid_until = payload.valid_until
    if timezone.is_naive(valid_until):
        valid_until = timezone.make_aware(valid_until)
    institution = None
    if payload.institution_id is not None:
        institution = visible(Organisation.objects.filter(pk=payload.institution_id).first(),
                              "机构不存在 (no such institution)")
    consent = services.consent_grant(actor=request.user, enterprise=company, purpose=payload.purpose,
                                     institution=institution, institution_kind=payload.institution_kind or "",
                                     valid_until=valid_until)
    return Status(201, consent)


@router.post("/consents/{consent_id}/revoke", response={200: ConsentOut, **errors(403, 404, 409, 422)},
             summary="Revoke a consent: no read is allowed under it from this moment",
             description="A consent already revoked answers 409.")
def consent_revoke_api(request, consent_id: int = Path(..., ge=1, le=2**31 - 1)):
    company = visible(own_enterprise(request.user), NO_ENTERPRISE)
    consent = visible(selectors.consent_get(enterprise=company, consent_id=consent_id), "授权不存在 (no such consent)")
    return services.consent_revoke(actor=request.user, consent=consent)


@router.get("/access-log", response={200: list[AccessLogOut], **errors(401, 403, 404, 422)},
            summary="Who at which institution read the enterprise's data, when and why")
@paginate(Pagination)
def access_log_api(request, enterprise: str | None = Query(None, pattern=CREDIT_CODE_PATTERN)):
    company = _enterprise(request, enterprise)
    require(access.can_view_consents(request.user, company), NOT_YOURS)
    return selectors.access_log_of(enterprise=company)


# --- demands and applications ------------------------------------------------------------------------------
# Enterprises create, submit, withdraw and resubmit their own; institutions (in the browser or from their own
# systems with an API token) list what is routed to them, claim, decide, and record disbursements, repayments,
# overdue and default events. A case the caller may not see answers 404; an action the caller may not take on
# a case it sees, 403; an action its state does not allow, 409 (nothing changes).

CaseId = Path(..., ge=1, le=2**31 - 1)


def _case_out(case) -> dict:
    fresh = selectors.case_get(pk=case.pk)
    return {**{f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields},
            "enterprise.credit_code": fresh.enterprise.credit_code, "enterprise.name": fresh.enterprise.name,
            "product": fresh.product, "product_id": fresh.product_id,
            "events": list(selectors.case_timeline(case=fresh)),
            "decisions": list(selectors.case_decisions(case=fresh))}


@router.get("/cases", response={200: list[CaseOut], **errors(401, 422)},
            summary="Financing demands and applications the caller may see",
            description="An enterprise: its own. An institution: the applications routed to it and the published "
                        "demands offered to it (`queue=to_claim`), and those it handles (`queue=in_hand`). "
                        "Administrators: every one but drafts. One bank never sees another's.")
@paginate(Pagination)
def case_list_api(request, state: str | None = Query(None, max_length=16, pattern=r"^[a-z_]+$"),
                  kind: CaseKindIn | None = None,
                  queue: Literal["to_claim", "in_hand"] | None = None):
    from twincity.finance.models import Application

    cases = Application.objects.filter(pk__in=access.cases_visible(request.user).values("pk")).select_related(
        "enterprise", "product")
    if state:
        cases = cases.filter(state=state)
    if kind:
        cases = cases.filter(kind=kind)
    if queue == "to_claim":
        cases = cases.filter(state__in=("published", "submitted"))
    elif queue == "in_hand":
        cases = cases.filter(state__in=("claimed", "due_diligence", "referred_back", "approved", "disbursed",
                                        "overdue"))
    return cases.order_by("-created_at", "-pk")


@router.post("/cases", response={201: CaseDetailOut, **errors(403, 404, 409, 422)},
             summary="Create a demand or an application (the company's own users); `submit` sends it at once",
             description="A demand names no product and is published to the bank branches of its project city "
                         "(claim window: 3 working days). An application names a loan product and is routed to "
                         "its institution; a twin-city loan to the bank's branch in the project city (lead) and "
                         "in the registered city (partner). 404: no such product; 409: the version seen is no "
                         "longer published.")
def case_create_api(request, payload: CaseCreateIn):
    company = visible(own_enterprise(request.user), NO_ENTERPRISE)
    product = None
    if payload.product_id:
        product = selectors.product_for(request.user, payload.product_id)
        if payload.version is not None and payload.version != product.version:
            raise Conflict("产品已更新，请查看新版本 (the product has a newer version)", code="product_version_changed",
                           extra={"version": product.version})
    case = services.case_create(actor=request.user, enterprise=company, kind=payload.kind, product=product,
                                amount=payload.amount, term_months=payload.term_months, purpose=payload.purpose,
                                registered_city=payload.registered_city or "",
                                project_city=payload.project_city or "", submit=payload.submit)
    return Status(201, _case_out(case))


@router.get("/cases/{case_id}", response={200: CaseDetailOut, **errors(401, 404, 422)},
            summary="One case: its state, clocks, timeline and the branches' decisions")
def case_detail_api(request, case_id: int = CaseId):
    return _case_out(selectors.case_for(request.user, case_id))


def _act(request, case_id: int, call, **kwargs):
    case = selectors.case_for(request.user, case_id)
    return _case_out(call(actor=request.user, case=case, **kwargs))


ACT_ERRORS = errors(403, 404, 409, 422)


@router.post("/cases/{case_id}/submit", response={200: CaseDetailOut, **ACT_ERRORS},
             summary="Submit a draft application / publish a draft demand (the company)")
def case_submit_api(request, case_id: int = CaseId):
    return _act(request, case_id, services.case_submit)


@router.post("/cases/{case_id}/withdraw", response={200: CaseDetailOut, **ACT_ERRORS},
             summary="Withdraw a case before disbursement (the company)")
def case_withdraw_api(request, payload: CommentIn, case_id: int = CaseId):
    return _act(request, case_id, services.case_withdraw, comment=payload.comment)


@router.post("/cases/{case_id}/resubmit", response={200: CaseDetailOut, **ACT_ERRORS},
             summary="Answer a referral (the company): back to due diligence, a new decision round")
def case_resubmit_api(request, payload: ResubmitIn, case_id: int = CaseId):
    return _act(request, case_id, services.case_resubmit, comment=payload.comment, amount=payload.amount,
                term_months=payload.term_months, purpose=payload.purpose)


@router.post("/cases/{case_id}/claim", response={200: CaseDetailOut, **ACT_ERRORS},
             summary="Claim a published demand, or accept an application (the routed institution)",
             description="The first claim wins; a later one answers 409. The approval limit (10 working days) "
                         "starts.")
def case_claim_api(request, payload: CommentIn, case_id: int = CaseId):
    return _act(request, case_id, services.case_claim, comment=payload.comment)


@router.post("/cases/{case_id}/review", response={200: CaseDetailOut, **ACT_ERRORS},
             summary="Start due diligence (the routed institution)")
def case_review_api(request, payload: CommentIn, case_id: int = CaseId):
    return _act(request, case_id, services.case_start_review, comment=payload.comment)


@router.post("/cases/{case_id}/decisions", response={200: CaseDetailOut, **ACT_ERRORS},
             summary="Record the branch's decision: approve, reject (reason mandatory) or refer back",
             description="A twin-city loan is approved only when both branches approve (each records its share); "
                         "either may refer back or reject. An approval past the product's total line or the "
                         "enterprise's line answers 409 (`product_line_exceeded`, `enterprise_line_exceeded`); "
                         "a rejection without a reason 422 (`reason_required`).")
def case_decide_api(request, payload: DecisionIn, case_id: int = CaseId):
    return _act(request, case_id, services.case_decide, decision=payload.decision, comment=payload.comment,
                amount=payload.amount, rate=payload.rate, term_months=payload.term_months)


@router.post("/cases/{case_id}/disbursement", response={200: CaseDetailOut, **ACT_ERRORS},
             summary="Record the disbursement (the lead branch)")
def case_disburse_api(request, payload: MoneyEventIn, case_id: int = CaseId):
    return _act(request, case_id, services.case_disburse, amount=payload.amount, on=payload.on,
                comment=payload.comment)


@router.post("/cases/{case_id}/repayments", response={200: CaseDetailOut, **ACT_ERRORS},
             summary="Record a repayment (the lead branch); the whole outstanding amount repays the loan")
def case_repay_api(request, payload: MoneyEventIn, case_id: int = CaseId):
    return _act(request, case_id, services.case_repay, amount=payload.amount, on=payload.on,
                comment=payload.comment)


@router.post("/cases/{case_id}/overdue", response={200: CaseDetailOut, **ACT_ERRORS},
             summary="Report the loan overdue (the lead branch)")
def case_overdue_api(request, payload: OverdueIn, case_id: int = CaseId):
    return _act(request, case_id, services.case_mark_overdue, amount=payload.amount, on=payload.on,
                comment=payload.comment)


@router.post("/cases/{case_id}/default", response={200: CaseDetailOut, **ACT_ERRORS},
             summary="Declare an overdue loan in default (the lead branch; a reason is mandatory)")
def case_default_api(request, payload: DefaultIn, case_id: int = CaseId):
    return _act(request, case_id, services.case_default, on=payload.on, comment=payload.comment)


@router.get("/overdue-cases", response={200: list[OverdueOut], **errors(401, 403, 422)},
            summary="Cases past a legal clock, with who is late (administrators)",
            description="A published demand not claimed within its window, an accepted case not decided within "
                        "the approval limit; counted in working days on the official calendar.")
def overdue_cases_api(request):
    require(access.can_view_overdue(request.user))
    return [{"case": _case_out(o.case), "clock": o.clock, "due": o.due, "working_days_late": o.working_days_late,
             "late": o.late} for o in selectors.cases_overdue(now=timezone.now())]
# --- an institution's whitelist of a product ---------------------------------------------------------------


@router.get("/products/{product_id}/whitelist", response={200: WhitelistOut, **errors(401, 403, 404, 422)},
            summary="The enterprises that qualify for one of your institution's products and consented to it",
            description="The whole registry matched against the product in one batch (today's facts), kept to the "
                        "enterprises whose consent covering your institution is in force at this moment (a consent "
                        "to a bank covers its branches); an enterprise without one never appears. Ordered by credit "
                        "code, in pages (`after` = the previous page's `next_cursor`; a cursor that does not decode "
                        "gives the first page), or the whole list as a file with format=csv|xlsx. Every member returned is "
                        "logged in its access log. Only the officers of the product's institution (its bank tree) "
                        "may read it: 403 for anyone else; 404 for an unknown product.",
            openapi_extra={"responses": {"200": {"description": "JSON page, or the whole list as a file",
                                                 "content": {"text/csv": CSV_FILE, XLSX: XLSX_FILE}}}})
def whitelist_api(request, filters: Query[WhitelistFilters], product_id: str = ProductId):
    product = selectors.product_for(request.user, product_id)
    require(access.can_view_whitelist(request.user, product), services.NOT_YOUR_WHITELIST)
    at = timezone.now()
    on = timezone.localdate(at)
    listing = selectors.whitelist(user=request.user, product=product, at=at)
    via = f"api: GET /api/finance/products/{product.product_id}/whitelist"
    if filters.format != "json":
        services.whitelist_read_record(user=request.user, product=product, members=listing.members, at=at,
                                       via=f"{via}?format={filters.format}")
        body = services.whitelist_file(product=product, members=listing.members, on=on, fmt=filters.format,
                                       details=selectors.member_details(listing.members))
        if filters.format == "csv":
            response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(body, content_type=XLSX)
        response["Content-Disposition"] = (f'attachment; filename="whitelist-{product.product_id}-v'
                                           f'{product.version}-{on.isoformat()}.{filters.format}"')
        return response
    try:
        page, next_cursor = selectors.whitelist_page(listing.members, size=filters.limit, after=filters.after)
    except InvalidCursor:  # as the pages read a bad cursor (core.keyset.numbered_page): the first page
        page, next_cursor = selectors.whitelist_page(listing.members, size=filters.limit)
    services.whitelist_read_record(user=request.user, product=product, members=page, at=at, via=via)
    details = selectors.member_details(page)
    return {
        "product_id": product.product_id, "version": product.version, "evaluation_date": on,
        "count": len(listing.members), "consented": listing.consented, "next_cursor": next_cursor,
        "items": [{"credit_code": details[m.pk].enterprise.credit_code, "name": details[m.pk].enterprise.name,
                   "city": details[m.pk].enterprise.city, "industry_cluster": details[m.pk].enterprise.industry_cluster,
                   "consent_id": m.consent.pk, "consent_purpose": m.consent.purpose,
                   "consent_valid_until": details[m.pk].consent_valid_until} for m in page],
    }


# --- equity rounds (股贷债保) -------------------------------------------------------------------------------


@router.get("/enterprises/{credit_code}/equity-rounds",
            response={200: list[EquityRoundOut], **errors(401, 403, 404, 422)},
            summary="The equity rounds on file for an enterprise (its own users, administrators)")
def equity_round_list_api(request, credit_code: str = CreditCode):
    company = _enterprise(request, credit_code)
    require(access.can_view_equity_rounds(request.user, company), NOT_YOURS)
    return list(selectors.equity_rounds_of(enterprise=company).select_related("enterprise"))


@router.post("/enterprises/{credit_code}/equity-rounds",
             response={201: EquityRoundOut, **errors(403, 404, 422)},
             summary="Record an equity round the enterprise closed (the enterprise, the investing fund, "
                     "administrators)",
             description="Audited. From then on the matching reads it as the finance facts `equity_rounds`, "
                         "`equity_last_round_days` and `equity_stage`, so a loan that asks for a round (投贷联动) "
                         "can become eligible. A fund's officers record rounds naming their own fund as the "
                         "investor (403 otherwise); a closing date after today, a non-positive amount or no "
                         "investor answers 422.")
def equity_round_record_api(request, payload: EquityRoundIn, credit_code: str = CreditCode):
    company = _enterprise(request, credit_code)
    investor = None
    if payload.investor_id is not None:
        investor = visible(Organisation.objects.filter(pk=payload.investor_id).first(),
                           "机构不存在 (no such institution)")
    created = services.equity_round_record(actor=request.user, enterprise=company, closed_on=payload.closed_on,
                                           amount=payload.amount, stage=payload.stage, investor=investor,
                                           investor_name=payload.investor_name)
    return Status(201, selectors.equity_rounds_of(enterprise=company).select_related("enterprise")
                  .get(pk=created.pk))
