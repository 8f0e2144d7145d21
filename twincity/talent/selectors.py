"""Reads of talent cards: the scheme version and the recognition mapping in force on a day, the queues and lists."""

from datetime import date

from django.db.models import QuerySet

from twincity.core.access import visible_to
from twincity.talent import access
from twincity.talent.models import (
    CardApplication,
    CardScheme,
    RecognitionMapping,
    SchemeVersion,
    ServiceRequest,
    TalentCard,
)

NO_CARD = "人才卡不存在 (no such card)"
NO_APPLICATION = "申请不存在 (no such application)"


def schemes() -> QuerySet[CardScheme]:
    return CardScheme.objects.all()


def scheme_get(*, code: str) -> CardScheme | None:
    return CardScheme.objects.filter(code=code).first()


def version_in_force(*, scheme: CardScheme, on: date) -> SchemeVersion | None:
    """The scheme's version in effect on `on` (the latest to have taken effect), or None before the first."""
    return SchemeVersion.objects.filter(scheme=scheme).in_force(on).first()


def versions_of(*, scheme: CardScheme) -> QuerySet[SchemeVersion]:
    return SchemeVersion.objects.filter(scheme=scheme).order_by("-version")


def mapping_in_force(*, home: CardScheme, partner: CardScheme, on: date) -> RecognitionMapping | None:
    """The recognition mapping from `partner`'s tiers to `home`'s in force on `on`, or None."""
    return RecognitionMapping.objects.filter(home_scheme=home, partner_scheme=partner).in_force(on).first()


def mappings() -> QuerySet[RecognitionMapping]:
    return RecognitionMapping.objects.select_related("home_scheme", "partner_scheme").order_by(
        "home_scheme__code", "partner_scheme__code", "-version")


def application_get(*, public_id) -> CardApplication | None:
    return (CardApplication.objects.select_related("scheme", "scheme_version", "applicant", "submitted_by", "employer")
            .filter(public_id=public_id).first())


def application_for(user, public_id) -> CardApplication:
    """The application `user` may see (404 otherwise): its pages and its API open it through this."""
    return visible_to(user, application_get(public_id=public_id), access.can_view_application, NO_APPLICATION)


def review_queue(*, applications: QuerySet[CardApplication]) -> QuerySet[CardApplication]:
    """Submitted applications, the oldest first."""
    return (applications.filter(status=CardApplication.Status.SUBMITTED)
            .select_related("scheme", "applicant", "submitted_by", "employer").order_by("created_at", "id"))


def applications_of(*, user) -> QuerySet[CardApplication]:
    return (CardApplication.objects.filter(applicant=user) | CardApplication.objects.filter(submitted_by=user)
            ).select_related("scheme").order_by("-created_at")


def card_get(*, public_id) -> TalentCard | None:
    return (TalentCard.objects.select_related("scheme", "scheme_version", "holder", "employer")
            .filter(public_id=public_id).first())


def card_for(user, public_id) -> TalentCard:
    """The card `user` may see (404 otherwise): its pages and its API open it through this."""
    return visible_to(user, card_get(public_id=public_id), access.can_view_card, NO_CARD)


def cards_of(*, user) -> QuerySet[TalentCard]:
    return TalentCard.objects.filter(holder=user).select_related("scheme", "employer").order_by("-issued_on", "-id")


def requests_of(*, card: TalentCard) -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.filter(card=card).select_related("provider_scheme", "mapping").order_by(
        "-requested_at", "-id")


def granted_count(*, card: TalentCard, service_code: str, provider: CardScheme, year: int) -> int:
    return ServiceRequest.objects.filter(card=card, provider_scheme=provider, service_code=service_code,
                                         granted=True, used_on__year=year).count()


def cards_to_lapse(*, today: date) -> QuerySet[TalentCard]:
    return TalentCard.objects.filter(status=TalentCard.Status.ACTIVE, valid_until__lt=today)
