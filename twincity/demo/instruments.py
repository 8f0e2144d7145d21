"""The demo's shared instruments: owner institutions in both cities, ~30 instruments with real makers and
models (demo rows, marked as such in their site), their booking rules, dated price lists per rate class, and
bookings over the past week and the coming three (each checked by the booking rules' own checker, so the demo
never holds a booking the platform would refuse). The catalogue goes through its write path
(services.instrument_create, service_item_set, price_set: audited, the platform acting); the bookings are
bulk rows (seeding is not a user action)."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from twincity.accounts.models import Organisation, User
from twincity.instruments import rules as booking_rules
from twincity.instruments import services
from twincity.instruments.models import (
    Booking,
    Instrument,
    InstrumentBlackout,
    InstrumentCategory,
    Price,
    RateClass,
    ServiceItem,
    UserQualification,
    rate_class_of,
)
from twincity.instruments.services import categories_sync

CHONGQING, CHENGDU = "chongqing", "chengdu"
DEMO_SITE = "（演示数据）"

# Owner institutions besides the persona organisations (twincity.demo.personas): key, name, city.
EXTRA_OWNERS = (
    ("cas_cioc", "中国科学院成都有机化学研究所分析测试中心", CHENGDU),
    ("uestc_atc", "电子科技大学分析测试中心", CHENGDU),
)

RULES = {
    "standard": {"slot_minutes": 30, "open_from": "08:30", "open_until": "20:30", "weekdays": [1, 2, 3, 4, 5],
                 "min_minutes": 30, "max_minutes": 240, "advance_days": 30,
                 "notice_minutes": {"create": 120, "change": 1440, "cancel": 1440}, "cleanup_minutes": 15,
                 "quotas": [{"per": "week", "scope": "user", "hours": 8}],
                 "approval": {"required": True, "hold_hours": 48},
                 "cancellation": [{"within_hours": 24, "percent": 50}]},
    "electron": {"slot_minutes": 30, "open_from": "08:30", "open_until": "21:30", "weekdays": [1, 2, 3, 4, 5, 6],
                 "min_minutes": 60, "max_minutes": 240, "advance_days": 21,
                 "notice_minutes": {"create": 1440, "change": 1440, "cancel": 2880}, "setup_minutes": 15,
                 "cleanup_minutes": 15, "user_gap_minutes": 60,
                 "quotas": [{"per": "week", "scope": "user", "count": 3},
                            {"per": "month", "scope": "organisation", "hours": 40}],
                 "approval": {"required": True, "hold_hours": 24},
                 "cancellation": [{"within_hours": 48, "percent": 20}, {"within_hours": 24, "percent": 50}]},
    "open": {"slot_minutes": 60, "open_from": "00:00", "open_until": "24:00", "min_minutes": 60,
             "max_minutes": 480, "advance_days": 60, "notice_minutes": {"create": 60, "change": 120, "cancel": 120},
             "quotas": [{"per": "day", "scope": "user", "hours": 8}]},
}

# (owner key, name zh, name en, maker, model, category, original value (yuan), operation, rules, industry price per
# hour (yuan), specifications)
INSTRUMENTS = (
    ("cqu_atc", "场发射扫描电子显微镜", "Field-emission scanning electron microscope", "卡尔蔡司 ZEISS", "Sigma 300",
     "0106", 3_200_000, "self", "electron", 600, "分辨率 0.8 nm @15 kV；配牛津 Ultim Max 65 能谱仪"),
    ("cqu_atc", "透射电子显微镜", "Transmission electron microscope", "日本电子 JEOL", "JEM-2100F", "0106",
     12_500_000, "operator", "electron", 1200, "200 kV 场发射；点分辨率 0.23 nm；STEM-HAADF"),
    ("cqu_atc", "X射线衍射仪", "X-ray diffractometer", "布鲁克 Bruker", "D8 Advance", "0102", 1_800_000, "self",
     "standard", 300, "Cu 靶；LYNXEYE XE-T 探测器；2θ 范围 -110°–168°"),
    ("cqu_atc", "X射线光电子能谱仪", "X-ray photoelectron spectrometer", "赛默飞 Thermo Fisher", "ESCALAB Xi+",
     "0103", 5_600_000, "operator", "standard", 800, "单色化 Al Kα；能量分辨率 ≤0.45 eV；深度剖析"),
    ("cqu_atc", "核磁共振波谱仪 400 MHz", "400 MHz NMR spectrometer", "布鲁克 Bruker", "AVANCE NEO 400", "0105",
     4_200_000, "self", "open", 350, "BBO 宽带探头；自动进样 24 位"),
    ("cqu_atc", "热重-差热同步分析仪", "Simultaneous thermal analyser", "耐驰 NETZSCH", "STA 449 F3", "0109",
     680_000, "self", "standard", 180, "室温–1550 °C；TG 分辨率 0.1 μg"),
    ("cqu_atc", "紫外可见近红外分光光度计", "UV-Vis-NIR spectrophotometer", "安捷伦 Agilent", "Cary 5000",
     "0103", 480_000, "self", "open", 120, "175–3300 nm；积分球附件"),
    ("jinfeng", "球差校正透射电子显微镜", "Aberration-corrected TEM", "赛默飞 Thermo Fisher", "Spectra 300",
     "0106", 28_000_000, "operator", "electron", 3000, "30–300 kV；STEM 分辨率 50 pm；Super-X 能谱"),
    ("jinfeng", "流式细胞分选仪", "Flow cytometer sorter", "BD", "FACSAria III", "0110", 3_600_000, "operator",
     "standard", 500, "4 激光 18 色；四路分选"),
    ("jinfeng", "激光扫描共聚焦显微镜", "Confocal laser scanning microscope", "徕卡 Leica", "STELLARIS 5",
     "0108", 3_100_000, "self", "standard", 400, "白光激光 485–685 nm；HyD 探测器"),
    ("jinfeng", "小动物活体成像系统", "In vivo imaging system", "珀金埃尔默 PerkinElmer", "IVIS Spectrum",
     "1301", 3_300_000, "operator", "standard", 450, "生物发光与荧光三维断层成像"),
    ("jinfeng", "液相色谱-四极杆飞行时间质谱联用仪", "LC-Q-TOF mass spectrometer", "安捷伦 Agilent", "6545 Q-TOF",
     "0101", 3_900_000, "operator", "standard", 700, "分辨率 >40000；质量精度 <1 ppm"),
    ("uestc_micro", "电子束光刻系统", "Electron-beam lithography system", "Raith", "EBPG 5200", "1001",
     35_000_000, "operator", "electron", 2500, "100 kV；最小线宽 <8 nm；8 英寸晶圆"),
    ("uestc_micro", "感应耦合等离子体刻蚀机", "ICP etcher", "牛津仪器 Oxford Instruments",
     "PlasmaPro 100 Cobra", "1001", 6_800_000, "operator", "standard", 900, "氯基与氟基工艺；6 英寸"),
    ("uestc_micro", "原子层沉积系统", "Atomic layer deposition system", "Beneq", "TFS 200", "1001", 2_300_000,
     "self", "standard", 400, "热法与等离子增强；Al2O3、HfO2、TiN"),
    ("uestc_micro", "半导体参数分析仪", "Semiconductor parameter analyser", "是德科技 Keysight", "B1500A", "0401",
     1_200_000, "self", "open", 200, "4 个 SMU；fA 级电流测量"),
    ("uestc_micro", "矢量网络分析仪", "Vector network analyser", "是德科技 Keysight", "N5227B PNA", "0402",
     2_800_000, "self", "open", 350, "10 MHz–67 GHz；4 端口"),
    ("uestc_micro", "半自动探针台", "Semi-automatic probe station", "FormFactor", "Summit 12000", "0401",
     1_900_000, "self", "standard", 250, "12 英寸；-60–300 °C 温控卡盘"),
    ("scu_atc", "核磁共振波谱仪 600 MHz", "600 MHz NMR spectrometer", "布鲁克 Bruker", "AVANCE III HD 600", "0105",
     9_800_000, "operator", "standard", 600, "超低温探头 CryoProbe；固体魔角旋转"),
    ("scu_atc", "电感耦合等离子体质谱仪", "ICP mass spectrometer", "安捷伦 Agilent", "7900", "0101", 1_500_000,
     "operator", "standard", 400, "ppt 级检出限；He 碰撞池"),
    ("scu_atc", "气相色谱-质谱联用仪", "GC-MS", "岛津 Shimadzu", "GCMS-QP2020 NX", "0101", 850_000, "self",
     "open", 200, "EI/CI 源；NIST 谱库"),
    ("scu_atc", "超高效液相色谱仪", "UPLC", "沃特世 Waters", "ACQUITY UPLC H-Class", "0104", 620_000, "self",
     "open", 150, "四元泵；PDA 与荧光检测器"),
    ("scu_atc", "傅里叶变换红外光谱仪", "FTIR spectrometer", "赛默飞 Thermo Fisher", "Nicolet iS50", "0103",
     560_000, "self", "open", 100, "中远红外；ATR 与显微红外附件"),
    ("scu_atc", "原子力显微镜", "Atomic force microscope", "布鲁克 Bruker", "Dimension Icon", "0108", 2_400_000,
     "self", "standard", 350, "PeakForce Tapping；90 μm 扫描范围"),
    ("cas_cioc", "激光共聚焦拉曼光谱仪", "Confocal Raman microscope", "堀场 HORIBA", "LabRAM HR Evolution",
     "0103", 1_650_000, "self", "standard", 300, "532/633/785 nm 激光；空间分辨率 <1 μm"),
    ("cas_cioc", "差示扫描量热仪", "Differential scanning calorimeter", "TA Instruments", "DSC 2500", "0109",
     520_000, "self", "open", 150, "-180–725 °C；调制 DSC"),
    ("cas_cioc", "比表面积及孔径分析仪", "Surface area and porosity analyser", "麦克默瑞提克 Micromeritics",
     "ASAP 2460", "01", 880_000, "operator", "standard", 250, "BET 比表面积；微孔至介孔分布"),
    ("cas_cioc", "单晶X射线衍射仪", "Single-crystal X-ray diffractometer", "布鲁克 Bruker", "D8 Venture", "0102",
     4_500_000, "operator", "standard", 650, "Mo/Cu 双微焦斑光源；PHOTON III 探测器"),
    ("uestc_atc", "工业CT", "Industrial CT", "卡尔蔡司 ZEISS", "METROTOM 1500", "0801", 9_500_000, "operator",
     "standard", 900, "225 kV；体素尺寸 ≥ 4 μm"),
    ("uestc_atc", "三坐标测量机", "Coordinate measuring machine", "海克斯康 Hexagon", "GLOBAL S 9.15.8", "0301",
     1_300_000, "self", "standard", 200, "MPEE 1.5+L/333 μm"),
    ("uestc_atc", "GPU 高性能计算集群", "GPU computing cluster", "浪潮 Inspur", "NF5688M6", "1101", 4_800_000,
     "self", "open", 80, "8×A800 80GB；NVLink；按节点机时计费"),
    ("uestc_atc", "电子万能试验机", "Universal testing machine", "英斯特朗 Instron", "5982", "0201", 980_000,
     "self", "standard", 180, "100 kN；-70–350 °C 环境箱"),
)

BOOKERS = ("alice", "bob", "owen")
PRICE_DATES = (date(2026, 1, 1), date(2026, 7, 1))
# Internal and external academic rates as fractions of the industry rate.
RATE_SHARES = {RateClass.INTERNAL: Decimal("0.4"), RateClass.ACADEMIC: Decimal("0.7"), RateClass.INDUSTRY: Decimal(1)}


def _price(industry: int, rate_class: str, raise_: Decimal) -> Decimal:
    return (Decimal(industry) * RATE_SHARES[rate_class] * raise_).quantize(Decimal("1"))


def _owners(orgs: dict[str, Organisation]) -> dict[str, Organisation]:
    owners = dict(orgs)
    for key, name, city in EXTRA_OWNERS:
        owners[key], _created = Organisation.objects.update_or_create(
            kind=Organisation.Kind.INSTITUTE, name=name, defaults={"city": city})
    return owners


def demo_instruments_load(orgs: dict[str, Organisation], *, seed: int = 9, now: datetime | None = None) -> int:
    """Add the demo instruments (unless some are there), their prices and bookings; how many instruments."""
    if Instrument.objects.exists():
        return 0
    now = now or timezone.now()
    rng = random.Random(seed)
    with transaction.atomic():
        categories_sync()
        categories = {c.code: c for c in InstrumentCategory.objects.all()}
        owners = _owners(orgs)
        users = {u.username: u for u in User.objects.filter(username__in=BOOKERS).select_related("organisation")}
        # Through the catalogue's one write path (the platform acting: actor None), as an import would.
        instruments = []
        for owner, zh, en, maker, model, code, value, operation, preset, industry, spec in INSTRUMENTS:
            if owner not in owners:
                continue
            o = owners[owner]
            instrument = services.instrument_create(actor=None, owner=o, rules=RULES[preset], values={
                "name_zh": zh, "name_en": en, "maker": maker, "model": model, "category_id": categories[code].pk,
                "original_value": Decimal(value), "city": o.city, "site": f"{o.name}{DEMO_SITE}",
                "specifications": spec, "operation": operation,
                "required_qualification": "上机培训合格" if operation == "self" else ""})
            item = services.service_item_set(actor=None, instrument=instrument, code="machine-time", name_zh="机时",
                                             name_en="Machine time", unit=ServiceItem.Unit.HOUR)
            for valid_from, raise_ in zip(PRICE_DATES, (Decimal(1), Decimal("1.05"))):
                for rc in RateClass.values:
                    services.price_set(actor=None, item=item, rate_class=rc, amount=_price(industry, rc, raise_),
                                       valid_from=valid_from)
            instruments.append(instrument)
        instruments = list(Instrument.objects.select_related("owner"))
        # One instrument under maintenance next week (a blackout, in its rules and its rows).
        maintained = instruments[0]
        monday = timezone.localdate(now) + timedelta(days=7 - timezone.localdate(now).weekday())
        start = timezone.make_aware(datetime.combine(monday, time(8, 0)))
        blackout = {"from": start.isoformat(), "until": (start + timedelta(days=2)).isoformat(), "reason": "年度预防性维护"}
        maintained.rules = {**maintained.rules, "blackouts": [blackout]}
        maintained.save(update_fields=["rules"])
        InstrumentBlackout.objects.create(instrument=maintained, starts_at=start, ends_at=start + timedelta(days=2),
                                          reason=blackout["reason"])
        if users:
            _bookings(instruments, users, rng, now)
            _qualifications(instruments, users, now)
            # Usage, charges, statements, sample jobs and ratings (twincity.demo.instruments_usage).
            from twincity.demo.instruments_usage import demo_usage_load

            demo_usage_load(instruments, users, owners, rng, now)
    return len(instruments)


def _qualifications(instruments, users, now: datetime) -> None:
    """The demo bookers' training records on the self-run instruments (valid half a year back and forward), but
    none on the first one: booking it shows the qualification gate. Granted by the platform's administrator."""
    granter = User.objects.filter(role=User.Role.ADMINISTRATOR).order_by("pk").first()
    self_run = sorted((i for i in instruments if i.operation == Instrument.Operation.SELF and i.required_qualification),
                      key=lambda i: i.pk)
    if granter is None or not self_run:
        return
    today = timezone.localdate(now)
    UserQualification.objects.bulk_create(
        UserQualification(instrument=instrument, user=user, valid_from=today - timedelta(days=180),
                          valid_until=today + timedelta(days=185), granted_by=granter, note="上机培训并考核合格（演示数据）")
        for instrument in self_run[1:] for user in users.values())


def _bookings(instruments, users, rng: random.Random, now: datetime) -> None:
    """A few bookings per instrument over the past week (completed) and the coming three weeks, each accepted by
    the rules' checker at the moment it is dated (and pending ones within their hold)."""
    rows = []
    item_of = {i.instrument_id: i for i in ServiceItem.objects.filter(instrument__in=instruments)}
    line_of = {}
    for p in Price.objects.filter(service_item__in=item_of.values()).order_by("valid_from"):
        line_of.setdefault((p.service_item_id, p.rate_class), []).append(p)
    today = timezone.localdate(now)
    for instrument in instruments:
        rules = booking_rules.Rules.from_dict(instrument.rules)
        held: list[booking_rules.Held] = []
        for attempt in range(14):
            day = today + timedelta(days=rng.randint(-7, 21))
            hour = rng.randint(9, 17)
            length = rng.choice((1, 2, 2, 3))
            starts_at = timezone.make_aware(datetime.combine(day, time(hour, 0)))
            ends_at = starts_at + timedelta(hours=length)
            user = users[rng.choice(sorted(users))]
            past = ends_at <= now
            booked_at = min(now, starts_at - timedelta(days=2)) if past else now
            request = booking_rules.Request(starts_at=starts_at, ends_at=ends_at, user_id=user.pk,
                                            organisation_id=user.organisation_id, now=booked_at)
            if booking_rules.check(rules, request, held):
                continue
            blocked_from, blocked_until = booking_rules.blocked_period(rules, starts_at, ends_at)
            held.append(booking_rules.Held(-attempt - 1, user.pk, user.organisation_id, starts_at, ends_at,
                                           blocked_from, blocked_until))
            if past:
                status, hold = Booking.Status.COMPLETED, None
            elif rules.approval_required and rng.random() < 0.4:
                status, hold = Booking.Status.PENDING, booking_rules.hold_until(rules, now)
            else:
                status, hold = Booking.Status.CONFIRMED, None
            item = item_of[instrument.pk]
            rate_class = rate_class_of(user.organisation, instrument.owner)
            lines = [p for p in line_of.get((item.pk, rate_class), []) if p.valid_from <= day]
            line = lines[-1] if lines else None
            amount = (line.amount * length).quantize(Decimal("0.01")) if line else Decimal(0)
            rows.append(Booking(
                instrument=instrument, user=user, organisation=user.organisation, starts_at=starts_at, ends_at=ends_at,
                blocked_from=blocked_from, blocked_until=blocked_until, status=status, hold_expires_at=hold,
                purpose=rng.choice(("表面形貌表征", "物相分析", "成分测试", "课题组例行测试", "新材料工艺验证")),
                service_item=item, rate_class=rate_class, unit_price=line.amount if line else None,
                price_valid_from=line.valid_from if line else None, amount=amount,
                rules_version=instrument.rules_version,
            ))
    Booking.objects.bulk_create(rows)
