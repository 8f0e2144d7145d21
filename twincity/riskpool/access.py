"""Who may see and do what with guarantees and the risk pool: one predicate per decision, each with its list
form where a page lists things.

* A guarantee is seen by its parties: the lending bank (its whole bank tree: head office and branches), the
  guarantor, the re-guarantor and the pool's operator; administrators see all. Each party sees the same
  figures (the shares, the allocation, the ledger lines of the guarantee). Another bank sees nothing of it.
* A pool's overall figures (balance, contributions, payouts, recoveries, loss ratio, its whole ledger) are
  seen by its operator and administrators, and by the guarantors and re-guarantors that carry guarantees in
  it. A bank sees the pool's name, status and its own guarantees.
* Writes: administrators create pools; the operator (or an administrator) records contributions, pays
  approved claims and resumes a suspended pool; a guarantee officer attaches a guarantee of its own
  institution; the lending bank files a claim; the guarantor or the operator reviews, approves and rejects;
  the lending bank, the guarantor or the operator records a recovery.
"""

from django.db.models import Q, QuerySet

from twincity.accounts.access import is_admin, is_signed_in
from twincity.accounts.models import Organisation, User
from twincity.riskpool.models import Claim, Guarantee, RiskPool


def _org(user) -> Organisation | None:
    return user.organisation if is_signed_in(user) and user.organisation_id else None


def is_operator(user, pool: RiskPool) -> bool:
    """A member of the organisation that runs the pool."""
    return is_signed_in(user) and user.organisation_id is not None and user.organisation_id == pool.operator_id


def _is_bank_of(user, lender: Organisation) -> bool:
    org = _org(user)
    return (org is not None and user.role == User.Role.BANK_OFFICER and org.kind == Organisation.Kind.BANK
            and org.root_id == lender.root_id)


def _is_guarantor_of(user, guarantee: Guarantee) -> bool:
    return (is_signed_in(user) and user.role == User.Role.GUARANTEE_OFFICER and user.organisation_id is not None
            and user.organisation_id in (guarantee.guarantor_id, guarantee.reguarantor_id))


# --- guarantees ------------------------------------------------------------------------------------------------


def can_view_guarantee(user, guarantee: Guarantee) -> bool:
    return (is_admin(user) or is_operator(user, guarantee.pool) or _is_bank_of(user, guarantee.lender)
            or _is_guarantor_of(user, guarantee))


def can_view_claim(user: User, claim: Claim) -> bool:
    """A claim is seen by whoever sees its guarantee."""
    return can_view_guarantee(user, claim.guarantee)


def guarantees_visible(user) -> QuerySet[Guarantee]:
    """The list form of `can_view_guarantee`."""
    guarantees = Guarantee.objects.all()
    if is_admin(user):
        return guarantees
    org = _org(user)
    if org is None:
        return guarantees.none()
    q = Q(pool__operator_id=org.pk)
    if user.role == User.Role.BANK_OFFICER and org.kind == Organisation.Kind.BANK:
        q |= Q(lender_id=org.root_id) | Q(lender__parent_id=org.root_id)
    if user.role == User.Role.GUARANTEE_OFFICER:
        q |= Q(guarantor_id=org.pk) | Q(reguarantor_id=org.pk)
    return guarantees.filter(q)


def can_attach_guarantee(user, pool: RiskPool, guarantor: Organisation) -> bool:
    """A guarantee officer for its own institution, administrators; under a pool the person may use."""
    if is_admin(user):
        return True
    return (is_signed_in(user) and user.role == User.Role.GUARANTEE_OFFICER and user.organisation_id == guarantor.pk
            and guarantor.kind == Organisation.Kind.GUARANTOR)


def can_attach_any(user) -> bool:
    return is_admin(user) or (is_signed_in(user) and user.role == User.Role.GUARANTEE_OFFICER)


# --- claims ----------------------------------------------------------------------------------------------------


def can_file_claim(user, guarantee: Guarantee) -> bool:
    """The lending bank files the claim after the default; administrators too."""
    return is_admin(user) or _is_bank_of(user, guarantee.lender)


def can_review_claim(user, claim: Claim) -> bool:
    """Start the review, approve, reject: the guarantor (not the re-guarantor), the pool's operator,
    administrators."""
    g = claim.guarantee
    return (is_admin(user) or is_operator(user, g.pool)
            or (is_signed_in(user) and user.role == User.Role.GUARANTEE_OFFICER
                and user.organisation_id == g.guarantor_id))


def can_pay_claim(user, claim: Claim) -> bool:
    """The pool pays: its operator and administrators."""
    return is_admin(user) or is_operator(user, claim.guarantee.pool)


def can_record_recovery(user, claim: Claim) -> bool:
    g = claim.guarantee
    return (is_admin(user) or is_operator(user, g.pool) or _is_bank_of(user, g.lender)
            or (is_signed_in(user) and user.role == User.Role.GUARANTEE_OFFICER
                and user.organisation_id == g.guarantor_id))


def can_act_on_claim(user, claim: Claim, action: str) -> bool:
    """The predicate of one claim action (CLAIM_ACTIONS)."""
    if action == "pay":
        return can_pay_claim(user, claim)
    return can_review_claim(user, claim)


def claims_visible(user) -> QuerySet[Claim]:
    return Claim.objects.filter(guarantee__in=guarantees_visible(user))


# --- pools -----------------------------------------------------------------------------------------------------


def can_create_pools(user) -> bool:
    return is_admin(user)


def can_view_pool(user, pool: RiskPool) -> bool:
    """The pool's name, status and shares: its operator, administrators, and anyone with a guarantee in it."""
    return can_view_pool_figures(user, pool) or guarantees_visible(user).filter(pool=pool).exists()


def can_view_pool_figures(user, pool: RiskPool) -> bool:
    """The pool's overall figures and whole ledger."""
    if is_admin(user) or is_operator(user, pool):
        return True
    return (is_signed_in(user) and user.role == User.Role.GUARANTEE_OFFICER and user.organisation_id is not None
            and pool.guarantees.filter(Q(guarantor_id=user.organisation_id)
                                       | Q(reguarantor_id=user.organisation_id)).exists())


def pools_visible(user) -> QuerySet[RiskPool]:
    """The list form of `can_view_pool`."""
    if is_admin(user):
        return RiskPool.objects.all()
    org = _org(user)
    if org is None:
        return RiskPool.objects.none()
    return RiskPool.objects.filter(Q(operator_id=org.pk)
                                   | Q(pk__in=guarantees_visible(user).values("pool_id"))).distinct()


def can_manage_pool(user, pool: RiskPool) -> bool:
    """Record contributions, resume after the breaker: the operator and administrators."""
    return is_admin(user) or is_operator(user, pool)


# Who may work for a pool's operator besides administrators and guarantee officers: government staff.
OPERATOR_ROLES = frozenset({User.Role.CLERK})


def can_use_riskpool(user) -> bool:
    """The navigation entry: administrators, the officers of banks and guarantors, the staff of a pool's
    operator (asked of the database only for government staff, so every other page costs no query)."""
    if is_admin(user):
        return True
    if not is_signed_in(user):
        return False
    if user.role in (User.Role.BANK_OFFICER, User.Role.GUARANTEE_OFFICER):
        return True
    return (user.role in OPERATOR_ROLES and user.organisation_id is not None
            and RiskPool.objects.filter(operator_id=user.organisation_id).exists())
