from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "twincity.notifications"
    verbose_name = "消息通知"
