from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "twincity.enterprises"
    verbose_name = "企业库"

    def ready(self) -> None:
        from twincity.core.navigation import NavEntry, NavSection, nav_register, nav_section_register
        from twincity.core.recovery import recovery_register
        from twincity.enterprises import access
        from twincity.enterprises.tasks import import_jobs_interrupted_fail

        nav_section_register(NavSection("registry", _("Enterprises"), order=10))
        nav_register(NavEntry("registry", _("Enterprise registry"), "enterprises:list", access.can_browse_registry,
                              order=10, section="registry"))
        nav_register(NavEntry("my-enterprise", _("My enterprise"), "enterprises:mine",
                              lambda user: access.has_own_enterprise(user) and not access.can_browse_registry(user),
                              order=11, section="registry"))
        nav_register(NavEntry("import", _("Import"), "enterprises:import", access.can_import, order=20, section="registry"))
        recovery_register("import job(s)", import_jobs_interrupted_fail)
