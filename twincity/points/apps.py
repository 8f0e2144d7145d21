from django.apps import AppConfig
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "twincity.points"
    verbose_name = "创新积分"

    def ready(self) -> None:
        from twincity.core.navigation import (
            NavEntry,
            NavSection,
            ObjectLink,
            nav_register,
            nav_section_register,
            object_link_register,
        )
        from twincity.core.recovery import recovery_register
        from twincity.core.schedules import Schedule, schedule_register
        from twincity.points import access
        from twincity.points.tasks import scoring_runs_interrupted_fail

        nav_section_register(NavSection("points", _("Innovation points"), order=30))
        nav_register(NavEntry("runs", _("Scoring runs"), "points:runs", access.can_manage_runs, order=30,
                              section="points"))
        nav_register(NavEntry("my-points", _("My points"), "points:mine", access.can_view_own_points, order=31,
                              section="points"))
        nav_register(NavEntry("standards", _("Scoring standards"), "points:standards", access.can_view_standards,
                              order=32, section="points"))
        object_link_register("enterprises.enterprise", ObjectLink(
            "points", _("Innovation points"),
            lambda enterprise: reverse("points:enterprise", args=[enterprise.credit_code]),
            access.can_view_points, order=10,
        ))
        recovery_register("scoring run(s)", scoring_runs_interrupted_fail)
        schedule_register(Schedule(
            "nightly-scoring", "twincity.points.tasks.registry_scoring_task", cron="0 2 * * *",
            description="每晚按全部内置评分标准为企业库评分 (score the registry under every built-in standard)",
        ))
