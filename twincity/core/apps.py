from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "twincity.core"
    verbose_name = "核心"

    def ready(self) -> None:
        from twincity.core import checks  # noqa: F401  (registers the system checks)
