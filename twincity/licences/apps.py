from django.apps import AppConfig


class LicencesConfig(AppConfig):
    name = "twincity.licences"
    verbose_name = "一业一证"

    def ready(self) -> None:
        from datetime import timedelta

        from twincity.core.navigation import NavEntry, nav_register
        from twincity.core.schedules import Schedule, schedule_register
        from twincity.core.verification import verification_register
        from twincity.licences import access, services

        nav_register(NavEntry("licence-apply", "一业一证", "licences:packages", access.can_view_packages, order=59,
                              section="govservices"))
        nav_register(NavEntry("licence-mine", "我的行业综合许可", "licences:mine", access.can_apply_online, order=60,
                              section="govservices"))
        nav_register(NavEntry("licence-hall", "一业一证办件", "licences:hall", access.can_view_hall_list, order=61,
                              section="govservices"))
        verification_register(services.CODE_KIND, "行业综合许可证", services.licence_verification)
        schedule_register(Schedule(
            "licences-components-expire", "twincity.licences.tasks.components_expire_task", cron="20 0 * * *",
            description="有效期届满的分项许可标为已过期 (component permits past their validity expire)",
            catch_up=timedelta(hours=23),
        ))
