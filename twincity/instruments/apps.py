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
        nav_register(NavEntry("instrument-usage", "使用登记", "instruments:usage",
                              access.can_approve_any, order=53, section="instruments"))
        nav_register(NavEntry("instrument-my-usage", "我的使用记录", "instruments:my-usage",
                              access.can_book_any, order=54, section="instruments"))
        nav_register(NavEntry("instrument-jobs", "送样检测", "instruments:jobs",
                              access.can_view_jobs_any, order=55, section="instruments"))
        nav_register(NavEntry("instrument-statements", "结算单", "instruments:statements",
                              access.can_view_statements_any, order=56, section="instruments"))
        nav_register(NavEntry("instrument-evaluation", "共享评价", "instruments:evaluation",
                              access.can_view_evaluation_any, order=57, section="instruments"))
        schedule_register(Schedule(
            "instrument-sessions-silent-close", "twincity.instruments.tasks.sessions_silent_close_task",
            every=timedelta(minutes=5),
            description="关闭心跳中断的仪器电脑代理使用记录 (close agent sessions whose heartbeat stopped)",
        ))
        schedule_register(Schedule(
            "instrument-job-quotes-expire", "twincity.instruments.tasks.job_quotes_expire_task",
            every=timedelta(hours=1),
            description="送样报价过期未接受即标记过期 (mark sample-job quotes that expired unanswered)",
        ))
        schedule_register(Schedule(
            "instrument-statements-monthly", "twincity.instruments.tasks.statements_monthly_task",
            cron="0 2 1 * *", catch_up=timedelta(days=2),
            description="每月1日出具上月仪器使用结算单 (issue last month's instrument statements)",
        ))
        schedule_register(Schedule(
            "instrument-holds-expire", "twincity.instruments.tasks.booking_holds_expire_task",
            every=timedelta(minutes=1),
            description="待审批预约到期未审批即释放时段 (release the slots of pending bookings whose hold expired)",
        ))
