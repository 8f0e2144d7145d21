"""The talent-card JSON endpoints: schemes in force, applications (apply, the reviewers' queue, decide), one's
cards (disclosure, renew, report a loss), service requests judged at the moment of use, and new versions of
schemes and recognition mappings (administrators).

A refused service request is a decision, not an error: it answers 201 with `granted: false`, the `rule` that
decided and the `reason`, and the versions of the service catalogue and mapping it was judged by."""

from uuid import UUID

from django.utils import timezone
from ninja import Router, Status

from twincity.accounts.models import User
from twincity.core.access import require, visible
from twincity.core.api import errors
from twincity.core.verification import code_url
from twincity.talent import access, selectors, services
from twincity.talent.models import CardScheme, TalentCard
from twincity.talent.schemas import (
    ApplicationIn,
    ApplicationOut,
    CardOut,
    DecisionIn,
    DisclosureIn,
    MappingIn,
    MappingOut,
    SchemeOut,
    SchemeVersionIn,
    SchemeVersionOut,
    ServiceRequestIn,
    ServiceRequestOut,
)

router = Router(tags=["talent 人才卡"])

NO_SCHEME = "卡种不存在 (no such scheme)"


def _scheme(code: str) -> CardScheme:
    return visible(selectors.scheme_get(code=code), NO_SCHEME)


def _card_out(request, card: TalentCard) -> dict:
    out = {f: getattr(card, f) for f in ("public_id", "number", "tier", "status", "issued_on", "valid_until",
                                         "code_version", "disclosure")}
    out["scheme.code"] = card.scheme.code
    if access.can_manage_card(request.user, card):
        out["verify_url"] = code_url(services.card_code(card), base=request.build_absolute_uri("/"))
    return out


@router.get("/schemes", response={200: list[SchemeOut], **errors()}, summary="Card schemes and their version in force")
def scheme_list_api(request):
    require(request.user.is_authenticated)
    today = timezone.localdate()
    out = []
    for scheme in selectors.schemes():
        version = selectors.version_in_force(scheme=scheme, on=today)
        out.append({"code": scheme.code, "name": scheme.name, "city": scheme.city, "issuer": scheme.issuer,
                    "issuer_level": scheme.issuer_level, "version": version.version if version else None,
                    "effective_from": version.effective_from if version else None,
                    "demo": version.demo if version else False,
                    "definition": version.definition if version else None})
    return out


@router.post("/applications", response={201: ApplicationOut, **errors(403, 404, 409)},
             summary="Apply for a card (yourself, or a colleague as the employer)")
def application_submit_api(request, payload: ApplicationIn):
    scheme = _scheme(payload.scheme)
    applicant = request.user
    if payload.applicant_id is not None and payload.applicant_id != request.user.pk:
        applicant = visible(User.objects.filter(pk=payload.applicant_id, organisation_id=request.user.organisation_id,
                                                organisation__isnull=False).first(), "无此同事 (no such colleague)")
    application = services.application_submit(actor=request.user, applicant=applicant, scheme=scheme,
                                              evidence=[e.dict() for e in payload.evidence])
    return Status(201, application)


@router.get("/applications/queue", response={200: list[ApplicationOut], **errors(403)},
            summary="The reviewers' queue: submitted applications of the schemes you review, oldest first")
def review_queue_api(request):
    require(access.can_review_any(request.user))
    return list(selectors.review_queue(applications=access.applications_reviewable(request.user))[:500])


@router.post("/applications/{public_id}/decision", response={200: ApplicationOut, **errors(403, 404, 409)},
             summary="Approve (issue the card at the highest tier met) or reject an application")
def application_decide_api(request, public_id: UUID, payload: DecisionIn):
    application = selectors.application_for(request.user, public_id)
    return services.application_decide(actor=request.user, application=application, approve=payload.approve,
                                       note=payload.note)


@router.get("/cards", response={200: list[CardOut], **errors(403)}, summary="My cards")
def card_list_api(request):
    require(access.can_hold_card(request.user))
    return [_card_out(request, card) for card in selectors.cards_of(user=request.user)]


@router.put("/cards/{public_id}/disclosure", response={200: CardOut, **errors(403, 404, 409)},
            summary="Choose what the card's QR code shows on the public verify page")
def card_disclosure_api(request, public_id: UUID, payload: DisclosureIn):
    card = services.card_disclosure_set(actor=request.user, card=selectors.card_for(request.user, public_id), fields=payload.fields)
    return _card_out(request, card)


@router.post("/cards/{public_id}/renewal", response={200: CardOut, **errors(403, 404, 409)},
             summary="Renew (the window opens 30 days before the last valid day)")
def card_renew_api(request, public_id: UUID):
    return _card_out(request, services.card_renew(actor=request.user, card=selectors.card_for(request.user, public_id)))


@router.post("/cards/{public_id}/employer-change", response={200: CardOut, **errors(403, 404, 409)},
             summary="Report a change of employer: the card takes the organisation of your account now")
def card_change_api(request, public_id: UUID):
    return _card_out(request, services.card_change(actor=request.user, card=selectors.card_for(request.user, public_id)))


@router.post("/cards/{public_id}/loss", response={200: CardOut, **errors(403, 404, 409)},
             summary="Report the card lost: the old QR code is revoked and the card reissued with a new one")
def card_loss_api(request, public_id: UUID):
    return _card_out(request, services.card_report_loss(actor=request.user, card=selectors.card_for(request.user, public_id)))


@router.post("/service-requests", response={201: ServiceRequestOut, **errors(403, 404, 409)},
             summary="Request a talent service; judged at the moment of use (granted or refused, with the reason)")
def service_request_api(request, payload: ServiceRequestIn):
    card = selectors.card_for(request.user, payload.card)
    provider = _scheme(payload.provider)
    return Status(201, services.service_request_create(actor=request.user, card=card, provider=provider,
                                                       service_code=payload.service, for_family=payload.for_family))


@router.post("/schemes/{code}/versions", response={201: SchemeVersionOut, **errors(403, 404, 409)},
             summary="Publish a new version of a scheme (administrators)")
def scheme_version_api(request, code: str, payload: SchemeVersionIn):
    scheme = _scheme(code)
    return Status(201, services.scheme_version_publish(actor=request.user, scheme=scheme, **payload.dict()))


@router.post("/mappings", response={201: MappingOut, **errors(403, 404, 409)},
             summary="Publish a new version of a recognition mapping (administrators)")
def mapping_publish_api(request, payload: MappingIn):
    require(access.can_manage_schemes(request.user))
    return Status(201, services.mapping_publish(
        actor=request.user, home=_scheme(payload.home), partner=_scheme(payload.partner),
        effective_from=payload.effective_from, effective_to=payload.effective_to, pairs=payload.pairs,
        demo=payload.demo, note=payload.note))
