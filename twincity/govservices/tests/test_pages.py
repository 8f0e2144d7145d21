"""The pages: catalogue, item (filing), the editor (new version), the queue with the clock, a case with its steps
and the rating, the dashboard; who sees which."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from twincity.govservices import services
from twincity.govservices.models import ServiceCase, ServiceItem

pytestmark = pytest.mark.django_db


def test_catalogue_and_filing_online(client, gov, cast):
    client.force_login(cast.bob)
    r = client.get("/govservices/?framework=1")
    assert r.status_code == 200
    assert gov.item.name in r.content.decode()
    r = client.post(f"/govservices/items/{gov.item.pk}/", {
        "channel": "online", "applicant_name": "Bob", "situations": ["first"], "m_id_card": "submitted",
        "m_photo": "pledged", "delivery": "post"})
    case = ServiceCase.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/govservices/cases/{case.pk}/"
    assert (case.channel, case.applicant_user, case.materials, case.delivery) == (
        "online", cast.bob, {"id_card": "submitted", "photo": "pledged"}, "post")
    page = client.get(f"/govservices/cases/{case.pk}/").content.decode()
    assert "容缺承诺，待补" in page
    assert 'data-action="withdraw"' in page and 'data-action="accept"' not in page
    client.force_login(cast.bruno)
    assert client.get(f"/govservices/cases/{case.pk}/").status_code == 404


def test_queue_shows_the_clock_and_the_case_page_takes_steps(client, gov, cast):
    now = timezone.now()
    late = services.case_file(actor=cast.clara, item=gov.item, applicant_name="迟到", channel="window",
                              situations=["first"], materials={"id_card": "submitted", "photo": "submitted"},
                              at=now - timedelta(days=40))
    services.case_accept(actor=cast.clara, case=late, at=now - timedelta(days=40))
    fresh = services.case_file(actor=cast.clara, item=gov.item, applicant_name="新件", channel="window",
                               situations=["first"], materials={"id_card": "submitted", "photo": "submitted"})
    client.force_login(cast.hank)
    page = client.get("/govservices/queue/").content.decode()
    assert f'data-case="{late.pk}"' in page and f'data-case="{fresh.pk}"' in page
    assert 'data-clock="overdue"' in page and 'data-clock="not_started"' in page
    assert page.index(f'data-case="{late.pk}"') < page.index(f'data-case="{fresh.pk}"')  # overdue first
    assert "超期办件（按部门）" in page and gov.department.name in page
    r = client.post(f"/govservices/cases/{fresh.pk}/step/", {"action": "decide", "outcome": "approve"})
    assert r.status_code == 302
    fresh.refresh_from_db()
    assert fresh.state == "received"
    msgs = [str(m) for m in r.wsgi_request._messages]
    assert msgs and "illegal_transition" in msgs[0]
    client.post(f"/govservices/cases/{fresh.pk}/step/", {"action": "accept"})
    client.post(f"/govservices/cases/{fresh.pk}/step/", {"action": "pause", "step": "expert_review"})
    fresh.refresh_from_db()
    assert fresh.state == "paused"
    page = client.get("/govservices/queue/").content.decode()
    assert 'data-clock="paused"' in page
    client.force_login(cast.alice)
    assert client.get("/govservices/queue/").status_code == 403


def test_editor_publishes_a_new_version_and_cases_keep_theirs(client, gov, cast):
    case = services.case_file(actor=cast.clara, item=gov.item, applicant_name="甲", channel="window")
    client.force_login(cast.clara)
    assert client.get(f"/govservices/items/{gov.item.pk}/new-version/").status_code == 403
    client.force_login(cast.olivia)
    import json

    r = client.post(f"/govservices/items/{gov.item.pk}/new-version/", {
        "name": "残疾人证新办（优化）", "item_type": "confirmation", "handling": "new",
        "department": gov.department.pk, "implementing_body": gov.department.pk, "legal_basis": "x",
        "legal_limit_days": "20", "promised_limit_days": "5", "fee": "0", "cross_city_mode": "online",
        "areas": ["disability"], "definition": json.dumps(gov.item.definition), "note": "压缩时限"})
    new = ServiceItem.objects.get(code=gov.item.code, status="published")
    assert r.status_code == 302 and r["Location"] == f"/govservices/items/{new.pk}/"
    assert (new.version, new.promised_limit_days, new.name) == (2, 5, "残疾人证新办（优化）")
    case.refresh_from_db()
    assert case.item_id == gov.item.pk
    assert client.get("/govservices/catalogue.xlsx").status_code == 200


def test_dashboard_figures(client, gov, cast):
    at = datetime(2026, 3, 2, 10, tzinfo=timezone.get_current_timezone())
    case = services.case_file(actor=cast.alice, item=gov.item, applicant_name="A", channel="online",
                              situations=["first"], materials={"id_card": "submitted", "photo": "submitted"}, at=at)
    services.case_accept(actor=cast.clara, case=case, at=at)
    services.case_decide(actor=cast.hank, case=case, outcome="approve", at=at + timedelta(days=14))
    services.case_deliver(actor=cast.hank, case=case, at=at + timedelta(days=14))
    services.case_close(actor=cast.hank, case=case, at=at + timedelta(days=15))
    services.case_rate(actor=cast.alice, case=case, grade=4)
    client.force_login(cast.olivia)
    r = client.get("/govservices/dashboard/")
    board = r.context["board"]
    assert board["total"] == 1
    city = board["cities"][0]
    assert (city["city"], city["filed"], city["decided"], city["avg_taken"], city["avg_promised"],
            city["on_time_rate"], city["ratings"], city["avg_grade"]) == ("chongqing", 1, 1, 10.0, 10.0, 100.0, 1, 4.0)
    assert 'data-chart="gov-cities"' in r.content.decode()
    client.force_login(cast.alice)
    assert client.get("/govservices/dashboard/").status_code == 403
