"""The financing pages: the company's list and form, a case's page with its timeline and the forms of the
actions the viewer may take, the institution's work queue, the administrators' overdue list; navigation."""

from datetime import UTC, datetime

from twincity.finance import services
from twincity.finance.models import AccessLog, Application


def test_alice_publishes_a_demand_from_her_page_and_bella_claims_and_decides_from_hers(client, cast):
    client.force_login(cast.alice)
    page = client.get("/finance/cases/")
    assert page.status_code == 200 and "case-form" in page.content.decode()
    r = client.post("/finance/cases/", {"amount": "200", "term_months": "24", "purpose": "流片", "submit": "on"})
    case = Application.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/finance/cases/{case.pk}/"
    assert (case.kind, case.state, str(case.amount)) == ("demand", "published", "2000000.00")
    body = client.get(f"/finance/cases/{case.pk}/").content.decode()
    assert 'data-state="published"' in body and 'id="withdraw-form"' in body and "claim-case" not in body

    client.force_login(cast.bruno)
    assert client.get(f"/finance/cases/{case.pk}/").status_code == 404
    assert client.post(f"/finance/cases/{case.pk}/claim").status_code == 404

    client.force_login(cast.bella)
    queue = client.get("/finance/queue/").content.decode()
    assert f'data-case="{case.pk}"' in queue
    body = client.get(f"/finance/cases/{case.pk}/").content.decode()
    assert 'id="claim-case"' in body and 'id="case-consent"' in body
    assert not AccessLog.objects.exists()  # no consent: nothing read
    r = client.post(f"/finance/cases/{case.pk}/claim", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'data-state="claimed"' in r.content.decode()
    r = client.post(f"/finance/cases/{case.pk}/decide", {"decision": "reject", "comment": ""})
    assert Application.objects.get(pk=case.pk).state == "claimed"  # refused: a reason is mandatory
    r = client.post(f"/finance/cases/{case.pk}/decide", {"decision": "approve", "amount": "150", "rate": "3.45",
                                                         "term_months": "24"})
    case.refresh_from_db()
    assert (case.state, str(case.approved_amount), str(case.approved_rate)) == ("approved", "1500000.00", "0.034500")
    client.post(f"/finance/cases/{case.pk}/disburse", {"on": "2026-11-30"})
    client.post(f"/finance/cases/{case.pk}/repay", {})
    case.refresh_from_db()
    assert case.state == "repaid"
    client.force_login(cast.alice)
    timeline = client.get(f"/finance/cases/{case.pk}/").content.decode()
    for action in ("publish", "claim", "approve", "disburse", "repay"):
        assert f'data-action="{action}"' in timeline
    assert client.post(f"/finance/cases/{case.pk}/claim").status_code == 403


def test_the_institution_reads_points_only_with_consent_and_the_read_is_logged(client, cast):
    from datetime import timedelta

    from django.utils import timezone

    case = services.case_create(actor=cast.alice, enterprise=cast.alice_co, kind="demand", amount="1000000",
                                term_months=12, purpose="x", submit=True)
    services.consent_grant(actor=cast.alice, enterprise=cast.alice_co, institution=cast.bank_a_branch,
                           purpose="financing", valid_until=timezone.now() + timedelta(days=30))
    client.force_login(cast.bella)
    client.get(f"/finance/cases/{case.pk}/")
    log = AccessLog.objects.get()
    assert (log.user, log.institution, log.what, log.via) == (cast.bella, cast.bank_a_branch, "points",
                                                             f"page: financing case #{case.pk}")


def test_overdue_page_is_for_administrators_and_names_who_is_late(client, cast):
    case = services.case_create(actor=cast.alice, enterprise=cast.alice_co, kind="demand", amount="1000000",
                                term_months=12, purpose="x", submit=True, at=datetime(2025, 9, 30, 2, tzinfo=UTC))
    client.force_login(cast.bella)
    assert client.get("/finance/overdue/").status_code == 403
    client.force_login(cast.olivia)
    body = client.get("/finance/overdue/").content.decode()
    assert f'data-case="{case.pk}"' in body and "2025-10-11" in body and "重庆农村商业银行科学城支行" in body


def test_navigation_shows_each_page_to_whom_it_serves(client, cast):
    expected = {"alice": "/finance/cases/", "bella": "/finance/queue/", "olivia": "/finance/overdue/"}
    for name, url in expected.items():
        client.force_login(getattr(cast, name))
        body = client.get("/").content.decode()
        assert f'href="{url}"' in body, name
        for other in set(expected.values()) - {url}:
            if not (name == "olivia" and other == "/finance/queue/"):
                assert f'href="{other}"' not in body, (name, other)
