"""The talent-card pages: 我的人才卡 (cards with their QR code, disclosure settings, renew, report a loss, the
applications), the application form (for oneself or, as the employer, for a colleague), 人才服务申请 (requests with
the reason of each grant or refusal), the reviewers' queue (人才卡审核) and the administrators' editor of schemes
and recognition mappings (人才卡方案与互认: new versions only)."""

import json
from datetime import date
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from twincity.accounts.models import User
from twincity.core.access import require, visible
from twincity.core.errors import ApplicationError
from twincity.core.verification import code_url, qr_svg
from twincity.talent import access, rules, selectors, services
from twincity.talent.models import DISCLOSABLE, DISCLOSABLE_LABELS, CardScheme


def _error_lines(exc: ApplicationError) -> list[str]:
    return [exc.message, *[str(e) for e in exc.extra.get("errors", [])]]


@login_required
@require_GET
def cards_view(request):
    require(access.can_hold_card(request.user))
    today = timezone.localdate()
    rows = []
    for card in selectors.cards_of(user=request.user):
        token = services.card_code(card)
        url = code_url(token, base=request.build_absolute_uri("/"))
        opens, closes = rules.renew_window(card.valid_until, card.scheme_version.renew_window_days)
        tier = card.scheme_version.parsed.tier(card.tier)
        rows.append({
            "card": card, "tier_name": tier.name if tier else card.tier, "verify_url": url,
            "qr": qr_svg(url, title=f"{card.scheme.name} {card.number}") if card.status == "active" else "",
            "disclosure": [(key, DISCLOSABLE_LABELS[key], key in card.disclosure) for key in DISCLOSABLE],
            "renew_opens": opens, "can_renew": card.status == "active" and opens <= today <= closes,
            "employer_changed": card.status == "active" and card.employer_id != request.user.organisation_id,
        })
    return render(request, "talent/cards.html", {
        "rows": rows, "applications": selectors.applications_of(user=request.user)[:50]})


def _card_action(request, public_id: UUID, action, done: str):
    card = selectors.card_for(request.user, public_id)
    try:
        action(card)
    except ApplicationError as exc:
        for line in _error_lines(exc):
            messages.error(request, line)
    else:
        messages.success(request, done)
    return redirect("talent:cards")


@login_required
@require_POST
def card_disclosure_view(request, public_id: UUID):
    fields = request.POST.getlist("fields")
    return _card_action(request, public_id, lambda c: services.card_disclosure_set(
        actor=request.user, card=c, fields=fields), "公开信息已更新。")


@login_required
@require_POST
def card_renew_view(request, public_id: UUID):
    return _card_action(request, public_id, lambda c: services.card_renew(actor=request.user, card=c),
                        "人才卡已续期。")


@login_required
@require_POST
def card_change_view(request, public_id: UUID):
    return _card_action(request, public_id, lambda c: services.card_change(actor=request.user, card=c),
                        "工作单位变更已登记。")


@login_required
@require_POST
def card_loss_view(request, public_id: UUID):
    return _card_action(request, public_id, lambda c: services.card_report_loss(actor=request.user, card=c),
                        "已挂失补发：原二维码已作废，请使用新二维码。")


def _evidence_from(post, version) -> list[dict[str, str]]:
    """The checked evidence of the form: `ev:<criterion>:<type>` boxes, `ref:<criterion>` references."""
    items = []
    for criterion in version.parsed.criteria:
        reference = post.get(f"ref:{criterion.code}", "")[:100]
        for kind in criterion.evidence:
            if post.get(f"ev:{criterion.code}:{kind}"):
                items.append({"criterion": criterion.code, "type": kind, "reference": reference})
    return items


@login_required
@require_http_methods(["GET", "POST"])
def apply_view(request):
    require(access.can_hold_card(request.user) or access.is_talent(request.user))
    today = timezone.localdate()
    schemes = [(s, selectors.version_in_force(scheme=s, on=today)) for s in selectors.schemes()]
    schemes = [(s, v) for s, v in schemes if v is not None]
    chosen = request.POST.get("scheme") or request.GET.get("scheme") or (schemes[0][0].code if schemes else "")
    scheme, version = next(((s, v) for s, v in schemes if s.code == chosen), (None, None))
    colleagues = []
    if request.user.role == User.Role.ENTERPRISE_USER and request.user.organisation_id:
        colleagues = [u for u in User.objects.filter(organisation_id=request.user.organisation_id, is_active=True)
                      .exclude(pk=request.user.pk).order_by("username")]
    errors: list[str] = []
    if request.method == "POST" and scheme is not None and version is not None:
        applicant = request.user
        if request.POST.get("applicant"):
            applicant = next((u for u in colleagues if str(u.pk) == request.POST["applicant"]), None) or request.user
        try:
            services.application_submit(actor=request.user, applicant=applicant, scheme=scheme,
                                        evidence=_evidence_from(request.POST, version))
        except ApplicationError as exc:
            errors = _error_lines(exc)
        else:
            messages.success(request, "申请已提交，待审核。")
            return redirect("talent:cards")
    criteria = []
    if version is not None:
        definition = version.parsed
        criteria = [{"criterion": c, "tier": definition.tier(c.tier),
                     "evidence": [(e, rules.EVIDENCE_TYPES.get(e, e)) for e in c.evidence]}
                    for c in sorted(definition.criteria, key=lambda c: -(definition.tier(c.tier) or rules.Tier("", "", 0)).rank)]
    return render(request, "talent/apply.html", {
        "schemes": schemes, "scheme": scheme, "version": version, "criteria": criteria, "colleagues": colleagues,
        "errors": errors}, status=422 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def services_view(request):
    require(access.can_hold_card(request.user))
    today = timezone.localdate()
    cards = list(selectors.cards_of(user=request.user))
    providers = []
    for scheme in selectors.schemes():
        version = selectors.version_in_force(scheme=scheme, on=today)
        if version is not None:
            providers.append({"scheme": scheme, "version": version, "services": version.parsed.services})
    outcome = None
    if request.method == "POST":
        card = next((c for c in cards if str(c.public_id) == request.POST.get("card")), None)
        provider = next((p["scheme"] for p in providers if p["scheme"].code == request.POST.get("provider")), None)
        service_code = request.POST.get("service", "")
        if ":" in service_code:  # the select's value is "<provider>:<service>"
            provider_code, service_code = service_code.split(":", 1)
            provider = next((p["scheme"] for p in providers if p["scheme"].code == provider_code), provider)
        if card is None or provider is None:
            messages.error(request, "请选择人才卡与服务 (choose a card and a service)")
        else:
            try:
                outcome = services.service_request_create(actor=request.user, card=card, provider=provider,
                                                          service_code=service_code,
                                                          for_family=bool(request.POST.get("for_family")))
            except ApplicationError as exc:
                messages.error(request, exc.message)
    history = [(card, list(selectors.requests_of(card=card)[:50])) for card in cards]
    return render(request, "talent/services.html", {"cards": cards, "providers": providers, "outcome": outcome,
                                                    "history": history})


@login_required
@require_GET
def review_view(request):
    require(access.can_review_any(request.user))
    rows = []
    for application in selectors.review_queue(applications=access.applications_reviewable(request.user))[:200]:
        definition = application.scheme_version.parsed
        decision = rules.highest_tier(definition, [rules.Evidence(e["criterion"], e["type"])
                                                   for e in application.evidence])
        tier = definition.tier(decision.tier) if decision.tier else None
        rows.append({"application": application, "tier": tier, "met": decision.met,
                     "missing": dict(decision.missing),
                     "evidence": [(e["criterion"], rules.EVIDENCE_TYPES.get(e["type"], e["type"]), e["reference"])
                                  for e in application.evidence]})
    return render(request, "talent/review.html", {"rows": rows})


@login_required
@require_POST
def review_decide_view(request, public_id: UUID):
    application = selectors.application_for(request.user, public_id)
    approve = request.POST.get("decision") == "approve"
    try:
        services.application_decide(actor=request.user, application=application, approve=approve,
                                    note=request.POST.get("note", "")[:255])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已通过，人才卡已发放。" if approve else "已退回申请。")
    return redirect("talent:review")


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def schemes_view(request):
    require(access.can_manage_schemes(request.user))
    errors: list[str] = []
    if request.method == "POST":
        effective_from = _date(request.POST.get("effective_from", ""))
        try:
            payload = json.loads(request.POST.get("definition", ""))
        except ValueError:
            payload, errors = None, ["JSON 格式错误 (the JSON does not parse)"]
        if effective_from is None:
            errors.append("请填写生效日期 (effective date required)")
        if not errors:
            try:
                if request.POST.get("what") == "mapping":
                    home = visible(selectors.scheme_get(code=request.POST.get("home", "")))
                    partner = visible(selectors.scheme_get(code=request.POST.get("partner", "")))
                    services.mapping_publish(actor=request.user, home=home, partner=partner,
                                             effective_from=effective_from, pairs=payload,
                                             effective_to=_date(request.POST.get("effective_to", "")),
                                             demo=bool(request.POST.get("demo")), note=request.POST.get("note", ""))
                else:
                    scheme = visible(selectors.scheme_get(code=request.POST.get("scheme", "")))
                    services.scheme_version_publish(
                        actor=request.user, scheme=scheme, effective_from=effective_from, definition=payload,
                        validity_years=int(request.POST.get("validity_years") or 3),
                        renew_window_days=int(request.POST.get("renew_window_days") or rules.RENEW_WINDOW_DAYS),
                        family_extension=bool(request.POST.get("family_extension")),
                        demo=bool(request.POST.get("demo")), note=request.POST.get("note", ""))
            except ApplicationError as exc:
                errors = _error_lines(exc)
            except ValueError:
                errors = ["数值无效 (invalid number)"]
            else:
                messages.success(request, "新版本已发布。")
                return redirect("talent:schemes")
    today = timezone.localdate()
    schemes = []
    for scheme in CardScheme.objects.order_by("code"):
        versions = list(selectors.versions_of(scheme=scheme))
        current = selectors.version_in_force(scheme=scheme, on=today)
        schemes.append({"scheme": scheme, "versions": versions, "current": current,
                        "json": json.dumps(current.definition if current else versions[0].definition if versions
                                           else {"tiers": [], "criteria": [], "services": []},
                                           ensure_ascii=False, indent=1)})
    return render(request, "talent/schemes.html", {
        "schemes": schemes, "mappings": selectors.mappings(), "errors": errors, "today": today},
        status=422 if errors else 200)
