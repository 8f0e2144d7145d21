from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "twincity.demo"
    verbose_name = "演示数据"
