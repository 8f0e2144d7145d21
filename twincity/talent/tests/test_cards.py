"""The card lifecycle through the one write path, and its QR code through the public verify page: only the fields
the holder chose are shown, an altered code is rejected, a code revoked by a loss report is rejected."""

from datetime import date

import pytest

from twincity.core.models import AuditEntry
from twincity.core.verification import code_url
from twincity.notifications.models import Notification
from twincity.talent import services
from twincity.talent.errors import NoTierMet, RenewWindowClosed, TalentState
from twincity.talent.models import CardApplication, TalentCard
from twincity.talent.tests.conftest import B_EVIDENCE, D_EVIDENCE, panda_card

pytestmark = pytest.mark.django_db


def test_the_employer_applies_and_the_highest_tier_is_issued(cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE + D_EVIDENCE)
    application = card.application
    assert (application.channel, application.submitted_by, application.status) == (
        CardApplication.Channel.EMPLOYER, cast.bob, CardApplication.Status.APPROVED)
    assert (card.holder, card.tier, card.number, card.status) == (cast.ruby, "B", "JXM2026000001", "active")
    assert (card.issued_on, card.valid_until, card.code_version) == (date(2026, 3, 1), date(2029, 2, 28), 1)
    assert card.employer == cast.bob_org
    assert Notification.objects.filter(recipient=cast.ruby, event="talent.card.issued").count() == 1
    assert AuditEntry.objects.filter(object_type="talent.talentcard", object_id=str(card.pk)).count() == 1


def test_evidence_that_meets_no_criterion_issues_nothing(cast, schemes):
    application = services.application_submit(
        actor=cast.ruby, applicant=cast.ruby, scheme=schemes["panda"],
        evidence=[{"criterion": "doctorate", "type": "degree_certificate"}], on=date(2026, 3, 1))
    assert application.proposed_tier == ""
    with pytest.raises(NoTierMet):
        services.application_decide(actor=cast.olivia, application=application, approve=True, on=date(2026, 3, 1))
    assert not TalentCard.objects.exists()
    application.refresh_from_db()
    assert application.status == CardApplication.Status.SUBMITTED


def test_a_clerk_reviews_only_her_own_city_s_schemes(cast, schemes):
    application = services.application_submit(actor=cast.ruby, applicant=cast.ruby, scheme=schemes["panda"],
                                              evidence=B_EVIDENCE, on=date(2026, 3, 1))
    with pytest.raises(Exception) as refused:
        services.application_decide(actor=cast.clara, application=application, approve=True)
    assert refused.value.status == 403
    assert not TalentCard.objects.exists()


def test_the_qr_code_shows_only_the_chosen_fields(cast, schemes, client):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE)
    services.card_disclosure_set(actor=cast.ruby, card=card, fields=["tier", "employer"])
    response = client.get(code_url(services.card_code(card)))
    assert response.status_code == 200
    verification = response.context["verification"]
    assert verification.status == "valid"
    assert list(verification.fields) == [("层级", "B类 国家级领军人才"), ("工作单位", "成都天府星云软件有限公司")]
    page = response.content.decode()
    assert "成都天府星云软件有限公司" in page and card.number not in page and "Ruby" not in page


def test_a_tampered_code_is_rejected(cast, schemes, client):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE)
    token = services.card_code(card)
    body, signature = token.rsplit(":", 1)
    forged = body + ":" + ("A" if signature[0] != "A" else "B") + signature[1:]
    for bad in (forged, token[:-1], "garbage", token.replace(body, body[:-2] + "xx")):
        response = client.get(code_url(bad))
        assert response.status_code == 400, bad
        assert "核验未通过" in response.content.decode()


def test_a_loss_report_revokes_the_old_code_and_reissues(cast, schemes, client):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE)
    old = services.card_code(card)
    services.card_report_loss(actor=cast.ruby, card=card)
    card.refresh_from_db()
    assert (card.code_version, card.reissued_count, card.status) == (2, 1, "active")
    response = client.get(code_url(old))
    assert response.status_code == 410
    assert response.context["verification"].status == "revoked"
    assert list(response.context["verification"].fields) == []
    assert client.get(code_url(services.card_code(card))).status_code == 200


def test_only_the_holder_reports_a_loss(cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE)
    with pytest.raises(Exception) as refused:
        services.card_report_loss(actor=cast.bob, card=card)
    assert refused.value.status == 403
    card.refresh_from_db()
    assert card.code_version == 1


def test_the_renewal_window_boundaries(cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE)  # valid until 2029-02-28
    with pytest.raises(RenewWindowClosed) as closed:
        services.card_renew(actor=cast.ruby, card=card, on=date(2029, 1, 28))
    assert closed.value.extra == {"opens": "2029-01-29", "closes": "2029-02-28"}
    card.refresh_from_db()
    assert card.valid_until == date(2029, 2, 28)
    renewed = services.card_renew(actor=cast.ruby, card=card, on=date(2029, 1, 29))
    assert renewed.valid_until == date(2032, 2, 29)


def test_renewing_on_the_last_valid_day_and_not_after(cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE)
    assert services.card_renew(actor=cast.ruby, card=card, on=date(2029, 2, 28)).valid_until == date(2032, 2, 29)
    other = panda_card(cast, {**schemes, "panda": schemes["phoenix"]}, evidence=[
        {"criterion": "national_program", "type": "title_certificate"}])  # ruby's 金凤凰 card, II
    with pytest.raises(RenewWindowClosed):
        services.card_renew(actor=cast.ruby, card=other, on=date(2029, 3, 1))


def test_the_lapse_schedule(cast, schemes, client):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE)
    assert services.cards_lapse(on=date(2029, 2, 28)) == 0
    assert services.cards_lapse(on=date(2029, 3, 1)) == 1
    card.refresh_from_db()
    assert card.status == "lapsed"
    assert services.cards_lapse(on=date(2029, 3, 2)) == 0
    with pytest.raises(TalentState):
        services.card_renew(actor=cast.ruby, card=card, on=date(2029, 3, 1))
    response = client.get(code_url(services.card_code(card)))
    assert response.status_code == 410
    assert response.context["verification"].status == "expired"
    assert Notification.objects.filter(recipient=cast.ruby, event="talent.card.lapsed").count() == 1


def test_the_lapse_schedule_is_registered():
    from twincity.core.schedules import schedule_get

    schedule = schedule_get("talent-cards-lapse")
    assert schedule is not None and schedule.task_path == "twincity.talent.tasks.cards_lapse_task"


def test_a_change_of_employer_is_recorded_from_the_holder_s_account(cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE)
    with pytest.raises(TalentState):
        services.card_change(actor=cast.ruby, card=card)  # nothing changed
    cast.ruby.organisation = cast.alice_org
    cast.ruby.save()
    changed = services.card_change(actor=cast.ruby, card=card)
    assert changed.employer == cast.alice_org
    entry = AuditEntry.objects.filter(object_type="talent.talentcard", context="change").get()
    assert entry.changes == {"employer_id": {"before": cast.bob_org.pk, "after": cast.alice_org.pk}}
