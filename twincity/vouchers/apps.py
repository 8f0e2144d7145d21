from django.apps import AppConfig


class VouchersConfig(AppConfig):
    name = "twincity.vouchers"
    verbose_name = "科技创新券"

    def ready(self) -> None:
        from twincity.core.navigation import NavEntry, NavSection, nav_register, nav_section_register
        from twincity.vouchers import access

        nav_section_register(NavSection("vouchers", "科技创新券", order=55))
        nav_register(NavEntry("vouchers-mine", "我的创新券", "vouchers:mine", access.can_hold_vouchers, order=55,
                              section="vouchers"))
        nav_register(NavEntry("vouchers-batches", "创新券批次与发放", "vouchers:batches", access.is_office, order=56,
                              section="vouchers"))
        nav_register(NavEntry("vouchers-provider", "创新券兑付", "vouchers:provider",
                              access.can_view_provider_redemptions, order=57, section="vouchers"))
