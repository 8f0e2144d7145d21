import pytest

from twincity.accounts.models import Organisation
from twincity.govservices.models import ServiceHall
from twincity.govservices.services import item_create

DEFINITION = {
    "situations": [{"code": "first", "name": "首次申领"}, {"code": "transfer", "name": "跨省迁移"}],
    "materials": [
        {"code": "id_card", "name": "居民身份证", "required": True},
        {"code": "photo", "name": "近期免冠照片", "required": True, "tolerated": True},
        {"code": "licence", "name": "营业执照", "required": True, "held": True},
        {"code": "transfer_form", "name": "迁移申请表", "required": True, "situations": ["transfer"]},
        {"code": "extra", "name": "其他说明", "required": False},
    ],
    "pause_steps": [
        {"code": "expert_review", "name": "专家评审", "max_days": 10},
        {"code": "inspection", "name": "现场核查", "max_days": 5},
    ],
}


@pytest.fixture
def gov(cast):
    """The halls of both cities (clara's, chen's), hank's department, and one Chongqing item handled by it
    (10 working days promised, 20 legal) whose hall forwards from Chengdu."""
    orgs = {o.name: o for o in Organisation.objects.filter(kind="government")}
    cq_hall = cast.clara.organisation
    cd_hall = cast.chen.organisation
    ServiceHall.objects.create(organisation=cq_hall, city="chongqing")
    ServiceHall.objects.create(organisation=cd_hall, city="chengdu")
    department = cast.hank.organisation
    item = item_create(
        actor=cast.olivia,
        code="000108001000-cq-new",
        city="chongqing",
        name="残疾人证新办",
        item_type="confirmation",
        department=department,
        implementing_body=department,
        legal_limit_days=20,
        promised_limit_days=10,
        definition=DEFINITION,
        cross_city_mode="forwarded",
        areas=["disability", "social_insurance"],
        legal_basis="《残疾人证管理办法》",
    )

    class Gov:
        pass

    g = Gov()
    g.cq_hall, g.cd_hall, g.department, g.item, g.orgs = cq_hall, cd_hall, department, item, orgs
    return g
