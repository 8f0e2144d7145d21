from django.apps import AppConfig


class GovservicesConfig(AppConfig):
    name = "twincity.govservices"
    verbose_name = "政务服务"

    def ready(self) -> None:
        from twincity.core.background import task_enqueue_on_commit
        from twincity.core.navigation import NavEntry, NavSection, nav_register, nav_section_register
        from twincity.core.schedules import Schedule, schedule_register
        from twincity.govservices import access, services, tasks

        services.case_forwarder_register(
            lambda case: task_enqueue_on_commit(tasks.case_forward_task, case_id=case.pk))

        nav_section_register(NavSection("govservices", "政务服务", order=55))
        nav_register(
            NavEntry(
                "gov-catalogue",
                "政务服务事项",
                "govservices:catalogue",
                access.can_view_catalogue,
                order=55,
                section="govservices",
            )
        )
        nav_register(
            NavEntry(
                "gov-my-cases",
                "我的办件",
                "govservices:my-cases",
                access.can_file_online,
                order=56,
                section="govservices",
            )
        )
        nav_register(
            NavEntry(
                "gov-queue", "办件工作台", "govservices:queue", access.can_view_queue, order=57, section="govservices"
            )
        )
        nav_register(
            NavEntry(
                "gov-dashboard",
                "政务服务看板",
                "govservices:dashboard",
                access.can_view_dashboard,
                order=58,
                section="govservices",
            )
        )
        schedule_register(
            Schedule(
                "govservices-clock-warn",
                "twincity.govservices.tasks.cases_warn_task",
                cron="30 8 * * *",
                description="承诺时限将到（2个工作日内）的办件：提醒办理部门 (warn departments of cases due within 2 working days)",
            )
        )
