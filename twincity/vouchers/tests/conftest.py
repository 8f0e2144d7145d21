from datetime import date
from decimal import Decimal

import pytest

from twincity.accounts.models import Organisation, User
from twincity.instruments.tests.conftest import NOW, SH, TUE9, make_instrument
from twincity.vouchers import services

__all__ = ["NOW", "SH", "TUE9", "chengdu_office", "make_batch"]


def chengdu_office() -> User:
    """An administrator of a Chengdu government office: Chengdu's voucher office (not a persona)."""
    office = Organisation.objects.create(name="成都市科学技术局", kind="government", city="chengdu")
    return User.objects.create_user("dora", password="x", role="administrator", organisation=office,
                                    display_name="Dora 朵拉")


def make_batch(actor, *, code="CQ2026-01", city="chongqing", regions=("chongqing", "chengdu"), amount="10000",
               mode="direct", copay="0.30", categories=("01",), providers=(), valid=(date(2026, 1, 1),
                                                                                     date(2026, 12, 31))):
    return services.batch_create(actor=actor, code=code, name=f"{code} 科技创新券", city=city, amount=amount,
                                 valid_from=valid[0], valid_until=valid[1], regions=regions, settlement_mode=mode,
                                 categories=categories, providers=providers, copay_share=copay)


@pytest.fixture
def scu(db):
    return Organisation.objects.create(name="四川大学分析测试中心", kind="institute", city="chengdu")


@pytest.fixture
def cd_sem(scu):
    """An SEM (0106, 600 元/h for industry) of a Chengdu institute."""
    return make_instrument(scu, city="chengdu", name="成都扫描电镜")


@pytest.fixture
def cq_sem(cast):
    return make_instrument(cast.institute)


@pytest.fixture
def cq_batch(cast):
    return make_batch(cast.olivia)


@pytest.fixture
def alice_voucher(cast, cq_batch):
    [voucher] = services.vouchers_issue(actor=cast.olivia, batch=cq_batch, holders=[cast.alice_org], now=NOW)
    return voucher


MONEY = Decimal
