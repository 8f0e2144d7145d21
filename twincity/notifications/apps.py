from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "twincity.notifications"
    verbose_name = "消息通知"
    # The inbox is reached from the link with the unread badge in the top bar (templates/base.html), on every page.

    def ready(self) -> None:
        from twincity.core.recovery import recovery_register
        from twincity.notifications.services import deliveries_interrupted_recover

        recovery_register("e-mail/SMS delivery(ies)", deliveries_interrupted_recover)
