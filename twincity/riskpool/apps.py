from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskPoolConfig(AppConfig):
    name = "twincity.riskpool"
    label = "riskpool"
    verbose_name = "担保与风险补偿资金池"

    def ready(self) -> None:
        from twincity.core.navigation import NavEntry, nav_register
        from twincity.finance.dashboard import dashboard_table_register
        from twincity.finance.services import case_repaid_register
        from twincity.riskpool import access
        from twincity.riskpool.dashboard import POOL_TABLE
        from twincity.riskpool.services import guarantee_release

        nav_register(NavEntry("riskpool", _("Guarantees and risk pools"), "riskpool:index",
                              access.can_use_riskpool, order=45, section="finance"))
        dashboard_table_register(POOL_TABLE)
        case_repaid_register(guarantee_release)
