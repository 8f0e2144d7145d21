"""The pages: the index, a pool's overview with its figures and breaker status, a guarantee with its shares,
each party's figures and ledger lines, the claims queue (HTMX filter); actions through the page forms; another
bank gets 404."""

import pytest

from twincity.riskpool import services
from twincity.riskpool.models import Claim

from .conftest import default, make_loan


@pytest.fixture
def paid(cast, pool, reguarantor):
    loan = make_loan(cast, amount="1500000.00")
    g = services.guarantee_attach(actor=cast.gary, pool=pool, application=loan, guarantor=cast.guarantor,
                                  reguarantor=reguarantor, fee_rate="0.01")
    default(loan)
    return g


def test_a_defaulted_loan_through_the_pages(client, cast, pool, paid):
    g = paid
    client.force_login(cast.bella)
    page = client.get(f"/riskpool/guarantees/{g.pk}/").content.decode()
    assert 'id="file-claim"' in page and "15,000.00" in page
    r = client.post(f"/riskpool/guarantees/{g.pk}/claims", {"amount": "1234567.89", "description": "逾期"})
    assert r.status_code == 302
    claim = Claim.objects.get()
    client.force_login(cast.gary)
    page = client.get(f"/riskpool/guarantees/{g.pk}/").content.decode()
    assert 'data-action="review"' in page and 'data-action="pay"' not in page
    client.post(f"/riskpool/claims/{claim.pk}/review")
    client.post(f"/riskpool/claims/{claim.pk}/approve")
    client.post(f"/riskpool/claims/{claim.pk}/approve")  # again: refused with a message, nothing changes
    claim.refresh_from_db()
    assert claim.status == "approved"
    client.force_login(cast.olivia)
    client.post(f"/riskpool/claims/{claim.pk}/pay")
    client.post(f"/riskpool/claims/{claim.pk}/recoveries", {"amount": "200000.00"})
    claim.refresh_from_db()
    assert claim.status == "paid" and claim.recoveries.count() == 1

    for who in (cast.bella, cast.gary, cast.olivia):
        client.force_login(who)
        page = client.get(f"/riskpool/guarantees/{g.pk}/").content.decode()
        for figure in ("246,913.58", "493,827.15", "370,370.37", "123,456.79", "1,234,567.89"):
            assert figure in page, (who, figure)
        assert page.count("data-txn=") >= 3
    client.force_login(cast.olivia)
    page = client.get(f"/riskpool/pools/{pool.pk}/").content.decode()
    assert 'data-figure="balance">9,898,418.21 ' in page
    assert 'data-figure="loss-ratio">1.03%<' in page and 'data-breaker="closed"' in page
    assert 'id="contribute"' in page
    client.force_login(cast.bella)
    page = client.get(f"/riskpool/pools/{pool.pk}/").content.decode()
    assert 'data-figure="balance"' not in page and f'data-guarantee="{g.pk}"' in page


def test_the_claims_queue_and_its_filter(client, cast, pool, paid):
    services.claim_file(actor=cast.bella, guarantee=paid, amount="1000.00")
    client.force_login(cast.gary)
    page = client.get("/riskpool/claims/").content.decode()
    assert page.count("data-claim=") == 1 and "<html" in page
    part = client.get("/riskpool/claims/?status=paid", HTTP_HX_REQUEST="true").content.decode()
    assert "data-claim=" not in part and "<html" not in part
    part = client.get("/riskpool/claims/?status=filed", HTTP_HX_REQUEST="true").content.decode()
    assert part.count('data-status="filed"') == 1


def test_another_bank_and_an_enterprise_get_404_or_403(client, cast, pool, paid):
    client.force_login(cast.bruno)
    assert client.get(f"/riskpool/guarantees/{paid.pk}/").status_code == 404
    assert client.get(f"/riskpool/pools/{pool.pk}/").status_code == 404
    assert client.post(f"/riskpool/guarantees/{paid.pk}/claims", {"amount": "1.00"}).status_code == 404
    assert "data-guarantee" not in client.get("/riskpool/").content.decode()
    client.force_login(cast.alice)
    assert client.get("/riskpool/").status_code == 403
    client.force_login(cast.bella)
    assert client.post(f"/riskpool/pools/{pool.pk}/contribute", {"amount": "1"}).status_code == 403
    assert not Claim.objects.exists()


def test_the_suspended_pool_page_shows_the_breaker_and_resume(client, cast, pool):
    from twincity.riskpool.models import RiskPool

    RiskPool.objects.filter(pk=pool.pk).update(status="suspended", suspended_reason="赔付率达到阈值")
    client.force_login(cast.olivia)
    page = client.get(f"/riskpool/pools/{pool.pk}/").content.decode()
    assert 'data-breaker="tripped"' in page and 'id="resume"' in page
    client.post(f"/riskpool/pools/{pool.pk}/resume", {"note": "ok"})  # no losses: the ratio is under the threshold
    pool.refresh_from_db()
    assert pool.status == "active"


def test_gary_attaches_a_guarantee_through_the_page(client, cast, pool, reguarantor):
    from twincity.core.models import AuditEntry
    from twincity.riskpool.models import Guarantee

    loan = make_loan(cast, amount="1500000.00")
    client.force_login(cast.gary)
    page = client.get("/riskpool/").content.decode()
    assert 'id="attach"' in page and f'<option value="{loan.pk}">' in page
    # his own institution is the only guarantor he may choose
    assert page.count('name="guarantor"') == 1 and f'<option value="{reguarantor.pk}">' in page
    r = client.post("/riskpool/guarantees/", {"pool": pool.pk, "application": loan.pk, "guarantor": cast.guarantor.pk,
                                              "reguarantor": reguarantor.pk, "fee_rate": "0.01"})
    g = Guarantee.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/riskpool/guarantees/{g.pk}/"
    assert (g.application_id, g.guarantor_id, g.reguarantor_id, str(g.covered_amount), str(g.fee_amount)) == (
        loan.pk, cast.guarantor.pk, reguarantor.pk, "1500000.00", "15000.00")
    assert AuditEntry.objects.filter(object_type="riskpool.guarantee", object_id=str(g.pk)).exists()
    # the loan is no longer offered; attaching again is refused with a message and nothing is written
    assert f'<option value="{loan.pk}">' not in client.get("/riskpool/").content.decode()
    r = client.post("/riskpool/guarantees/", {"pool": pool.pk, "application": loan.pk,
                                              "guarantor": cast.guarantor.pk, "reguarantor": reguarantor.pk},
                    follow=True)
    assert "该贷款已有担保" in r.content.decode() and Guarantee.objects.count() == 1


def test_the_attach_form_is_for_guarantors_and_administrators(client, cast, pool):
    loan = make_loan(cast)
    client.force_login(cast.bella)
    assert 'id="attach"' not in client.get("/riskpool/").content.decode()
    assert client.post("/riskpool/guarantees/", {"pool": pool.pk, "application": loan.pk,
                                                 "guarantor": cast.guarantor.pk}).status_code == 403
    client.force_login(cast.gary)
    r = client.post("/riskpool/guarantees/", {"pool": pool.pk, "application": "x", "guarantor": cast.guarantor.pk},
                    follow=True)
    assert r.status_code == 200 and not loan.__class__.objects.filter(guarantee__isnull=False).exists()
