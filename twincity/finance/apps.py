from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "twincity.finance"
    verbose_name = "科技金融"

    def ready(self) -> None:
        from twincity.core.navigation import NavEntry, NavSection, nav_register, nav_section_register
        from twincity.finance import access

        nav_section_register(NavSection("finance", _("Tech finance"), order=40))
        nav_register(NavEntry("finance-products", _("Financial products"), "finance:products",
                              access.can_view_products, order=40, section="finance"))
        nav_register(NavEntry("finance-consents", _("Consents"), "finance:consents",
                              access.can_manage_own_consents, order=41, section="finance"))
