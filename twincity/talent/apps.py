from django.apps import AppConfig


class TalentConfig(AppConfig):
    name = "twincity.talent"
    verbose_name = "人才卡"

    def ready(self) -> None:
        from datetime import timedelta

        from twincity.core.navigation import NavEntry, NavSection, nav_register, nav_section_register
        from twincity.core.schedules import Schedule, schedule_register
        from twincity.core.verification import verification_register
        from twincity.talent import access, services

        nav_section_register(NavSection("talent", "人才服务", order=60))
        nav_register(NavEntry("talent-cards", "我的人才卡", "talent:cards", access.can_hold_card, order=60,
                              section="talent"))
        nav_register(NavEntry("talent-services", "人才服务申请", "talent:services", access.can_hold_card, order=61,
                              section="talent"))
        nav_register(NavEntry("talent-review", "人才卡审核", "talent:review", access.can_review_any, order=62,
                              section="talent"))
        nav_register(NavEntry("talent-schemes", "人才卡方案与互认", "talent:schemes", access.can_manage_schemes,
                              order=63, section="talent"))
        verification_register(services.CODE_KIND, "人才卡", services.card_verification)
        schedule_register(Schedule(
            "talent-cards-lapse", "twincity.talent.tasks.cards_lapse_task", cron="10 0 * * *",
            description="到期未续期的人才卡失效 (cards past their last valid day lapse)", catch_up=timedelta(hours=23),
        ))
