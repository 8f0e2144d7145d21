"""Who may read the audit trail: administrators."""

from twincity.accounts.access import is_admin


def can_view_audit_trail(user) -> bool:
    return is_admin(user)
