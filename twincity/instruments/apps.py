from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstrumentsConfig(AppConfig):
    name = "twincity.instruments"
    verbose_name = "大型仪器共享"

    def ready(self) -> None:
        from datetime import timedelta

        from twincity.core.navigation import NavEntry, NavSection, nav_register, nav_section_register
        from twincity.core.schedules import Schedule, schedule_register
        from twincity.instruments import access

        nav_section_register(NavSection("instruments", _("Instrument sharing"), order=50))
        nav_register(NavEntry("instruments", _("Instruments"), "instruments:catalogue",
                              access.can_view_catalogue, order=50, section="instruments"))
        nav_register(NavEntry("instrument-bookings", _("My bookings"), "instruments:my-bookings",
                              access.can_book_any, order=51, section="instruments"))
        nav_register(NavEntry("instrument-approvals", _("Booking approvals"), "instruments:approvals",
                              access.can_approve_any, order=52, section="instruments"))
        schedule_register(Schedule(
            "instrument-holds-expire", "twincity.instruments.tasks.booking_holds_expire_task",
            every=timedelta(minutes=1),
            description="待审批预约到期未审批即释放时段 (release the slots of pending bookings whose hold expired)",
        ))
