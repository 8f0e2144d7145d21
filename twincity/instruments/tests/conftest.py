from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from twincity.instruments.models import Instrument, InstrumentCategory, Price, RateClass, ServiceItem
from twincity.instruments.services import instrument_rules_set

SH = ZoneInfo("Asia/Shanghai")
# "Now" in the tests: Monday 2026-12-07 10:00 Shanghai; bookings on Tuesday from 09:00.
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=SH)
TUE9 = datetime(2026, 12, 8, 9, 0, tzinfo=SH)


def make_instrument(owner, *, name="场发射扫描电子显微镜", city="chongqing", rules=None, value="3200000",
                    prices=("240.00", "420.00", "600.00"), actor=None) -> Instrument:
    category, _ = InstrumentCategory.objects.get_or_create(
        code="0106", defaults={"name_zh": "电子光学仪器", "name_en": "Electron optical instruments"})
    instrument = Instrument.objects.create(
        owner=owner, name_zh=name, name_en="Field-emission SEM", model="Sigma 300", maker="ZEISS 卡尔蔡司",
        category=category, original_value=Decimal(value), city=city, site="重庆大学虎溪校区理科楼",
    )
    item = ServiceItem.objects.create(instrument=instrument, code="machine-time", name_zh="机时",
                                      name_en="Machine time", unit=ServiceItem.Unit.HOUR)
    for rate_class, amount in zip(RateClass.values, prices):
        Price.objects.create(service_item=item, rate_class=rate_class, amount=Decimal(amount),
                             valid_from=date(2026, 1, 1))
    if rules is not None:
        instrument = instrument_rules_set(actor=actor, instrument=instrument, definition=rules)
    return instrument


@pytest.fixture
def sem(cast):
    """An SEM of owen's institution (重庆大学分析测试中心) with the default rules."""
    return make_instrument(cast.institute)
