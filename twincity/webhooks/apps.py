from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "twincity.webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from twincity.core.navigation import NavEntry, nav_register
        from twincity.core.recovery import recovery_register
        from twincity.webhooks.access import can_use_webhooks
        from twincity.webhooks.services import deliveries_interrupted_recover

        # In the tech-finance menu: banks, guarantors and funds receive the events of their loans (issue 8).
        nav_register(NavEntry("webhooks", _("Webhooks"), "webhooks:endpoints", can_use_webhooks, order=45,
                              section="finance"))
        recovery_register("webhook delivery(ies)", deliveries_interrupted_recover)
