from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeConfig(AppConfig):
    name = "twincity.home"
    verbose_name = "首页"

    def ready(self) -> None:
        from twincity.accounts.access import is_signed_in
        from twincity.core.navigation import NavEntry, nav_register

        nav_register(NavEntry("home", _("Home"), "home:home", lambda user: True, order=0))
        # In the administration menu beside API tokens for those who have one; everyone else sees the link itself.
        nav_register(NavEntry("api-docs", _("API docs"), "/api/docs", is_signed_in, order=99, section="admin"))
