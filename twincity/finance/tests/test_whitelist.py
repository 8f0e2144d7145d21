"""An institution's whitelist of a product: the enterprises of the whole registry that qualify (the batch path)
and whose consent covering the reader's institution is in force at the moment of access. Without consent an
enterprise never appears; after a revocation it is gone at once; every member shown or exported is logged where
the enterprise sees it; another bank cannot read it."""

import csv
import io
import random
from datetime import date, timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from twincity.demo.generator import make_credit_code
from twincity.enterprises.models import Enterprise
from twincity.finance import selectors, services
from twincity.finance.models import AccessLog
from twincity.finance.tests.test_consent import grant
from twincity.testing import ALICE_CODE, BOB_CODE

API = "/api/finance/products/crcb-points-loan/whitelist"
PAGE = "/finance/products/crcb-points-loan/whitelist/"
CHONGQING_API = "/api/finance/products/crcb-cq-any/whitelist"


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["credit_code"] for item in response.json()["items"]]


def log_rows() -> list[tuple]:
    return list(AccessLog.objects.order_by("pk").values_list(
        "enterprise__credit_code", "user__username", "institution__name", "what", "consent_id", "purpose", "via"))


@pytest.fixture
def newcomer(cast):
    """A third Chongqing company, registered three years ago, never scored: its grade is unknown, so it needs
    review for the points loan and is never on its whitelist."""
    return Enterprise.objects.create(
        credit_code=make_credit_code(random.Random(7), "500000", 2022), name="重庆新来科技有限公司",
        city="chongqing", registered_on=date(2022, 3, 1), industry_cluster="ic")


def revoke(cast, consent, actor=None):
    return services.consent_revoke(actor=actor or cast.alice, consent=consent)


def test_membership_before_consent_with_it_and_after_revocation(client, cast, scored, products, newcomer):
    client.force_login(cast.bella)
    before = client.get(API).json()
    assert (before["count"], before["consented"], before["items"], before["next_cursor"]) == (0, 0, [], None)

    # alice consents to bella's bank (the head office: it covers the branch bella works at); bob consents too,
    # but his company (Chengdu) does not qualify; the newcomer consents but needs review (no grade).
    consent = grant(cast, institution=cast.bank_a, purpose="credit_assessment")
    services.consent_grant(actor=cast.bob, enterprise=cast.bob_co, institution=cast.bank_a_branch,
                           purpose="financing", valid_until=timezone.now() + timedelta(days=5))
    with_consent = client.get(API).json()
    assert [i["credit_code"] for i in with_consent["items"]] == [ALICE_CODE]
    assert (with_consent["count"], with_consent["consented"]) == (1, 2)
    assert with_consent["items"][0] | {"consent_valid_until": None} == {
        "credit_code": ALICE_CODE, "name": cast.alice_co.name, "city": "chongqing", "industry_cluster": "ic",
        "consent_id": consent.pk, "consent_purpose": "credit_assessment", "consent_valid_until": None}

    revoke(cast, consent)
    after = client.get(API).json()
    assert (after["count"], after["consented"], after["items"]) == (0, 1, [])
    # alice was read once, under her consent; bob and the newcomer never (they were not on the list).
    assert log_rows() == [(ALICE_CODE, "bella", cast.bank_a_branch.name, "match", consent.pk, "credit_assessment",
                           "api: GET /api/finance/products/crcb-points-loan/whitelist")]


def test_a_consent_to_every_bank_covers_bella_and_an_expired_one_does_not(client, cast, scored, products):
    consent = grant(cast, institution=None, institution_kind="bank")
    client.force_login(cast.bella)
    assert codes(client.get(API)) == [ALICE_CODE]
    later = consent.valid_until + timedelta(seconds=1)
    assert selectors.whitelist(user=cast.bella, product=products["crcb-points-loan"], at=later).members == []
    assert selectors.whitelist(user=cast.bella, product=products["crcb-points-loan"],
                               at=consent.valid_until - timedelta(seconds=1)).members[0].consent.pk == consent.pk


@pytest.mark.parametrize("persona", ["bruno", "olivia", "alice", "gary"])
def test_no_one_but_the_institutions_officers_reads_it(client, cast, scored, products, persona):
    grant(cast)
    client.force_login(cast.personas[persona])
    for url in (API, f"{API}?format=csv", PAGE, "/finance/products/crcb-points-loan/whitelist.csv",
                "/finance/products/crcb-points-loan/whitelist.xlsx"):
        assert client.get(url).status_code == 403, url
    assert client.get("/api/finance/products/no-such-product/whitelist").status_code == 404
    assert client.get("/finance/products/no-such-product/whitelist/").status_code == 404
    assert "whitelist-link" not in client.get("/finance/products/crcb-points-loan/").content.decode()
    assert not AccessLog.objects.exists()


def test_the_page_lists_and_logs_what_it_shows(client, cast, scored, products):
    consent = grant(cast)
    client.force_login(cast.bella)
    assert 'id="whitelist-link"' in client.get("/finance/products/crcb-points-loan/").content.decode()
    body = client.get(PAGE).content.decode()
    assert f'data-code="{ALICE_CODE}"' in body and BOB_CODE not in body
    assert 'data-count="members">1<' in body and 'data-count="consented">1<' in body
    assert log_rows() == [(ALICE_CODE, "bella", cast.bank_a_branch.name, "match", consent.pk, "financing",
                           "page: /finance/products/crcb-points-loan/whitelist/")]
    # alice sees who looked, on her consents page.
    client.force_login(cast.alice)
    assert "page: /finance/products/crcb-points-loan/whitelist/" in client.get("/finance/consents/").content.decode()


def test_exports_hold_every_member_and_log_each(client, cast, scored, products):
    consent = grant(cast)
    client.force_login(cast.bella)
    r = client.get("/finance/products/crcb-points-loan/whitelist.csv")
    assert r.status_code == 200 and r["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode("utf-8-sig"))))
    assert rows == [
        ["credit_code", "name", "city", "industry_cluster", "product_id", "version", "evaluation_date",
         "consent_purpose", "consent_valid_until"],
        [ALICE_CODE, cast.alice_co.name, "chongqing", "ic", "crcb-points-loan", "1", today, "financing",
         consent.valid_until.isoformat()],
    ]
    r = client.get(f"{API}?format=xlsx")
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert [c.value for c in next(sheet.iter_rows(min_row=2))][:5] == [ALICE_CODE, cast.alice_co.name, "chongqing",
                                                                       "ic", "crcb-points-loan"]
    assert [row[-1] for row in log_rows()] == ["export: /finance/products/crcb-points-loan/whitelist.csv",
                                                "api: GET /api/finance/products/crcb-points-loan/whitelist?format=xlsx"]


@pytest.fixture
def chongqing_product(cast):
    """A product of bella's branch for every company registered in Chongqing (no standard)."""
    return services.product_create(actor=cast.bella, institution=cast.bank_a_branch, product_id="crcb-cq-any",
                                   definition={"kind": "credit_loan", "name_zh": "重庆企业贷", "name_en": "CQ loan",
                                               "conditions": [{"id": "city", "name_zh": "重庆", "name_en": "CQ",
                                                               "expr": "city == 'chongqing'"}]})


def test_pages_follow_the_credit_code_and_each_logs_only_its_own_members(client, cast, chongqing_product):
    rng = random.Random(3)
    companies = [Enterprise.objects.create(credit_code=make_credit_code(rng, "500000", 2020), name=f"公司{n}",
                                           city="chongqing", registered_on=date(2020, 1, 1)) for n in range(5)]
    for company in companies:
        company.organisation = cast.alice_org  # alice acts for each of them to grant its consent
    for company in [cast.alice_co, *companies[:4]]:
        services.consent_grant(actor=cast.alice, enterprise=company, institution=cast.bank_a_branch,
                               purpose="financing", valid_until=timezone.now() + timedelta(days=1))
    expected = sorted([cast.alice_co.credit_code, *(c.credit_code for c in companies[:4])])
    client.force_login(cast.bella)
    seen, after = [], None
    for _page in range(3):
        data = client.get(CHONGQING_API, {"limit": 2, **({"after": after} if after else {})}).json()
        seen.append([i["credit_code"] for i in data["items"]])
        after = data["next_cursor"]
    assert seen == [expected[:2], expected[2:4], expected[4:]] and after is None
    assert [row[0] for row in log_rows()] == expected
    assert client.get(CHONGQING_API, {"after": "!!"}).status_code == 422  # not the cursor's alphabet
    # a cursor that does not decode gives the first page, as the pages read one
    assert codes(client.get(CHONGQING_API, {"after": "bm90LWpzb24", "limit": 2})) == expected[:2]


def test_the_qualifying_set_follows_a_registry_change_at_once(client, cast, chongqing_product,
                                                              django_capture_on_commit_callbacks):
    """The qualifying set is cached per registry version; the audited change bumps it when it commits."""
    from twincity.enterprises.services import enterprise_update

    grant(cast)
    client.force_login(cast.bella)
    assert codes(client.get(CHONGQING_API)) == [ALICE_CODE]
    with django_capture_on_commit_callbacks(execute=True):
        enterprise_update(actor=cast.olivia, enterprise=cast.alice_co, changes={"city": "chengdu"})
    assert codes(client.get(CHONGQING_API)) == []


def test_an_empty_registry_has_an_empty_whitelist(cast, chongqing_product):
    Enterprise.objects.all().delete()
    frame = selectors.registry_match(on=date(2026, 11, 29), products=[chongqing_product])
    assert frame.columns == ["pk", "credit_code", "eligible.crcb-cq-any"] and frame.height == 0
    assert selectors.whitelist(user=cast.bella, product=chongqing_product, at=timezone.now()).members == []
