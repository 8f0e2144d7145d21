from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "twincity.audit"
    verbose_name = "审计"

    def ready(self) -> None:
        from twincity.audit.access import can_view_audit_trail
        from twincity.core.navigation import NavEntry, nav_register

        nav_register(NavEntry("audit", _("Audit trail"), "audit:list", can_view_audit_trail, order=80, section="admin"))
