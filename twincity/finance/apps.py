from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "twincity.finance"
    verbose_name = "科技金融"

    def ready(self) -> None:
        from twincity.core.navigation import NavEntry, NavSection, nav_register, nav_section_register
        from twincity.core.schedules import Schedule, schedule_register
        from twincity.finance import access

        nav_section_register(NavSection("finance", _("Tech finance"), order=40))
        nav_register(NavEntry("finance-products", _("Financial products"), "finance:products",
                              access.can_view_products, order=40, section="finance"))
        nav_register(NavEntry("finance-consents", _("Consents"), "finance:consents",
                              access.can_manage_own_consents, order=41, section="finance"))
        nav_register(NavEntry("finance-cases", _("Financing"), "finance:cases",
                              access.can_view_own_cases, order=42, section="finance"))
        nav_register(NavEntry("finance-queue", _("Financing work queue"), "finance:queue",
                              access.can_view_work_queue, order=43, section="finance"))
        nav_register(NavEntry("finance-overdue", _("Overdue financing cases"), "finance:overdue",
                              access.can_view_overdue, order=44, section="finance"))
        schedule_register(Schedule(
            "finance-demands-escalate", "twincity.finance.tasks.demands_escalate_task", cron="*/15 * * * *",
            description="认领时限（3个工作日）已过的融资需求：扩大推送并提交督办 "
                        "(escalate demands not claimed within 3 working days)",
        ))
