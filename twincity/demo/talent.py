"""The demo's talent cards, through the one write path (twincity.talent.services): the 金熊猫 and 金凤凰 schemes
with their DEMO-marked tiers, criteria and services (twincity.talent.catalogue), their mutual recognition, and the
card holders of the cast: ruby (a researcher at bob's company, a 金熊猫 card applied for by bob as her employer) and
felix (a researcher at 金凤实验室, a 金凤凰 card whose renewal window is open), a few service requests of ruby's in
Chongqing (one shared service granted, one own-zone service refused), and alice's application waiting in clara's
review queue."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from twincity.accounts.models import User
from twincity.talent import catalogue, services
from twincity.talent.models import CardScheme, TalentCard

SCHEMES_FROM = date(2023, 1, 1)
MAPPINGS_FROM = date(2024, 1, 1)


def _scheme(olivia: User, spec: dict, definition: dict):
    scheme = services.scheme_create(actor=olivia, **spec)
    services.scheme_version_publish(actor=olivia, scheme=scheme, effective_from=SCHEMES_FROM, definition=definition,
                                    validity_years=3, family_extension=True, demo=True, note=catalogue.DEMO_NOTE)
    return scheme


def demo_talent_load(*, today: date | None = None) -> int:
    """Seed schemes, mappings, the persona cards and their requests; the number of cards issued. Kept over a
    reset of the registry (like the organisations and users): a second run leaves them as they are."""
    if CardScheme.objects.filter(code=catalogue.JINXIONGMAO["code"]).exists():
        return 0
    today = today or timezone.localdate()
    people = {u.username: u for u in User.objects.filter(username__in=["olivia", "clara", "bob", "ruby", "felix",
                                                                       "alice"])}
    olivia = people["olivia"]
    panda = _scheme(olivia, catalogue.JINXIONGMAO, catalogue.JINXIONGMAO_DEFINITION)
    phoenix = _scheme(olivia, catalogue.JINFENGHUANG, catalogue.JINFENGHUANG_DEFINITION)
    services.mapping_publish(actor=olivia, home=phoenix, partner=panda, effective_from=MAPPINGS_FROM,
                             pairs=catalogue.JINXIONGMAO_IN_CHONGQING, demo=True, note=catalogue.DEMO_NOTE)
    services.mapping_publish(actor=olivia, home=panda, partner=phoenix, effective_from=MAPPINGS_FROM,
                             pairs=catalogue.JINFENGHUANG_IN_CHENGDU, demo=True, note=catalogue.DEMO_NOTE)
    cards = 0
    if "ruby" in people and "bob" in people:  # the employer channel: bob applies for his researcher
        issued = today - timedelta(days=200)
        application = services.application_submit(
            actor=people["bob"], applicant=people["ruby"], scheme=panda, on=issued,
            evidence=[{"criterion": "national_program", "type": "title_certificate", "reference": "国家杰青（演示）"},
                      {"criterion": "doctorate", "type": "degree_certificate", "reference": "博士学位（演示）"},
                      {"criterion": "doctorate", "type": "employment_contract", "reference": "劳动合同（演示）"}])
        services.application_decide(actor=olivia, application=application, approve=True, note="材料齐全", on=issued)
        card = TalentCard.objects.get(application=application)
        services.card_disclosure_set(actor=people["ruby"], card=card, fields=["name", "scheme", "tier", "valid_until"])
        moment = timezone.make_aware(datetime.combine(today - timedelta(days=10), time(10, 0)))
        for code in ("medical_green", "talent_apartment"):
            services.service_request_create(actor=people["ruby"], card=card, provider=phoenix, service_code=code,
                                            at=moment)
        cards += 1
    if "felix" in people:
        issued = today - timedelta(days=3 * 365 - 20)  # renewal window open now
        card = services.card_issue_direct(
            actor=people.get("clara", olivia), holder=people["felix"], scheme=phoenix, on=issued,
            evidence=[{"criterion": "national_program", "type": "title_certificate", "reference": "国家重点人才计划（演示）"}])
        cards += 1
    if "alice" in people:
        services.application_submit(
            actor=people["alice"], applicant=people["alice"], scheme=phoenix,
            evidence=[{"criterion": "doctorate", "type": "degree_certificate", "reference": "博士学位（演示）"},
                      {"criterion": "doctorate", "type": "employment_contract", "reference": "劳动合同（演示）"},
                      {"criterion": "doctorate", "type": "social_insurance", "reference": "社保缴纳证明（演示）"}])
    return cards
