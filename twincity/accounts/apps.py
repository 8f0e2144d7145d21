from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "twincity.accounts"
    verbose_name = "账户与机构"
