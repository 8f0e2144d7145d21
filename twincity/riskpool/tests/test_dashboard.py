"""The pools' balance and losses on the finance dashboard (twincity.riskpool.dashboard): the same figures as the
pool's ledger, to the fen, for those who may see a pool's overall figures; a bank sees none; the CSV export."""

import csv
import io

import pytest

from twincity.riskpool import services

from .conftest import default, make_loan


@pytest.fixture
def paid(cast, pool, reguarantor):
    """A 4:3:2:1 guarantee on a 1.5M loan, a paid claim of 1,234,567.89 and a recovery of 200,000."""
    loan = make_loan(cast, amount="1500000.00")
    g = services.guarantee_attach(actor=cast.gary, pool=pool, application=loan, guarantor=cast.guarantor,
                                  reguarantor=reguarantor, fee_rate="0.01")
    default(g.application)
    claim = services.claim_file(actor=cast.bella, guarantee=g, amount="1234567.89")
    for action in ("review", "approve", "pay"):
        claim = services.claim_transition(actor=cast.olivia, claim=claim, action=action)
    services.recovery_record(actor=cast.bella, claim=claim, amount="200000.00")
    return pool


def test_olivia_and_the_guarantor_see_the_pool(client, cast, paid):
    for persona in ("olivia", "gary"):
        client.force_login(cast.personas[persona])
        page = client.get("/finance/dashboard/")
        assert page.status_code == 200
        pools = next(x for x in page.context["extras"] if x["table"].key == "pools")
        assert len(pools["rows"]) == 1
        row = dict(zip([k for k, _label in pools["table"].columns], pools["rows"][0]))
        assert str(row["balance"]) == "9898418.21"
        assert (str(row["contributions"]), str(row["fees"])) == ("10000000.00", "1875.00")
        assert (str(row["payouts"]), str(row["recoveries"]), str(row["net_losses"])) == \
            ("123456.79", "20000.00", "103456.79")
        assert (row["loss_ratio"], row["threshold"], row["tripped"]) == (1.03, 50.0, "否 no")
        assert (row["guarantees"], str(row["covered"]), row["open_claims"]) == (1, "1500000.00", 0)
        assert pools["chart"]["labels"] == ["科学城风险补偿资金池"]


def test_a_bank_sees_no_pool_figures(client, cast, paid):
    client.force_login(cast.bella)
    page = client.get("/finance/dashboard/")
    pools = next(x for x in page.context["extras"] if x["table"].key == "pools")
    assert pools["rows"] == []
    assert "9898418" not in page.content.decode()
    assert client.get("/finance/dashboard/export/pools.csv").content.decode().strip().count("\n") == 0  # header


def test_pool_csv(client, cast, paid):
    client.force_login(cast.olivia)
    text = client.get("/finance/dashboard/export/pools.csv").content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["资金池 pool", "状态 status", "余额(元) balance (yuan)"]
    assert rows[1][0] == "科学城风险补偿资金池" and rows[1][2] == "9898418.21" and rows[1][7] == "103456.79"
    assert len(rows) == 2
