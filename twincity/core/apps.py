from datetime import timedelta

from django.apps import AppConfig
from django.conf import settings
from django.utils.module_loading import import_module


class CoreConfig(AppConfig):
    name = "twincity.core"
    verbose_name = "核心"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from twincity.core import checks  # noqa: F401  (registers the system checks)
        from twincity.core.navigation import NavSection, nav_section_register
        from twincity.core.schedules import Schedule, schedule_register

        nav_section_register(NavSection("admin", _("Administration"), order=80))
        # The empty choice of every select (Django 6.1's documented override point); Django has no zh_Hans text for it.
        from django.db.models import fields

        fields.BLANK_CHOICE_LABEL = _("- Select an option -")
        schedule_register(Schedule(
            "recover-interrupted", "twincity.core.tasks.recover_interrupted_task", every=timedelta(minutes=1),
            description="导入和评分任务若已丢失，标记为失败 (mark imports and runs whose task was lost as failed)",
        ))
        schedule_register(Schedule(
            "prune-task-records", "twincity.core.tasks.prune_task_records_task", cron="30 3 * * *",
            description="清理30天前的任务记录 (forget task records older than 30 days)",
        ))
        for module in settings.SCHEDULE_MODULES:  # schedules declared outside the apps (tests)
            import_module(module)
