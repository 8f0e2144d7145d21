"""The one write path of talent cards: schemes and their versions, recognition mappings, applications and their
review, the card lifecycle (issue, change, renew, report a loss and reissue, lapse), disclosure settings, and
service requests judged at the moment of use. Every write is audited in its transaction; the holder is notified of
what happens to their application and card.

The rules themselves are the pure `twincity.talent.rules` (highest tier, transitions, renewal window,
entitlement); this module loads the facts, calls them and writes the outcome.
"""

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from twincity.accounts.models import Organisation, User
from twincity.core.access import require
from twincity.core.audit import audit_record, snapshot
from twincity.core.errors import InvalidInput, NotFound
from twincity.core.models import AuditEntry
from twincity.core.verification import Status as CodeStatus
from twincity.core.verification import Verification, code_sign, disclosed
from twincity.notifications.services import notify
from twincity.talent import access, rules, selectors
from twincity.talent.errors import NoTierMet, QuotaFull, RenewWindowClosed, TalentState, VersionOrder
from twincity.talent.models import (
    DISCLOSABLE,
    DISCLOSABLE_LABELS,
    CardApplication,
    CardScheme,
    RecognitionMapping,
    SchemeVersion,
    ServiceRequest,
    TalentCard,
)

CODE_KIND = "talent.card"
ADMINS_ONLY = "只有平台管理员可以发布人才卡方案与互认映射 (administrators only)"
NOT_REVIEWER = "只有该卡种所在城市的政务服务人员或平台管理员可以审核 (the scheme city's clerks and administrators only)"
NOT_HOLDER = "只有持卡人本人可以操作 (the holder only)"
CARD_FIELDS = ("number", "holder_id", "scheme_id", "scheme_version_id", "tier", "employer_id", "status", "issued_on",
               "valid_until", "code_version", "reissued_count", "disclosure")
APPLICATION_FIELDS = ("scheme_id", "scheme_version_id", "applicant_id", "submitted_by_id", "channel", "employer_id",
                      "evidence", "proposed_tier", "status", "reviewer_id", "decided_at", "decision_note")
VERSION_FIELDS = ("scheme_id", "version", "effective_from", "validity_years", "renew_window_days",
                  "family_extension", "yearly_quota", "definition", "demo", "note")
MAPPING_FIELDS = ("home_scheme_id", "partner_scheme_id", "version", "effective_from", "effective_to", "pairs",
                  "demo", "note")


def _today(on: date | None) -> date:
    return on or timezone.localdate()


def _invalid(message: str, errors: list[str]) -> InvalidInput:
    return InvalidInput(message, extra={"errors": errors})


# --- schemes and mappings (administrators; new versions, never edits) -----------------------------------------


@transaction.atomic
def scheme_create(*, actor, code: str, name: str, city: str, issuer: str, number_prefix: str,
                  issuer_level: str = CardScheme.Level.DISTRICT) -> CardScheme:
    require(access.can_manage_schemes(actor), ADMINS_ONLY)
    scheme = CardScheme(code=code, name=name, city=city, issuer=issuer, number_prefix=number_prefix,
                        issuer_level=issuer_level)
    scheme.full_clean()
    scheme.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=scheme, after=snapshot(scheme))
    return scheme


@transaction.atomic
def scheme_version_publish(*, actor, scheme: CardScheme, effective_from: date, definition: dict,
                           validity_years: int = 3, renew_window_days: int = rules.RENEW_WINDOW_DAYS,
                           family_extension: bool = False, yearly_quota: int | None = None, demo: bool = False,
                           note: str = "") -> SchemeVersion:
    """Publish the scheme's next version, in effect from `effective_from` (after the latest version's). Cards
    already issued keep their version; service requests from that day are judged by the new one."""
    require(access.can_manage_schemes(actor), ADMINS_ONLY)
    errors = rules.validate_definition(definition)
    if errors:
        raise _invalid("人才卡方案定义无效 (invalid scheme definition)", errors)
    if validity_years < 1 or renew_window_days < 1:
        raise _invalid("有效期与续期窗口须为正数 (validity and renewal window must be positive)",
                       ["validity_years", "renew_window_days"])
    CardScheme.objects.select_for_update().get(pk=scheme.pk)
    latest = SchemeVersion.objects.filter(scheme=scheme).order_by("-version").first()
    if latest is not None and effective_from <= latest.effective_from:
        raise VersionOrder(f"新版本须晚于第{latest.version}版的生效日期{latest.effective_from} "
                           "(a new version takes effect after the latest one)",
                           extra={"latest_effective_from": latest.effective_from.isoformat()})
    version = SchemeVersion.objects.create(
        scheme=scheme, version=(latest.version + 1) if latest else 1, effective_from=effective_from,
        validity_years=validity_years, renew_window_days=renew_window_days, family_extension=family_extension,
        yearly_quota=yearly_quota, definition=definition, demo=demo, note=note, created_by=actor)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=version,
                 after=snapshot(version, VERSION_FIELDS), subject=scheme)
    return version


@transaction.atomic
def mapping_publish(*, actor, home: CardScheme, partner: CardScheme, effective_from: date, pairs: dict[str, str],
                    effective_to: date | None = None, demo: bool = False, note: str = "") -> RecognitionMapping:
    """Publish the next version of the recognition of `partner`'s cards in `home`'s zone (partner tier → home tier),
    in force on [effective_from, effective_to). The version in force before ends on `effective_from` (its only
    change; it is audited). Tiers are checked against both schemes' versions in force on `effective_from`."""
    require(access.can_manage_schemes(actor), ADMINS_ONLY)
    if home.pk == partner.pk:
        raise _invalid("互认须在两个卡种之间 (a mapping needs two schemes)", ["partner"])
    if effective_to is not None and effective_to <= effective_from:
        raise _invalid("失效日期须晚于生效日期 (effective_to must be after effective_from)", ["effective_to"])
    home_version = selectors.version_in_force(scheme=home, on=effective_from)
    partner_version = selectors.version_in_force(scheme=partner, on=effective_from)
    if home_version is None or partner_version is None:
        raise _invalid("生效日两卡种均须有有效版本 (both schemes need a version in force then)", ["effective_from"])
    errors = rules.validate_mapping(pairs, partner_tiers=[t.code for t in partner_version.parsed.tiers],
                                    home_tiers=[t.code for t in home_version.parsed.tiers])
    if errors:
        raise _invalid("互认映射无效 (invalid mapping)", errors)
    CardScheme.objects.select_for_update().get(pk=home.pk)
    existing = RecognitionMapping.objects.filter(home_scheme=home, partner_scheme=partner)
    latest = existing.order_by("-version").first()
    if latest is not None and effective_from <= latest.effective_from:
        raise VersionOrder(f"新版本须晚于第{latest.version}版的生效日期{latest.effective_from} "
                           "(a new version takes effect after the latest one)",
                           extra={"latest_effective_from": latest.effective_from.isoformat()})
    for previous in existing.filter(effective_from__lt=effective_from).exclude(effective_to__lte=effective_from):
        before = snapshot(previous, MAPPING_FIELDS)
        previous.effective_to = effective_from
        previous.save(update_fields=["effective_to", "updated_at"])
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=previous, before=before,
                     after=snapshot(previous, MAPPING_FIELDS), context="superseded by a new version", subject=home)
    mapping = RecognitionMapping.objects.create(
        home_scheme=home, partner_scheme=partner, version=(latest.version + 1) if latest else 1,
        effective_from=effective_from, effective_to=effective_to, pairs=dict(pairs), demo=demo, note=note,
        created_by=actor)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=mapping,
                 after=snapshot(mapping, MAPPING_FIELDS), subject=home)
    return mapping


# --- applications ----------------------------------------------------------------------------------------------


def _evidence(definition: rules.SchemeDefinition, items: list[dict[str, Any]]) -> list[dict[str, str]]:
    criteria = {c.code for c in definition.criteria}
    errors, clean = [], []
    for i, item in enumerate(items):
        criterion, kind = str(item.get("criterion", "")), str(item.get("type", ""))
        if criterion not in criteria:
            errors.append(f"evidence[{i}]: 未知认定标准 unknown criterion {criterion!r}")
        if kind not in rules.EVIDENCE_TYPES:
            errors.append(f"evidence[{i}]: 未知材料类型 unknown evidence type {kind!r}")
        clean.append({"criterion": criterion, "type": kind, "reference": str(item.get("reference", ""))[:100]})
    if not items:
        errors.append("evidence: 至少提交一项材料 (at least one piece of evidence)")
    if errors:
        raise _invalid("申请材料无效 (invalid evidence)", errors)
    return clean


def _decide_tier(definition: rules.SchemeDefinition, evidence: list[dict[str, str]]) -> rules.TierDecision:
    return rules.highest_tier(definition, [rules.Evidence(e["criterion"], e["type"]) for e in evidence])


def application_submit(*, actor, applicant: User, scheme: CardScheme, evidence: list[dict[str, Any]],
                       on: date | None = None) -> CardApplication:
    """Apply for a card of `scheme` for `applicant`: by the talent (individual channel) or by a colleague for the
    employer (employer channel). The tier the evidence supports by the highest-tier rule is proposed."""
    require(access.can_apply_for(actor, applicant),
            "只能为本人或本单位人员申请 (for yourself, or a colleague as the employer)")
    on = _today(on)
    version = selectors.version_in_force(scheme=scheme, on=on)
    if version is None:
        raise TalentState("该卡种尚未生效 (the scheme is not in force yet)")
    clean = _evidence(version.parsed, evidence)
    with transaction.atomic():
        if TalentCard.objects.filter(holder=applicant, scheme=scheme, status=TalentCard.Status.ACTIVE).exists():
            raise TalentState("已持有该卡种的有效人才卡 (already holds an active card of this scheme)")
        if CardApplication.objects.filter(applicant=applicant, scheme=scheme,
                                          status=CardApplication.Status.SUBMITTED).exists():
            raise TalentState("已有待审核的申请 (an application is already under review)")
        application = CardApplication.objects.create(
            scheme=scheme, scheme_version=version, applicant=applicant, submitted_by=actor,
            channel=(CardApplication.Channel.INDIVIDUAL if actor.pk == applicant.pk
                     else CardApplication.Channel.EMPLOYER),
            employer=applicant.organisation, evidence=clean,
            proposed_tier=_decide_tier(version.parsed, clean).tier or "")
        audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=application,
                     after=snapshot(application, APPLICATION_FIELDS))
        notify(applicant, event="talent.application.submitted", actor=actor,
               title=f"{scheme.name}申请已提交，待审核 / Talent card application submitted",
               link=reverse("talent:cards"))
    return application


def application_decide(*, actor, application: CardApplication, approve: bool, note: str = "",
                       on: date | None = None) -> CardApplication:
    """Approve (issue the card at the highest tier the evidence meets) or reject (with a note) an application."""
    require(access.can_review(actor, application), NOT_REVIEWER)
    on = _today(on)
    with transaction.atomic():
        application = CardApplication.objects.select_for_update().get(pk=application.pk)
        if not rules.application_may(application.status, "approve" if approve else "reject"):
            raise TalentState("该申请已审核 (the application was already decided)",
                              extra={"status": application.status})
        if not approve and not note.strip():
            raise InvalidInput("不予通过须说明理由 (a rejection needs a reason)", extra={"fields": {"note": ["required"]}})
        before = snapshot(application, APPLICATION_FIELDS)
        card = None
        if approve:
            decision = _decide_tier(application.scheme_version.parsed, application.evidence)
            if decision.tier is None:
                raise NoTierMet("材料不满足任何认定标准，不能发卡 (the evidence meets no criterion)",
                                extra={"missing": {k: list(v) for k, v in decision.missing.items()}})
            application.proposed_tier = decision.tier
            card = _card_issue(actor=actor, application=application, tier=decision.tier, on=on)
        application.status = CardApplication.Status.APPROVED if approve else CardApplication.Status.REJECTED
        application.reviewer, application.decided_at = actor, timezone.now()
        application.decision_note = note.strip()[:255]
        application.save()
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=application, before=before,
                     after=snapshot(application, APPLICATION_FIELDS))
        recipients = {application.applicant, application.submitted_by}
        if card is not None:
            notify(recipients, event="talent.card.issued", actor=actor,
                   title=f"{application.scheme.name}已发放（{card.tier}层级，卡号{card.number}） / Talent card issued",
                   link=reverse("talent:cards"))
        else:
            notify(recipients, event="talent.application.rejected", actor=actor, body=application.decision_note,
                   title=f"{application.scheme.name}申请未通过 / Talent card application rejected",
                   link=reverse("talent:cards"))
    return application


def _card_issue(*, actor, application: CardApplication, tier: str, on: date) -> TalentCard:
    version = selectors.version_in_force(scheme=application.scheme, on=on) or application.scheme_version
    if version.yearly_quota is not None:
        issued = TalentCard.objects.filter(scheme=application.scheme, issued_on__year=on.year).count()
        if issued >= version.yearly_quota:
            raise QuotaFull(f"{application.scheme.name}{on.year}年度发卡名额（{version.yearly_quota}）已满 "
                            "(the yearly quota is used up)")
    return _card_create(actor=actor, holder=application.applicant, scheme=application.scheme, version=version,
                        tier=tier, employer=application.employer, on=on, application=application)


def _card_create(*, actor, holder: User, scheme: CardScheme, version: SchemeVersion, tier: str,
                 employer: Organisation | None, on: date, application: CardApplication | None) -> TalentCard:
    prefix = f"{scheme.number_prefix}{on.year}"
    last = TalentCard.objects.filter(number__startswith=prefix).aggregate(n=Max("number"))["n"]
    serial = int(last[len(prefix):]) + 1 if last else 1
    card = TalentCard.objects.create(
        number=f"{prefix}{serial:06d}", holder=holder, holder_name=str(holder), scheme=scheme,
        scheme_version=version, tier=tier, employer=employer, application=application, issued_on=on,
        valid_until=rules.valid_until(on, version.validity_years), disclosure=["scheme", "tier", "valid_until"],
        status_changed_at=timezone.now())
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=card, after=snapshot(card, CARD_FIELDS),
                 subject=card)
    return card


def card_issue_direct(*, actor, holder: User, scheme: CardScheme, evidence: list[dict[str, Any]],
                      on: date | None = None) -> TalentCard:
    """Apply for `holder` and approve at once (the demo's card holders; a reviewer issuing at the window)."""
    application = application_submit(actor=holder, applicant=holder, scheme=scheme, evidence=evidence, on=on)
    application_decide(actor=actor, application=application, approve=True, note="窗口受理即办", on=on)
    return TalentCard.objects.get(application=application)


# --- the card lifecycle ----------------------------------------------------------------------------------------


def _locked_card(card: TalentCard, action: str) -> tuple[TalentCard, dict[str, Any]]:
    card = TalentCard.objects.select_for_update(of=("self",)).select_related("scheme", "scheme_version").get(pk=card.pk)
    if not rules.card_may(card.status, action):
        raise TalentState(f"人才卡状态为“{card.get_status_display()}”，不能执行此操作 (not allowed in this state)",
                          extra={"status": card.status, "action": action})
    return card, snapshot(card, CARD_FIELDS)


def _card_audit(actor, card: TalentCard, before: dict[str, Any], context: str) -> None:
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=card, before=before,
                 after=snapshot(card, CARD_FIELDS), context=context, subject=card)


@transaction.atomic
def card_disclosure_set(*, actor, card: TalentCard, fields: list[str]) -> TalentCard:
    """Choose what the card's QR code shows on the public verify page (any of DISCLOSABLE; none is allowed)."""
    require(access.can_manage_card(actor, card), NOT_HOLDER)
    unknown = [f for f in fields if f not in DISCLOSABLE]
    if unknown:
        raise _invalid("未知的公开项 (unknown fields)", unknown)
    card, before = _locked_card(card, "disclose")
    card.disclosure = [f for f in DISCLOSABLE if f in set(fields)]
    card.save(update_fields=["disclosure", "updated_at"])
    _card_audit(actor, card, before, "disclosure")
    return card


@transaction.atomic
def card_change(*, actor, card: TalentCard) -> TalentCard:
    """Record a change of employer (to be reported within 10 days of the change): the card's employer becomes the
    organisation the holder's account belongs to now. A change of category goes through a new application."""
    require(access.can_manage_card(actor, card), NOT_HOLDER)
    card, before = _locked_card(card, "change")
    if card.employer_id == card.holder.organisation_id:
        raise TalentState("工作单位未变更 (the employer has not changed)")
    card.employer = card.holder.organisation
    card.save(update_fields=["employer", "updated_at"])
    _card_audit(actor, card, before, "change")
    return card


@transaction.atomic
def card_renew(*, actor, card: TalentCard, on: date | None = None) -> TalentCard:
    """Renew within the window (from `renew_window_days` before the last valid day to that day): the new validity
    follows on from the old one, by the validity of the scheme version in force today."""
    require(access.can_manage_card(actor, card), NOT_HOLDER)
    on = _today(on)
    card, before = _locked_card(card, "renew")
    window = card.scheme_version.renew_window_days
    if not rules.may_renew(card.valid_until, on, window):
        opens, closes = rules.renew_window(card.valid_until, window)
        raise RenewWindowClosed(f"续期窗口为{opens}至{closes} (renewal is open from {opens} to {closes})",
                                extra={"opens": opens.isoformat(), "closes": closes.isoformat()})
    version = selectors.version_in_force(scheme=card.scheme, on=on) or card.scheme_version
    card.valid_until = rules.renewed_until(card.valid_until, version.validity_years)
    card.scheme_version = version
    card.save(update_fields=["valid_until", "scheme_version", "updated_at"])
    _card_audit(actor, card, before, "renew")
    notify(card.holder, event="talent.card.renewed", actor=actor,
           title=f"{card.scheme.name}已续期至{card.valid_until} / Talent card renewed", link=reverse("talent:cards"))
    return card


@transaction.atomic
def card_report_loss(*, actor, card: TalentCard) -> TalentCard:
    """Report the card lost: its QR code is revoked at once (the code version rises) and the card is reissued
    with a new code; the number, tier and validity stay."""
    require(access.can_manage_card(actor, card), NOT_HOLDER)
    card, before = _locked_card(card, "report_loss")
    card.code_version += 1
    card.reissued_count += 1
    card.save(update_fields=["code_version", "reissued_count", "updated_at"])
    _card_audit(actor, card, before, "report_loss: old code revoked, reissued")
    notify(card.holder, event="talent.card.reissued", actor=actor,
           title=f"{card.scheme.name}已挂失补发，原二维码作废 / Card reported lost and reissued",
           link=reverse("talent:cards"))
    return card


def cards_lapse(*, on: date | None = None) -> int:
    """The clock: cards past their last valid day lapse (daily); how many did."""
    today = _today(on)
    lapsed = 0
    for card_id in list(selectors.cards_to_lapse(today=today).values_list("pk", flat=True)):
        with transaction.atomic():
            card = TalentCard.objects.select_for_update().get(pk=card_id)
            if card.status != TalentCard.Status.ACTIVE or not rules.has_lapsed(card.valid_until, today):
                continue
            before = snapshot(card, CARD_FIELDS)
            card.status, card.status_changed_at = TalentCard.Status.LAPSED, timezone.now()
            card.save(update_fields=["status", "status_changed_at", "updated_at"])
            _card_audit(None, card, before, "lapse: expired without renewal")
            notify(card.holder, event="talent.card.lapsed",
                   title=f"{card.scheme.name}（{card.number}）已到期失效 / Talent card lapsed",
                   link=reverse("talent:cards"))
            lapsed += 1
    return lapsed


# --- the signed code and its public verification -----------------------------------------------------------------


def card_code(card: TalentCard) -> str:
    """The signed token the card's QR code carries (twincity.core.verification)."""
    return code_sign(kind=CODE_KIND, object_id=str(card.public_id), version=card.code_version)


def card_verification(object_id: str) -> Verification | None:
    """The resolver registered for talent cards: the card now, with only the fields its holder chose."""
    try:
        card = selectors.card_get(public_id=object_id)
    except (ValueError, TypeError):  # not a UUID
        return None
    if card is None:
        return None
    statuses: dict[str, CodeStatus] = {TalentCard.Status.ACTIVE: "valid", TalentCard.Status.LAPSED: "expired",
                                       TalentCard.Status.REVOKED: "revoked"}
    status = statuses[card.status]
    if status == "valid" and rules.has_lapsed(card.valid_until, timezone.localdate()):
        status = "expired"  # past its last day, before the nightly lapse
    tier = card.scheme_version.parsed.tier(card.tier)
    available = {
        "name": (DISCLOSABLE_LABELS["name"], card.holder_name),
        "scheme": (DISCLOSABLE_LABELS["scheme"], f"{card.scheme.name}（{card.scheme.issuer}）"),
        "tier": (DISCLOSABLE_LABELS["tier"], tier.name if tier else card.tier),
        "number": (DISCLOSABLE_LABELS["number"], card.number),
        "valid_until": (DISCLOSABLE_LABELS["valid_until"], card.valid_until.isoformat()),
        "employer": (DISCLOSABLE_LABELS["employer"], card.employer.name if card.employer else "—"),
    }
    notes = {"expired": f"人才卡已于{card.valid_until}到期 (expired)", "revoked": "人才卡已注销 (revoked)"}
    return Verification(status, card.code_version, "人才卡有效 (a valid talent card)",
                        disclosed(available, card.disclosure), notes.get(status, ""))


# --- service requests: the entitlement at the moment of use --------------------------------------------------------


def service_request_create(*, actor, card: TalentCard, provider: CardScheme, service_code: str,
                           for_family: bool = False, at: datetime | None = None) -> ServiceRequest:
    """Ask to use `service_code` of `provider`'s zone with `card` at `at` (now): judged by the provider's scheme
    version and, for a partner card, the recognition mapping in force on that day (Asia/Shanghai). The decision,
    granted or refused, is recorded with its rule, reason and versions, and audited."""
    require(access.can_manage_card(actor, card), NOT_HOLDER)
    at = at or timezone.now()
    on = timezone.localdate(at)
    with transaction.atomic():
        card = TalentCard.objects.select_for_update(of=("self",)).select_related("scheme").get(pk=card.pk)
        version = selectors.version_in_force(scheme=provider, on=on)
        if version is None:
            raise NotFound("该区人才服务目录尚未生效 (no service catalogue in force there)")
        mapping = None
        if card.scheme_id != provider.pk:
            mapping = selectors.mapping_in_force(home=provider, partner=card.scheme, on=on)
        definition = version.parsed
        decision = rules.judge(
            card=card.facts(), on=on, provider_scheme=provider.code, provider=definition, service_code=service_code,
            mapping=(rules.MappingFacts(mapping.version, mapping.effective_from, mapping.pairs)
                     if mapping is not None else None),
            used_this_year=selectors.granted_count(card=card, service_code=service_code, provider=provider,
                                                   year=on.year),
            for_family=for_family, family_extension=version.family_extension)
        service = definition.service(service_code)
        request = ServiceRequest.objects.create(
            card=card, requested_by=actor, requested_at=at, used_on=on, provider_scheme=provider,
            provider_version=version, city=provider.city, service_code=service_code[:40],
            service_name=service.name if service else "", for_family=for_family, granted=decision.granted,
            rule=decision.rule, reason=decision.reason[:400], home_tier=decision.home_tier, mapping=mapping)
        audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=request, subject=card,
                     after=snapshot(request, ("card_id", "provider_scheme_id", "provider_version_id", "service_code",
                                              "used_on", "for_family", "granted", "rule", "reason", "home_tier",
                                              "mapping_id")))
    return request
