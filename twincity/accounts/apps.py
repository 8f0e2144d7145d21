from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "twincity.accounts"
    verbose_name = "账户与机构"

    def ready(self) -> None:
        from twincity.accounts.access import can_manage_accounts
        from twincity.core.navigation import NavEntry, nav_register

        nav_register(NavEntry("accounts", _("Organisations and users"), "accounts:organisations",
                              can_manage_accounts, order=85, section="admin"))
        nav_register(NavEntry("tokens", _("API tokens"), "accounts:tokens", can_manage_accounts, order=90, section="admin"))
