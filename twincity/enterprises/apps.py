from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "twincity.enterprises"
    verbose_name = "企业库"
