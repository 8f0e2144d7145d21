"""The finance pages: 金融产品 (for a company, the products it qualifies for with the net cost of the amount
and term it asks; for everyone else, the catalogue), a product with its versions, and 授权管理 (a company's
consents and who read its data)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from twincity.core.access import require, visible
from twincity.core.caching import REGISTRY, cached
from twincity.core.errors import ApplicationError, Forbidden, InvalidInput
from twincity.core.keyset import InvalidCursor
from twincity.enterprises.access import own_enterprise
from twincity.finance import access, presentation, selectors, services
from twincity.finance.forms import CaseForm, ConsentForm, DecisionForm, MatchForm, MoneyEventForm


def _htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


@login_required
@require_GET
def products_view(request):
    require(access.can_view_products(request.user))
    enterprise = own_enterprise(request.user)
    if enterprise is None:
        products = [presentation.product_row(p) for p in selectors.products_published()]
        return render(request, "finance/catalogue.html", {"products": products})
    form = MatchForm(request.GET or None)
    amount = term_months = None
    if form.is_bound and form.is_valid():
        amount, term_months = form.asked()
    offers_html = _offers_html(enterprise, amount, term_months)
    if _htmx(request):
        return HttpResponse(offers_html)
    return render(request, "finance/match.html", {"enterprise": enterprise, "form": form, "offers_html": offers_html})


def _offers_html(enterprise, amount, term_months) -> str:
    """The company's offers (every published product matched, with reasons and the net cost of what it asks),
    rendered once per registry version: every audited write bumps it (products published, changed or withdrawn;
    declarations, titles, equity rounds); the key also names the day, what is asked, the language and the latest
    finished scoring run (a run's results are not audited one by one)."""
    on = timezone.localdate()
    latest_run = selectors.latest_finished_run()
    key = (f"finance-offers:{enterprise.pk}:{on.isoformat()}:{amount}:{term_months}:{translation.get_language()}:"
           f"{latest_run}")

    def compute() -> str:
        offers = selectors.enterprise_match(enterprise=enterprise, on=on, amount=amount, term_months=term_months)
        return render_to_string("finance/_offers.html", {
            "offers": [presentation.offer_row(o) for o in offers], "asked": amount is not None,
            "counts": {v: sum(1 for o in offers if o.verdict == v) for v in presentation.VERDICT_BADGE}})

    return mark_safe(cached(REGISTRY, key, compute))  # noqa: S308 (the template's escaped output)


@login_required
@require_GET
def product_view(request, product_id: str):
    product = selectors.product_for(request.user, product_id)
    versions = [presentation.product_row(v) for v in selectors.product_versions(product_id=product_id)]
    return render(request, "finance/product.html", {
        "product": presentation.product_detail(product), "versions": versions,
        "can_withdraw": product.is_published and access.can_manage_products(request.user, product.institution),
        "can_whitelist": product.is_published and access.can_view_whitelist(request.user, product),
    })


@login_required
@require_POST
def product_withdraw_view(request, product_id: str):
    product = selectors.product_for(request.user, product_id)
    require(access.can_manage_products(request.user, product.institution))
    try:
        services.product_withdraw(actor=request.user, product=product, note=request.POST.get("note", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The product is withdrawn; every version is kept."))
    return redirect("finance:product", product_id=product_id)


@login_required
@require_http_methods(["GET", "POST"])
def consents_view(request):
    enterprise = visible(own_enterprise(request.user))
    require(access.can_view_consents(request.user, enterprise))
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_grant(
                actor=request.user, enterprise=enterprise, purpose=form.cleaned_data["purpose"],
                institution=form.cleaned_data["institution"],
                institution_kind=form.cleaned_data["institution_kind"] or "", valid_until=form.valid_until_at(),
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Consent granted."))
            return redirect("finance:consents")
    now = timezone.now()
    consents = [{"consent": c, "active": c.active_at(now)} for c in selectors.consents_of(enterprise=enterprise)]
    return render(request, "finance/consents.html", {
        "enterprise": enterprise, "form": form, "consents": consents,
        "log": selectors.access_log_of(enterprise=enterprise)[:200],
        "can_manage": access.can_manage_consents(request.user, enterprise),
    })


@login_required
@require_POST
def consent_revoke_view(request, consent_id: int):
    enterprise = visible(own_enterprise(request.user))
    consent = visible(selectors.consent_get(enterprise=enterprise, consent_id=consent_id))
    require(access.can_manage_consents(request.user, enterprise))
    try:
        services.consent_revoke(actor=request.user, consent=consent)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Consent revoked: from now on the institution cannot read your data."))
    return redirect("finance:consents")


# --- demands and applications ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def cases_view(request):
    """融资需求/申请: the company's demands and applications, and the form to publish or apply."""
    enterprise = visible(own_enterprise(request.user))
    require(access.can_create_cases(request.user))
    form = CaseForm(request.POST or None, initial={"product": request.GET.get("product") or None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        product = data["product"]
        try:
            case = services.case_create(
                actor=request.user, enterprise=enterprise, kind="application" if product else "demand",
                product=product, amount=form.amount_yuan(), term_months=data["term_months"],
                purpose=data["purpose"], project_city=data["project_city"] or "", submit=data["submit"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("finance:case", case_id=case.pk)
    cases = [presentation.case_row(c) for c in selectors.cases_of_enterprise(enterprise=enterprise)]
    return render(request, "finance/cases.html", {"enterprise": enterprise, "form": form, "cases": cases})


def _case_context(request, case) -> dict:
    user = request.user
    state = case.state
    consent = None
    points = []
    if access.is_institution_officer(user):
        consent = access.consent_in_force(user, case.enterprise)
        if consent is not None:
            services.institution_read_record(user=user, enterprise=case.enterprise, what="points",
                                             via=f"page: financing case #{case.pk}")
            points = selectors.points_latest(enterprise=case.enterprise)
    is_company = access.can_act_as_enterprise(user, case)
    decided = set(case.decisions.filter(round=case.decision_round).values_list("institution_id", flat=True))
    own_branch = access.routed_institution_of(user, case)
    can_decide = (access.can_decide(user, case) and state in ("claimed", "due_diligence")
                  and own_branch is not None and own_branch.pk not in decided)
    servicing = access.can_service(user, case)
    return {
        "case": presentation.case_row(case), "obj": case,
        "timeline": [presentation.event_row(e) for e in selectors.case_timeline(case=case)],
        "decisions": [presentation.decision_row(d) for d in selectors.case_decisions(case=case)],
        "consent": consent, "points": points, "is_institution": access.is_institution_officer(user),
        "actions": {
            "submit": is_company and state == "draft",
            "withdraw": is_company and state in ("draft", "submitted", "published", "claimed", "due_diligence",
                                                 "referred_back", "approved"),
            "resubmit": is_company and state == "referred_back",
            "claim": access.can_claim(user, case) and state in ("published", "submitted"),
            "review": access.can_decide(user, case) and state == "claimed",
            "decide": can_decide,
            "disburse": servicing and state == "approved",
            "repay": servicing and state in ("disbursed", "overdue"),
            "overdue": servicing and state == "disbursed",
            "default": servicing and state == "overdue",
        },
        "decision_form": DecisionForm(auto_id="decision_%s",
                                      initial={"amount": case.amount / 10000, "term_months": case.term_months}),
        "money_form": MoneyEventForm(auto_id=False),  # in several forms of one page
    }


@login_required
@require_GET
def case_view(request, case_id: int):
    case = selectors.case_for(request.user, case_id)
    return render(request, "finance/case.html", _case_context(request, case))


CASE_ACTIONS = ("submit", "withdraw", "resubmit", "claim", "review", "decide", "disburse", "repay", "overdue",
                "default")


@login_required
@require_POST
def case_action_view(request, case_id: int, action: str):
    """One action on a case from its page (HTMX answers the page's body; otherwise a redirect to the page)."""
    case = selectors.case_for(request.user, case_id)
    if action not in CASE_ACTIONS:
        visible(None)
    comment = request.POST.get("comment", "")
    try:
        if action == "submit":
            services.case_submit(actor=request.user, case=case)
        elif action == "withdraw":
            services.case_withdraw(actor=request.user, case=case, comment=comment)
        elif action == "resubmit":
            services.case_resubmit(actor=request.user, case=case, comment=comment)
        elif action == "claim":
            services.case_claim(actor=request.user, case=case, comment=comment)
        elif action == "review":
            services.case_start_review(actor=request.user, case=case, comment=comment)
        elif action == "decide":
            form = DecisionForm(request.POST)
            if not form.is_valid():
                raise InvalidInput("; ".join(str(e) for errors in form.errors.values() for e in errors))
            services.case_decide(actor=request.user, case=case, **form.service_kwargs())
        else:
            form = MoneyEventForm(request.POST)
            if not form.is_valid():
                raise InvalidInput("; ".join(str(e) for errors in form.errors.values() for e in errors))
            on, amount = form.cleaned_data.get("on"), form.amount_yuan()
            if action == "disburse":
                services.case_disburse(actor=request.user, case=case, amount=amount, on=on, comment=comment)
            elif action == "repay":
                services.case_repay(actor=request.user, case=case, amount=amount, on=on, comment=comment)
            elif action == "overdue":
                services.case_mark_overdue(actor=request.user, case=case, amount=amount, on=on, comment=comment)
            else:
                services.case_default(actor=request.user, case=case, on=on, comment=comment)
    except ApplicationError as exc:
        if isinstance(exc, Forbidden):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Done."))
    if _htmx(request):
        response = render(request, "finance/case.html", _case_context(request, selectors.case_get(pk=case.pk)))
        response["HX-Push-Url"] = reverse("finance:case", args=[case.pk])
        return response
    return redirect("finance:case", case_id=case.pk)


@login_required
@require_GET
def queue_view(request):
    """待认领 / 办理中: an institution's work queue."""
    require(access.can_view_work_queue(request.user))
    queue = selectors.work_queue(user=request.user)
    return render(request, "finance/queue.html", {
        "institution": access.institution_of(request.user),
        "to_claim": [presentation.case_row(c) for c in queue["to_claim"]],
        "in_hand": [presentation.case_row(c) for c in queue["in_hand"]],
    })


@login_required
@require_GET
def overdue_view(request):
    """超时督办: the cases past a legal clock, with who is late (administrators)."""
    require(access.can_view_overdue(request.user))
    rows = [{"case": presentation.case_row(o.case), "clock": o.clock, "due": o.due, "late_days": o.working_days_late,
             "late": o.late} for o in selectors.cases_overdue(now=timezone.now())]
    return render(request, "finance/overdue.html", {"rows": rows})


# --- an institution's whitelist of a product ---------------------------------------------------------------

WHITELIST_PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _whitelist_product(request, product_id: str):
    """The product (404 as its page answers) whose whitelist this person may read (403 otherwise)."""
    product = selectors.product_for(request.user, product_id)
    require(access.can_view_whitelist(request.user, product), services.NOT_YOUR_WHITELIST)
    return product


@login_required
@require_GET
def whitelist_view(request, product_id: str):
    """白名单: the enterprises of the whole registry that qualify for one of the institution's products and
    consented to it, checked at this moment; each one shown is logged where the enterprise sees it."""
    product = _whitelist_product(request, product_id)
    at = timezone.now()
    listing = selectors.whitelist(user=request.user, product=product, at=at)
    try:
        page, next_cursor = selectors.whitelist_page(listing.members, size=WHITELIST_PAGE_SIZE,
                                                     after=request.GET.get("after") or None)
    except InvalidCursor:
        page, next_cursor = selectors.whitelist_page(listing.members, size=WHITELIST_PAGE_SIZE)
    services.whitelist_read_record(user=request.user, product=product, members=page, at=at,
                                   via=f"page: /finance/products/{product.product_id}/whitelist/")
    details = selectors.member_details(page)
    rows = [{"enterprise": details[m.pk].enterprise, "consent": m.consent,
             "valid_until": details[m.pk].consent_valid_until} for m in page]
    return render(request, "finance/whitelist.html", {
        "product": presentation.product_row(product), "rows": rows, "next_cursor": next_cursor,
        "first": not request.GET.get("after"), "members": len(listing.members), "consented": listing.consented,
        "on": timezone.localdate(at),
    })


@login_required
@require_GET
def whitelist_export_view(request, product_id: str, fmt: str):
    product = _whitelist_product(request, product_id)
    at = timezone.now()
    members = selectors.whitelist(user=request.user, product=product, at=at).members
    services.whitelist_read_record(user=request.user, product=product, members=members, at=at,
                                   via=f"export: /finance/products/{product.product_id}/whitelist.{fmt}")
    on = timezone.localdate(at)
    body = services.whitelist_file(product=product, members=members, on=on, fmt=fmt,
                                   details=selectors.member_details(members))
    if fmt == "csv":
        response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(body, content_type=XLSX)
    response["Content-Disposition"] = (f'attachment; filename="whitelist-{product.product_id}-v{product.version}-'
                                       f'{on.isoformat()}.{fmt}"')
    return response
