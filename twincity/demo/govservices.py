"""The demo's public services (政务服务): the service halls of both cities, catalogue items of both cities (HR,
social security, disability, market entry, science; their codes and limits are plausible demo values, marked
"（演示）" in their legal basis where no source confirmed them), and cases in every state over the last year with
ratings, so the queues, the overdue list and the dashboard show real figures.

Everything goes through twincity.govservices.services (the one write path), with the dates of the demo's
timeline: every case's clock is computed on the official calendar as a real one would be."""

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from twincity.accounts.models import Organisation, User
from twincity.core import workdays
from twincity.govservices import services
from twincity.govservices.models import ServiceCase, ServiceItem

DEMO = "（演示）"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅琳鑫宇浩然子涵欣怡梓轩雨萱"

ID = {"code": "id_card", "name": "居民身份证", "required": True}
PHOTO = {"code": "photo", "name": "近期免冠照片", "required": True, "tolerated": True}
LICENCE = {"code": "business_licence", "name": "营业执照", "required": True, "held": True}
HUKOU = {"code": "hukou", "name": "户口簿", "required": True, "held": True}

# (code, city, name, type, handling, department key, legal, promised, mode, areas, fee, definition, basis)
ITEMS = (
    ("000108001000-500107-new", "chongqing", "残疾人证新办", "confirmation", "new", "cq_disability", 20, 10,
     "forwarded", ["disability"], 0, {
         "situations": [{"code": "first", "name": "首次申领"}],
         "materials": [ID, PHOTO, HUKOU, {"code": "assessment", "name": "残疾评定表", "required": True}],
         "pause_steps": [{"code": "assessment", "name": "残疾等级评定", "max_days": 15}]},
     "《中华人民共和国残疾人保障法》；《残疾人证管理办法》"),
    ("000108002000-500107-renew", "chongqing", "残疾人证换领", "confirmation", "renew", "cq_disability", 20, 5,
     "online", ["disability"], 0, {"materials": [ID, PHOTO, {"code": "old_card", "name": "原残疾人证",
                                                               "required": True}]},
     "《残疾人证管理办法》"),
    ("000112003000-500107-new", "chongqing", "就业困难人员认定", "confirmation", "new", "cq_hrss", 15, 5, "forwarded",
     ["employment"], 0, {"materials": [ID, {"code": "unemployment", "name": "失业登记证明", "required": True,
                                             "held": True}, {"code": "proof", "name": "困难情形证明",
                                                             "required": True, "tolerated": True}]},
     "《中华人民共和国就业促进法》第五十二条" + DEMO),
    ("000112004000-500107-new", "chongqing", "失业保险金申领", "payment", "new", "cq_hrss", 20, 10, "online",
     ["social_insurance"], 0, {"materials": [ID, {"code": "termination", "name": "解除劳动合同证明",
                                                   "required": True}, {"code": "bank_card", "name": "社会保障卡或银行卡",
                                                                       "required": True, "tolerated": True}]},
     "《失业保险条例》第十六条"),
    ("000112005000-500107-new", "chongqing", "社会保障卡申领", "public_service", "new", "cq_hrss", 10, 3, "online",
     ["social_security_card"], 0, {"materials": [ID, PHOTO]}, "《社会保障卡管理办法》" + DEMO),
    ("000112006000-500107-new", "chongqing", "人力资源服务许可", "licensing", "new", "cq_hrss", 20, 10, "split",
     ["hr_market"], 0, {"materials": [LICENCE, {"code": "staff", "name": "专职工作人员证明", "required": True},
                                      {"code": "premises", "name": "经营场所证明", "required": True}],
                        "pause_steps": [{"code": "inspection", "name": "现场核查", "max_days": 5}]},
     "《人力资源市场暂行条例》第十八条"),
    ("000131024000-500107-new", "chongqing", "食品经营许可（新办）", "licensing", "new", "cq_market", 20, 10,
     "forwarded", ["market"], 0, {
         "situations": [{"code": "catering", "name": "餐饮服务"}, {"code": "retail", "name": "食品销售"}],
         "materials": [LICENCE, {"code": "layout", "name": "经营场所平面图", "required": True},
                       {"code": "rules", "name": "食品安全管理制度", "required": True, "tolerated": True},
                       {"code": "equipment", "name": "设备布局与工艺流程", "required": True,
                        "situations": ["catering"]}],
         "pause_steps": [{"code": "inspection", "name": "现场核查", "max_days": 10}]},
     "《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》"),
    ("000135001000-500107-new", "chongqing", "技术合同认定登记", "confirmation", "new", "cq_science", 30, 15,
     "online", ["science"], 0, {"materials": [LICENCE, {"code": "contract", "name": "技术合同文本",
                                                          "required": True},
                                              {"code": "form", "name": "技术合同登记表", "required": True}],
                                "pause_steps": [{"code": "expert_review", "name": "专家评审（技术交易额≥500万元）",
                                                 "max_days": 15}]},
     "《技术合同认定登记管理办法》（2026）"),
    ("000108003000-510109-change", "chengdu", "残疾人证迁移变更", "confirmation", "change", "cd_disability", 20, 5,
     "forwarded", ["disability"], 0, {"materials": [ID, HUKOU, {"code": "old_card", "name": "原残疾人证",
                                                                  "required": True}]},
     "川办发〔2021〕10号（川渝通办第二批）"),
    ("000112007000-510109-change", "chengdu", "养老保险关系转移接续", "public_service", "change", "cd_hrss", 45, 15,
     "online", ["social_insurance"], 0, {"materials": [ID, {"code": "record", "name": "参保缴费凭证",
                                                            "required": True, "held": True}]},
     "《城镇企业职工基本养老保险关系转移接续暂行办法》"),
    ("000112008000-510109-new", "chengdu", "高校毕业生就业报到", "public_service", "new", "cd_hrss", 10, 3,
     "online", ["employment", "talent"], 0, {"materials": [ID, {"code": "dispatch", "name": "就业报到证",
                                                                "required": True, "tolerated": True}]},
     "（演示）"),
    ("000112009000-510109-new", "chengdu", "劳动人事争议仲裁申请", "adjudication", "new", "cd_hrss", 45, 45, "split",
     ["labour_relations"], 0, {"materials": [ID, {"code": "application", "name": "仲裁申请书", "required": True},
                                             {"code": "evidence", "name": "证据材料", "required": True,
                                              "tolerated": True}],
                               "pause_steps": [{"code": "hearing", "name": "开庭审理", "max_days": 15}]},
     "《中华人民共和国劳动争议调解仲裁法》第四十三条"),
    ("000112010000-510109-new", "chengdu", "职业技能等级认定", "confirmation", "new", "cd_hrss", 30, 20, "online",
     ["skills"], 0, {"materials": [ID, PHOTO]}, "（演示）"),
    ("000131024000-510109-new", "chengdu", "食品经营许可（新办）", "licensing", "new", "cd_market", 20, 8,
     "forwarded", ["market"], 0, {"situations": [{"code": "catering", "name": "餐饮服务"}],
                                  "materials": [LICENCE, {"code": "layout", "name": "经营场所平面图",
                                                          "required": True}],
                                  "pause_steps": [{"code": "inspection", "name": "现场核查", "max_days": 10}]},
     "《中华人民共和国食品安全法》第三十五条"),
)

HALLS = (("cq_services", "chongqing"), ("cd_services", "chengdu"))
CASES = 240  # over the last year
STOPS = ("collected", "received", "correcting", "handling", "handling", "paused", "decided", "delivered")


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _office_hours(day, rng: random.Random) -> datetime:
    """A moment of a working day's office hours (Shanghai)."""
    at = datetime.combine(day, time(rng.randint(9, 16), rng.choice((0, 15, 30, 45))), tzinfo=workdays.SHANGHAI)
    return at.astimezone(timezone.get_current_timezone())


def demo_govservices_load(orgs: dict[str, Organisation], *, cases: int = CASES, seed: int = 20260101) -> int:
    """Halls, items and `cases` cases through the services; answers the number of cases."""
    admin = User.objects.get(username="olivia")
    for key, city in HALLS:
        services.hall_register(actor=admin, organisation=orgs[key], city=city)
    items: list[ServiceItem] = []
    for code, city, name, kind, handling, dept, legal, promised, mode, areas, fee, definition, basis in ITEMS:
        items.append(services.item_create(
            actor=admin, code=code, city=city, name=name, item_type=kind, handling=handling, department=orgs[dept],
            implementing_body=orgs[dept], legal_limit_days=legal, promised_limit_days=promised,
            definition=definition, cross_city_mode=mode, areas=areas, fee=fee, legal_basis=basis,
            note="演示数据"))
    # One item changed during the year: the cases before it keep version 1.
    clerks = {"chongqing": User.objects.get(username="clara"), "chengdu": User.objects.get(username="chen")}
    hank = User.objects.get(username="hank")
    applicants = {"chongqing": User.objects.get(username="alice"), "chengdu": User.objects.get(username="bob")}
    rng = random.Random(seed)
    now = timezone.now()
    today = workdays.shanghai_date(now)
    made = 0
    for i in range(cases):
        item = ServiceItem.objects.get(code=rng.choice(items).code, status="published")
        age = int(365 * (i + 1) / cases)  # spread over the year, the newest last
        day = today - timedelta(days=365 - age)
        while not workdays.is_working_day(day):
            day += timedelta(days=1)
        if day > today:
            continue
        filed_at = min(_office_hours(day, rng), now - timedelta(minutes=5))
        definition = item.definition
        situations = [rng.choice(definition["situations"])["code"]] if definition.get("situations") else []
        materials = {}
        for m in definition["materials"]:
            if m.get("held") or (m["situations"] and not set(m["situations"]) & set(situations)):
                continue
            roll = rng.random()
            materials[m["code"]] = ("pledged" if m.get("tolerated") and roll < 0.15 else
                                    "submitted" if roll < 0.93 else None)
        materials = {k: v for k, v in materials.items() if v}
        # The last three months keep cases in every open state; older ones are mostly closed, a few are still
        # being handled (the overdue list).
        recent = (today - day).days <= 90
        stop_at = (rng.choice(STOPS) if recent and rng.random() < 0.6
                   else "handling" if not recent and rng.random() < 0.04 else None)
        if stop_at == "correcting":  # the applicant forgot a required material
            forgettable = [m["code"] for m in definition["materials"] if m["required"] and not m.get("held")
                           and m["code"] in materials]
            if forgettable:
                materials.pop(forgettable[0])
        online = rng.random() < 0.3
        intake_city = item.city if online or rng.random() < 0.75 else ("chengdu" if item.city == "chongqing"
                                                                        else "chongqing")
        if stop_at == "collected":  # taken at the other city's window, waiting for the forwarding task
            online, intake_city = False, "chengdu" if item.city == "chongqing" else "chongqing"
        if item.cross_city_mode == "local":
            intake_city = item.city
        if online:
            case = services.case_file(actor=applicants[item.city], item=item, applicant_name=str(
                applicants[item.city]), channel="online", situations=situations, materials=materials, at=filed_at)
        else:
            case = services.case_file(actor=clerks[intake_city], item=item, applicant_name=_name(rng),
                                      channel="window", situations=situations, materials=materials, at=filed_at,
                                      delivery=rng.choice(("e_licence", "post", "window")))
        made += 1
        _walk(case, rng, now=now, hall=clerks[item.city], intake_clerk=clerks[intake_city],
              department=hank if item.implementing_body_id == hank.organisation_id else admin,
              applicant=applicants[item.city] if online else clerks[intake_city], stop_at=stop_at)
    return made


def _next_day(at: datetime, working_days: int, rng: random.Random) -> datetime | None:
    """Office hours of the n-th working day after `at`; None past the calendar's last covered year."""
    try:
        day = workdays.add_working_days(workdays.shanghai_date(at), working_days)
    except workdays.CalendarRangeError:
        return None
    return _office_hours(day, rng)


class _Stop(Exception):
    pass


def _walk(case: ServiceCase, rng: random.Random, *, now: datetime, hall: User, intake_clerk: User, department: User,
          applicant: User, stop_at: str | None = None) -> None:
    """Take a case as far as its age and chance allow (or up to the state `stop_at`), each step dated on working
    days after the last."""
    try:
        _steps(case, rng, now=now, hall=hall, intake_clerk=intake_clerk, department=department, applicant=applicant,
               stop_at=stop_at)
    except _Stop:
        pass


def _steps(case: ServiceCase, rng: random.Random, *, now: datetime, hall: User, intake_clerk: User,
           department: User, applicant: User, stop_at: str | None) -> None:
    at = case.submitted_at
    if stop_at == "collected" and case.state != "collected":
        stop_at = "received"
    if case.state == stop_at:
        return

    def step(days: int) -> datetime | None:
        nonlocal at
        if case.state == stop_at:
            raise _Stop
        day = _next_day(at, days, rng)
        if day is None:
            return None
        nxt = max(day, at + timedelta(minutes=1))
        if nxt >= now:
            return None
        at = nxt
        return at

    if case.state == "collected":
        if (when := step(0 if rng.random() < 0.5 else 1)) is None:
            return
        case = services.case_forward(actor=intake_clerk, case=case, at=max(when, case.submitted_at))
    roll = rng.random()
    if roll < 0.03:
        if (when := step(1)) is not None:
            services.case_withdraw(actor=applicant, case=case, comment="申请人主动撤回", at=when)
        return
    from twincity.govservices import rules

    missing = rules.missing_for_acceptance(case.item.definition, case.situations, case.materials)
    if missing:
        if (when := step(rng.randint(0, 1))) is None:
            return
        case = services.case_notify_correction(actor=hall, case=case, comment="请一次性补齐所列材料", at=when)
        if rng.random() < 0.2:
            if (when := step(rng.randint(3, 6))) is not None:
                services.case_refuse_intake(actor=hall, case=case, comment="逾期未补正，不予受理", at=when)
            return
        if (when := step(rng.randint(1, 4))) is None:
            return
        case = services.case_resubmit(actor=applicant, case=case, materials=dict.fromkeys(missing, "submitted"),
                                      at=when)
    if (when := step(rng.randint(0, 1))) is None:
        return
    case = services.case_accept(actor=hall, case=case, comment="", at=when)
    promised = case.item.promised_limit_days
    pause_steps = case.item.definition.get("pause_steps") or []
    if pause_steps and (stop_at == "paused" or rng.random() < 0.35):
        if (when := step(rng.randint(1, max(1, promised // 2)))) is None:
            return
        chosen = rng.choice(pause_steps)
        case = services.case_pause(actor=department, case=case, step=chosen["code"], at=when)
        if (when := step(rng.randint(1, max(1, chosen["max_days"])))) is None:
            return
        case = services.case_resume(actor=department, case=case, at=when)
    pledged = [c for c, s in case.materials.items() if s == "pledged"]
    if pledged:
        if (when := step(1)) is None:
            return
        case = services.case_supply(actor=hall, case=case, materials=dict.fromkeys(pledged, "submitted"), at=when)
    # Most cases are decided within the promise; some run late (the overdue list is real).
    taken = rng.randint(max(1, promised // 3), promised) if rng.random() < 0.88 else promised + rng.randint(1, 6)
    if (when := step(taken)) is None:
        return
    refuse = rng.random() < 0.07
    case = services.case_decide(actor=department, case=case, outcome="refuse" if refuse else "approve",
                                reason="不符合法定条件" if refuse else "", at=when)
    if (when := step(rng.randint(0, 2))) is None:
        return
    case = services.case_deliver(actor=hall, case=case, at=when, result_ref="" if case.delivery == "e_licence"
                                 else f"EMS{rng.randint(10**11, 10**12 - 1)}")
    if (when := step(rng.randint(1, 3))) is None:
        return
    case = services.case_close(actor=hall, case=case, at=when)
    if rng.random() < 0.8:
        late = (case.working_days_taken or 0) > promised
        grade = rng.choices((5, 4, 3, 2, 1), weights=(3, 3, 2, 2, 1) if late else (70, 20, 6, 3, 1))[0]
        services.case_rate(actor=applicant, case=case, grade=grade, comment="", at=min(at + timedelta(hours=2),
                                                                                       now))


def demo_govservices_reset() -> None:
    """Delete the public-service cases (their steps, pauses and ratings go with them), items and halls."""
    from twincity.govservices.models import ServiceHall

    ServiceCase.objects.all().delete()
    ServiceItem.objects.all().delete()
    ServiceHall.objects.all().delete()
