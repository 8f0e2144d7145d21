from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "twincity.webhooks"
    verbose_name = "Webhooks"
