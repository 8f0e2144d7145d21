from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "twincity.points"
    verbose_name = "创新积分"
