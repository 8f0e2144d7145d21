from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "twincity.ops"
    verbose_name = "运维"

    def ready(self) -> None:
        from twincity.accounts.access import is_admin
        from twincity.core.navigation import NavEntry, nav_register

        nav_register(NavEntry("schedules", _("Schedules"), "ops:schedules", is_admin, order=88, section="admin"))
