"""Demo data of 一业一证: the component permits as govservices catalogue items of both cities, the catering
(餐饮) and maternal-and-infant shop (母婴店) packages of both cities, and a few applications filed and
licences issued — all through the services (the one write path).

Sources (see ../shared/reference/gov-services.md §2): the catering components follow the national 开办餐饮店
"一件事" scheme [C] (food business licence, outdoor sign, fire check for qualifying places, tobacco retail);
the base codes 000131024000 (食品经营许可) and 000125049000 (公众聚集场所消防检查) come from the Hunan guide [C];
the fire-check time limits from 消防法 §15 [C]; the food licence's 5-year validity from 食品安全法实施条例 §15 [C].
The thresholds (area ≥ 300 ㎡ or ≥ 100 seats), the promised limits, the 母婴店 components and the departments'
names are DEMO values ([U]): every package is marked demo=True and says so in `source`.
"""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from twincity.accounts.models import Organisation, User
from twincity.govservices import services as gov
from twincity.govservices.models import ServiceHall, ServiceItem
from twincity.licences import services
from twincity.licences.models import IndustryPackage

DEPARTMENTS = {
    "chongqing": {"market": "重庆高新区市场监督管理局", "fire": "重庆高新区消防救援支队",
                  "urban": "重庆高新区城市管理局", "tobacco": "重庆市烟草专卖局高新区分局"},
    "chengdu": {"market": "成都高新区市场监督管理局", "fire": "成都高新区消防救援大队",
                "urban": "成都高新区城市管理局", "tobacco": "成都市烟草专卖局高新区分局"},
}
HALLS = {"chongqing": "重庆高新区政务服务中心", "chengdu": "成都高新区政务服务中心"}
PREFIX = {"chongqing": "cq", "chengdu": "cd"}

_LICENCE = {"code": "business_licence", "name": "营业执照", "required": True, "held": True}
_ID = {"code": "id_card", "name": "法定代表人（负责人）身份证明", "required": True}
_PREMISES = {"code": "premises_proof", "name": "经营场所使用证明（产权证明或租赁合同）", "required": True}
_LAYOUT = {"code": "layout_plan", "name": "经营场所平面布局图", "required": True}

# (key, name, department key, item_type, legal days, promised days, legal basis, definition)
ITEMS: tuple[tuple[str, str, str, str, int, int, str, dict[str, Any]], ...] = (
    ("000131024000", "食品经营许可（新办）", "market", "licensing", 20, 10,
     "《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》", {
         "situations": [{"code": "hot_food", "name": "热食类食品制售"},
                        {"code": "special_food", "name": "特殊食品（婴幼儿配方乳粉）销售"}],
         "materials": [_LICENCE, _ID, _PREMISES, _LAYOUT,
                       {"code": "food_safety_rules", "name": "食品安全管理制度", "required": True},
                       {"code": "process_flow", "name": "设备布局和工艺流程图", "required": True,
                        "situations": ["hot_food"]},
                       {"code": "special_food_rules", "name": "特殊食品专柜（专区）及管理制度", "required": True,
                        "situations": ["special_food"]},
                       {"code": "staff_health", "name": "从业人员健康证明", "required": True, "tolerated": True}],
         "pause_steps": [{"code": "site_check", "name": "现场核查", "max_days": 5}]}),
    ("000125049000", "公众聚集场所投入使用、营业前消防安全检查", "fire", "licensing", 13, 10,
     "《中华人民共和国消防法》第十五条", {
         "situations": [],
         "materials": [_LICENCE, _LAYOUT,
                       {"code": "fire_form", "name": "公众聚集场所投入使用、营业前消防安全检查申报表", "required": True},
                       {"code": "fire_facilities_plan", "name": "消防设施平面图", "required": True},
                       {"code": "fire_rules", "name": "消防安全制度", "required": True, "tolerated": True},
                       {"code": "evacuation_plan", "name": "灭火和应急疏散预案", "required": True,
                        "tolerated": True}],
         "pause_steps": []}),
    ("sign", "户外招牌设施设置（规范管理）", "urban", "other_power", 10, 5,
     "《城市市容和环境卫生管理条例》；地方户外招牌设置规范（演示）", {
         "situations": [],
         "materials": [_LICENCE, _PREMISES, {"code": "sign_design", "name": "招牌设计效果图", "required": True}],
         "pause_steps": []}),
    ("tobacco", "烟草专卖零售许可证核发（新办）", "tobacco", "licensing", 20, 10,
     "《中华人民共和国烟草专卖法》；《烟草专卖法实施条例》", {
         "situations": [],
         "materials": [_LICENCE, _ID, _PREMISES,
                       {"code": "tobacco_form", "name": "烟草专卖零售许可证申请表", "required": True}],
         "pause_steps": []}),
    ("device2", "第二类医疗器械经营备案", "market", "filing", 5, 1,
     "《医疗器械监督管理条例》第四十一条", {
         "situations": [],
         "materials": [_LICENCE, _ID, _PREMISES,
                       {"code": "device_quality_rules", "name": "经营质量管理制度", "required": True}],
         "pause_steps": []}),
)


def item_code(city: str, key: str) -> str:
    return f"{key}-{PREFIX[city]}"


def _q(code: str, text: str, kind: str = "bool") -> dict[str, Any]:
    return {"code": code, "text": text, "kind": kind}


def _yes(q: str) -> dict[str, Any]:
    return {"all": [{"q": q, "op": "=", "value": True}]}


def catering_definition(city: str) -> dict[str, Any]:
    return {
        "questions": [_q("area", "经营场所建筑面积（㎡）", "number"), _q("seats", "就餐座位数", "number"),
                      _q("food_prep", "是否现场制售热食（设厨房）"), _q("tobacco", "是否销售烟草制品"),
                      _q("outdoor_sign", "是否设置户外招牌")],
        "components": [
            {"code": "food", "item_code": item_code(city, "000131024000"), "pledge": True, "valid_years": 5,
             "situations": [{"code": "hot_food", "when": _yes("food_prep")}]},
            {"code": "fire", "item_code": item_code(city, "000125049000"), "pledge": True,
             "when": {"any": [{"q": "area", "op": ">=", "value": 300}, {"q": "seats", "op": ">=", "value": 100}]}},
            {"code": "sign", "item_code": item_code(city, "sign"), "pledge": True, "valid_years": 3,
             "when": _yes("outdoor_sign")},
            {"code": "tobacco", "item_code": item_code(city, "tobacco"), "valid_years": 5, "when": _yes("tobacco")},
        ],
        "inspection_days": 3,
    }


def maternal_definition(city: str) -> dict[str, Any]:
    return {
        "questions": [_q("area", "经营场所建筑面积（㎡）", "number"), _q("formula", "是否销售婴幼儿配方乳粉等特殊食品"),
                      _q("devices", "是否销售第二类医疗器械（如吸奶器、体温计）"), _q("outdoor_sign", "是否设置户外招牌")],
        "components": [
            {"code": "food", "item_code": item_code(city, "000131024000"), "pledge": True, "valid_years": 5,
             "when": _yes("formula"), "situations": [{"code": "special_food", "when": _yes("formula")}]},
            {"code": "device2", "item_code": item_code(city, "device2"), "when": _yes("devices")},
            {"code": "sign", "item_code": item_code(city, "sign"), "pledge": True, "valid_years": 3,
             "when": _yes("outdoor_sign")},
            {"code": "fire", "item_code": item_code(city, "000125049000"), "pledge": True,
             "when": {"all": [{"q": "area", "op": ">=", "value": 300}]}},
        ],
        "inspection_days": 3,
    }


SOURCE = ("演示数据：组成许可依据国家“开办餐饮店一件事”方案与各地一业一证做法（见 gov-services.md §2）；"
          "适用门槛、承诺时限与母婴店组成为演示值，未经官方来源确认")


def _organisation(name: str, city: str) -> Organisation:
    org = Organisation.objects.filter(name=name, kind=Organisation.Kind.GOVERNMENT).first()
    return org or Organisation.objects.create(name=name, kind=Organisation.Kind.GOVERNMENT, city=city)


def licences_catalogue_load(*, actor: User) -> dict[str, IndustryPackage]:
    """The halls, the departments, the component items and the four packages (idempotent: what exists is kept).
    `actor` is an administrator (the catalogue's and the packages' editor). Packages by f"{city}-{industry}"."""
    for city, name in HALLS.items():
        org = _organisation(name, city)
        if not ServiceHall.objects.filter(organisation=org).exists():
            gov.hall_register(actor=actor, organisation=org, city=city)
    for city, departments in DEPARTMENTS.items():
        orgs = {key: _organisation(name, city) for key, name in departments.items()}
        for key, name, dept, item_type, legal, promised, basis, definition in ITEMS:
            code = item_code(city, key)
            if ServiceItem.objects.filter(code=code).exists():
                continue
            gov.item_create(actor=actor, code=code, city=city, name=name, item_type=item_type,
                            department=orgs[dept], implementing_body=orgs[dept], legal_limit_days=legal,
                            promised_limit_days=promised, definition=definition, cross_city_mode="forwarded",
                            areas=["market"], legal_basis=basis)
    packages: dict[str, IndustryPackage] = {}
    for city, city_name in (("chongqing", "重庆高新区"), ("chengdu", "成都高新区")):
        for industry, label, builder in (("catering", "开办餐饮店", catering_definition),
                                         ("maternal_infant", "开办母婴店", maternal_definition)):
            code = f"yyyz-{PREFIX[city]}-{industry}"
            package = IndustryPackage.objects.filter(code=code, status="published").first()
            if package is None:
                package = services.package_create(
                    actor=actor, code=code, city=city, industry=industry, name=f"{city_name}“一业一证”·{label}",
                    definition=builder(city), scope=f"在{city_name}新开办{label[2:]}的市场主体（已取得营业执照）",
                    demo=True, source=SOURCE)
            packages[f"{city}-{industry}"] = package
    return packages


def licences_applications_load(*, admin: User, applicant: User, packages: dict[str, IndustryPackage]) -> list:
    """A few applications through the services: one catering licence issued in Chongqing for `applicant`'s
    company (filed online), one 母婴店 package still in handling. The decisions are the administrator's."""
    now = timezone.now()
    done = []
    catering = services.application_start(actor=applicant, package=packages["chongqing-catering"], at=now - timedelta(days=20),
                                          answers={"area": 320, "seats": 80, "food_prep": True, "tobacco": True,
                                                   "outdoor_sign": True})
    materials = {m["code"]: "submitted" for m in catering.notice["materials"] if not m["held"]}
    form = {"legal_rep": "鲍勃", "address": "成都高新区天府大道", "shop_name": "星云小馆",
            "premises": "重庆高新区科学大道 88 号", "phone": "023-60000000"}
    services.application_submit(actor=applicant, application=catering, form=form, materials=materials,
                                at=now - timedelta(days=20))
    for component in catering.components.select_related("case"):
        case = gov.case_accept(actor=admin, case=component.case, at=now - timedelta(days=19))
        gov.case_decide(actor=admin, case=case, outcome="approve", at=now - timedelta(days=12))
    services.application_inspect(actor=admin, application=catering, passed=True, note="联合核查：符合要求",
                                 at=now - timedelta(days=14))
    done.append(services.licence_issue(actor=admin, application=catering, at=now - timedelta(days=11)))
    shop = services.application_start(actor=applicant, package=packages["chongqing-maternal_infant"],
                                      answers={"area": 120, "formula": True, "devices": True, "outdoor_sign": False},
                                      at=now - timedelta(days=3))
    materials = {m["code"]: "submitted" for m in shop.notice["materials"] if not m["held"]}
    services.application_submit(actor=applicant, application=shop, form={**form, "shop_name": "星云母婴"},
                                materials=materials, at=now - timedelta(days=3))
    done.append(shop)
    return done


def demo_licences_load() -> int:
    """The demo's 一业一证 part (after the personas and the registry): the catalogue items and packages, and
    bob's applications (one licence issued, one package in handling) unless some exist; licences issued."""
    from twincity.licences.models import IndustryLicence, PackageApplication

    admin = User.objects.filter(username="olivia").first()
    applicant = User.objects.filter(username="bob").first()
    if admin is None:
        return 0
    packages = licences_catalogue_load(actor=admin)
    if applicant is None or PackageApplication.objects.exists():
        return IndustryLicence.objects.count()
    licences_applications_load(admin=admin, applicant=applicant, packages=packages)
    return IndustryLicence.objects.count()


def demo_licences_reset() -> None:
    """Remove the demo's applications and licences (they name enterprises and cases, protected)."""
    from twincity.licences.models import ApplicationComponent, IndustryLicence, PackageApplication

    IndustryLicence.objects.all().delete()
    ApplicationComponent.objects.all().delete()
    PackageApplication.objects.all().delete()
