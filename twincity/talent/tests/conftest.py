from datetime import date, datetime, time

import pytest
from django.utils import timezone

from twincity.talent import catalogue, services

SEEDED = date(2025, 1, 1)


def at(day: date, hour: int = 10) -> datetime:
    """An instant of a Shanghai day."""
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def schemes(cast):
    """The two seeded schemes in force from 2025-01-01, and 金熊猫 → 金凤凰 recognition v1 from then."""
    olivia = cast.olivia
    panda = services.scheme_create(actor=olivia, **catalogue.JINXIONGMAO)
    phoenix = services.scheme_create(actor=olivia, **catalogue.JINFENGHUANG)
    services.scheme_version_publish(actor=olivia, scheme=panda, effective_from=SEEDED,
                                    definition=catalogue.JINXIONGMAO_DEFINITION, family_extension=True, demo=True)
    services.scheme_version_publish(actor=olivia, scheme=phoenix, effective_from=SEEDED,
                                    definition=catalogue.JINFENGHUANG_DEFINITION, family_extension=True, demo=True)
    mapping = services.mapping_publish(actor=olivia, home=phoenix, partner=panda, effective_from=SEEDED,
                                       pairs=catalogue.JINXIONGMAO_IN_CHONGQING, demo=True)
    return {"panda": panda, "phoenix": phoenix, "mapping": mapping}


def panda_card(cast, schemes, *, evidence, on=date(2026, 3, 1)):
    """ruby's 金熊猫 card, applied for by bob (her employer) and approved by olivia on `on`."""
    application = services.application_submit(actor=cast.bob, applicant=cast.ruby, scheme=schemes["panda"],
                                              evidence=evidence, on=on)
    services.application_decide(actor=cast.olivia, application=application, approve=True, on=on)
    application.refresh_from_db()
    return application.card


B_EVIDENCE = [{"criterion": "national_program", "type": "title_certificate", "reference": "杰青"}]
D_EVIDENCE = [{"criterion": "doctorate", "type": "degree_certificate"},
              {"criterion": "doctorate", "type": "employment_contract"}]
