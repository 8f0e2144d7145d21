"""Who may see and do what in tech finance: one predicate per decision.

* Products are published offers: every signed-in person reads the published ones. An institution's officers
  manage the products of their own institution (its bank tree: head office and branches); administrators all.
* An enterprise's declarations and points are read by an institution only under the enterprise's consent,
  checked at the moment of access (`can_institution_read`); each such read is logged (services).
* Consents are the enterprise's own decision: its users grant and revoke them and read who looked;
  administrators read them too.
"""

from datetime import datetime
from typing import NamedTuple

from django.db.models import Q, QuerySet
from django.utils import timezone

# institution_of and is_institution_officer are accounts' role predicates, re-exported for finance's callers.
from twincity.accounts.access import (  # noqa: F401 — institution_of and is_institution_officer re-exported
    can_act_for_institution,
    institution_of,
    institutions_acted_for,
    is_admin,
    is_enterprise_user,
    is_institution_officer,
    is_signed_in,
)
from twincity.accounts.models import Organisation
from twincity.enterprises.access import has_own_enterprise, is_own_enterprise
from twincity.enterprises.models import Enterprise
from twincity.finance.models import Consent, EquityRound, FinancialProduct, Purpose

# --- products ----------------------------------------------------------------------------------------------


def can_view_products(user) -> bool:
    """Published products are public to every signed-in person."""
    return is_signed_in(user)


def can_view_product(user, product: FinancialProduct) -> bool:
    """Published versions and the versions they superseded: everyone signed in; a withdrawn product: its
    institution's officers and administrators."""
    if product.status != FinancialProduct.Status.WITHDRAWN:
        return can_view_products(user)
    return can_manage_products(user, product.institution)


def can_create_products(user) -> bool:
    return is_admin(user) or is_institution_officer(user)


def can_manage_products(user, institution: Organisation) -> bool:
    """Publish, change (as a new version) and withdraw the products of `institution`: its own officers (any
    branch of the same bank) and administrators."""
    return can_act_for_institution(user, institution)


def institutions_managed(user) -> QuerySet[Organisation]:
    """The institutions whose products this person may publish."""
    return institutions_acted_for(user)


# --- matching ----------------------------------------------------------------------------------------------


def can_match_own(user) -> bool:
    """See the products one's own company qualifies for."""
    return has_own_enterprise(user)


def can_match(user, enterprise: Enterprise) -> bool:
    """Match an enterprise against the products: its own users, administrators, and an institution with the
    enterprise's consent (matching reads its declarations and points)."""
    return is_admin(user) or is_own_enterprise(user, enterprise) or can_institution_read(user, enterprise)


# --- consent -----------------------------------------------------------------------------------------------


def _consents_covering(institution: Organisation) -> Q:
    """A consent covers an institution when it names it, names its head office, or names its kind."""
    named = [institution.pk] + ([institution.parent_id] if institution.parent_id else [])
    return Q(institution_id__in=named) | Q(institution_kind=institution.kind)


def consents_in_force(user, at: datetime | None = None) -> QuerySet[Consent]:
    """Every consent under which this person's institution may read an enterprise's data at `at` (default:
    now): in force then (`ConsentQuerySet.active_at`) and covering the institution. None for anyone else."""
    institution = institution_of(user)
    if institution is None:
        return Consent.objects.none()
    return Consent.objects.active_at(at or timezone.now()).filter(_consents_covering(institution))


def consent_in_force(user, enterprise: Enterprise, at: datetime | None = None) -> Consent | None:
    """The consent under which this person's institution may read the enterprise's declarations and points at
    `at` (default: now), or None."""
    return consents_in_force(user, at).filter(enterprise=enterprise).order_by("valid_until", "pk").first()


def can_institution_read(user, enterprise: Enterprise, at: datetime | None = None) -> bool:
    """An institution reads an enterprise's declarations and points only while a consent covers it."""
    return consent_in_force(user, enterprise, at) is not None


def enterprises_institution_may_read(user, at: datetime | None = None) -> QuerySet[Enterprise]:
    """The list form of `can_institution_read`: every enterprise whose consent covers this person's
    institution at `at` (for whitelists and exports)."""
    return Enterprise.objects.filter(pk__in=consents_in_force(user, at).values("enterprise_id"))


class ConsentInForce(NamedTuple):
    """What a list needs of the consent an enterprise is read under: which one, and its purpose."""

    pk: int
    purpose: str

    def get_purpose_display(self) -> str:
        return str(Purpose(self.purpose).label)


def consent_for_each(user, at: datetime) -> dict[int, ConsentInForce]:
    """enterprise pk → the consent `consent_in_force` would give, for every enterprise at once (whitelists,
    exports): one query, plain rows."""
    chosen: dict[int, ConsentInForce] = {}
    for enterprise_id, pk, purpose in consents_in_force(user, at).order_by("valid_until", "pk").values_list(
            "enterprise_id", "pk", "purpose"):
        if enterprise_id not in chosen:
            chosen[enterprise_id] = ConsentInForce(pk, purpose)
    return chosen


# --- whitelists --------------------------------------------------------------------------------------------


def can_view_whitelist(user, product: FinancialProduct) -> bool:
    """The enterprises that qualify for a product and consented: the officers of the product's institution
    (its bank tree) only. Administrators are not an institution: no consent covers them, so they have none."""
    return is_institution_officer(user) and can_manage_products(user, product.institution)


# --- equity rounds -----------------------------------------------------------------------------------------


def can_record_equity_round(user, round_: EquityRound) -> bool:
    """Record a round (as yet unsaved) on an enterprise: its own users, administrators, and the officers of the
    fund that invested (naming their own fund as the investor)."""
    if is_admin(user) or is_own_enterprise(user, round_.enterprise):
        return True
    own = institution_of(user)
    investor = round_.investor
    return (own is not None and own.kind == Organisation.Kind.FUND and investor is not None
            and investor.root_id == own.root_id)


def can_view_equity_rounds(user, enterprise: Enterprise) -> bool:
    """The rounds on file: the enterprise's own users and administrators (institutions see them through
    matching, under consent)."""
    return is_admin(user) or is_own_enterprise(user, enterprise)


def can_manage_consents(user, enterprise: Enterprise) -> bool:
    """Grant and revoke: the enterprise's own users only (the consent is the company's decision)."""
    return is_own_enterprise(user, enterprise)


def can_manage_own_consents(user) -> bool:
    return has_own_enterprise(user)


def can_view_consents(user, enterprise: Enterprise) -> bool:
    """The grants and the access log: the enterprise's own users and administrators."""
    return is_admin(user) or is_own_enterprise(user, enterprise)


# --- demands and applications ------------------------------------------------------------------------------
# A case is routed to institutions: an application to its lead branch (and a twin-city loan's partner
# branch); a published demand to the bank branches of its project city (after escalation: every bank branch
# of both cities) until one claims it, then to the claiming branch. A routed branch's head office sees what
# its branches see (as a consent given to a bank covers its branches). One bank never sees another's items.


def _acts_for(user, institution_id: int | None) -> bool:
    """The person is an officer of this branch or of its head office."""
    own = institution_of(user)
    if own is None or institution_id is None:
        return False
    if own.pk == institution_id:
        return True
    return Organisation.objects.filter(pk=institution_id, parent_id=own.pk).exists()


def demand_candidates(case) -> QuerySet[Organisation]:
    """The institutions a published, unclaimed demand is offered to: the bank branches of the project city
    (the registered city when none is given); after escalation, the bank branches of both cities."""
    branches = Organisation.objects.filter(kind=Organisation.Kind.BANK, parent__isnull=False)
    if case.escalated_at is not None:
        return branches.exclude(city="")
    return branches.filter(city=case.project_city or case.registered_city)


def _routed_ids(case) -> list[int]:
    return [pk for pk in (case.lead_institution_id, case.partner_institution_id) if pk is not None]


def is_offered_to(user, case) -> bool:
    """A published demand nobody has claimed yet, offered to this person's institution (or one of its branches)."""
    if case.kind != "demand" or case.state != "published" or case.lead_institution_id is not None:
        return False
    own = institution_of(user)
    if own is None:
        return False
    candidates = demand_candidates(case)
    return candidates.filter(Q(pk=own.pk) | Q(parent_id=own.pk)).exists()


def routed_institution_of(user, case) -> Organisation | None:
    """The routed branch this person acts for on the case (the lead or the partner), or None."""
    for institution_id in _routed_ids(case):
        if _acts_for(user, institution_id):
            return Organisation.objects.get(pk=institution_id)
    return None


def can_view_case(user, case) -> bool:
    """The enterprise's own users, administrators, the routed institutions' officers, and (while it waits for
    a claim) the institutions a published demand is offered to. A draft is the enterprise's alone."""
    if is_own_enterprise(user, case.enterprise):
        return True
    if case.state == "draft":
        return False
    if is_admin(user):
        return True
    return routed_institution_of(user, case) is not None or is_offered_to(user, case)


def cases_visible(user) -> QuerySet:
    """The list form of `can_view_case`."""
    from twincity.finance.models import Application

    if is_admin(user):
        return Application.objects.exclude(state="draft")
    enterprise_q = Q(pk__in=[])
    if is_enterprise_user(user):
        enterprise_q = Q(enterprise__organisation_id=user.organisation_id)
    own = institution_of(user)
    if own is None:
        return Application.objects.filter(enterprise_q)
    mine = Organisation.objects.filter(Q(pk=own.pk) | Q(parent_id=own.pk))
    mine_ids = list(mine.values_list("pk", flat=True))
    mine_cities = {c for c in mine.filter(kind=Organisation.Kind.BANK, parent__isnull=False)
                   .values_list("city", flat=True) if c}
    routed = Q(lead_institution_id__in=mine_ids) | Q(partner_institution_id__in=mine_ids)
    offered = Q(pk__in=[])
    if mine_cities:
        unclaimed = Q(kind="demand", state="published", lead_institution__isnull=True)
        offered = unclaimed & (Q(escalated_at__isnull=False)
                               | Q(project_city__in=mine_cities)
                               | Q(project_city="", registered_city__in=mine_cities))
    return Application.objects.filter(enterprise_q | ((routed | offered) & ~Q(state="draft")))


def can_act_as_enterprise(user, case) -> bool:
    """Submit, publish, resubmit, withdraw: the enterprise's own users."""
    return is_own_enterprise(user, case.enterprise)


def can_create_cases(user) -> bool:
    return has_own_enterprise(user)


def can_claim(user, case) -> bool:
    """Claim a published demand offered to one's bank, or accept (受理) an application routed to it."""
    if case.kind == "demand" and case.lead_institution_id is None:
        return is_offered_to(user, case)
    return routed_institution_of(user, case) is not None


def can_decide(user, case) -> bool:
    """Review, approve, reject, refer back: the officers of a routed branch (each for its own branch)."""
    return routed_institution_of(user, case) is not None


def can_service(user, case) -> bool:
    """Disbursement, repayment, overdue and default events: the lead branch's officers."""
    return _acts_for(user, case.lead_institution_id)


def can_view_work_queue(user) -> bool:
    return is_institution_officer(user)


def can_view_own_cases(user) -> bool:
    return has_own_enterprise(user)


def can_view_overdue(user) -> bool:
    """The list of cases past their legal clocks, with who is late: administrators."""
    return is_admin(user)


# --- the finance dashboard (科技金融看板) -------------------------------------------------------------------------
# Administrators see every figure. An institution's officer sees the figures of the cases routed to its
# institution (a head office: also its branches', as for the cases themselves) and the league table of every
# bank branch with the others anonymised: the league table compares service (claim rate, time to decision,
# approval rate) as the regulator's appraisal (考核) does, and naming other banks is the regulator's decision to
# publish (通报), not the platform's by default; other banks' rejection reasons are free text and may name the
# enterprise, so they are not shown. An enterprise sees nothing here (its own cases are on its own pages).


def can_view_dashboard(user) -> bool:
    return is_admin(user) or is_institution_officer(user)


def dashboard_institutions(user) -> list[int] | None:
    """The institutions whose figures this person sees: None for every case (administrators), else its own
    institution and that institution's branches (empty for anyone else)."""
    if is_admin(user):
        return None
    own = institution_of(user)
    if own is None:
        return []
    return list(Organisation.objects.filter(Q(pk=own.pk) | Q(parent_id=own.pk)).values_list("pk", flat=True))
