import pytest

from twincity.demo.licences import licences_catalogue_load


@pytest.fixture
def yy(cast):
    """The halls, departments, component items and the four demo packages (through the services)."""
    packages = licences_catalogue_load(actor=cast.olivia)

    class YY:
        pass

    y = YY()
    y.packages = packages
    y.cq_catering = packages["chongqing-catering"]
    return y


FORM = {"legal_rep": "鲍勃", "address": "成都高新区天府大道 1 号", "shop_name": "星云小馆",
        "premises": "重庆高新区科学大道 88 号", "phone": "023-60000000"}
