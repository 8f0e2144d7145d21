"""Who may see and do what with innovation points: one predicate per decision."""

from twincity.accounts.access import is_admin, is_signed_in
from twincity.enterprises.access import has_own_enterprise, is_own_enterprise
from twincity.enterprises.models import Enterprise


def can_view_standards(user) -> bool:
    """Scoring standards are published rules: every signed-in person reads them."""
    return is_signed_in(user)


def can_edit_standards(user) -> bool:
    """Derive a new version of a standard."""
    return is_admin(user)


def can_manage_runs(user) -> bool:
    """Start scoring runs and read them, with their rankings and whitelists."""
    return is_admin(user)


def can_view_run(user, run) -> bool:
    return is_admin(user)


def can_view_points(user, enterprise: Enterprise) -> bool:
    """An enterprise's points, their explanation and its what-if: administrators and the company's own users."""
    return is_admin(user) or is_own_enterprise(user, enterprise)


def can_view_own_points(user) -> bool:
    return has_own_enterprise(user)


def can_record_evaluation_inputs(user, enterprise: Enterprise) -> bool:
    """Record the facts the registry cannot derive (a published score, a reviewer's judgement) for an enterprise:
    administrators, who review applications."""
    return is_admin(user)
