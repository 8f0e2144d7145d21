"""The navigation bar: only pages that exist, and only those the person may open."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from twincity.accounts.models import User
from twincity.accounts.selectors import REGISTRY_READER_ROLES


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


def navigation_for(user, path: str) -> list[NavItem]:
    items: list[tuple[str, str]] = [(_("Home"), reverse("core:home"))]
    if getattr(user, "is_authenticated", False) and user.is_active:
        if user.is_platform_admin or user.role in REGISTRY_READER_ROLES:
            items.append((_("Enterprise registry"), reverse("enterprises:list")))
        elif user.role == User.Role.ENTERPRISE_USER and user.organisation_id:
            items.append((_("My enterprise"), reverse("enterprises:mine")))
        if user.is_platform_admin or (user.role == User.Role.ENTERPRISE_USER and user.organisation_id):
            items.append((_("Import"), reverse("enterprises:import")))
        if user.is_platform_admin:
            items.append((_("Innovation points"), reverse("points:runs")))
            items.append((_("Scoring standards"), reverse("points:standards")))
        elif user.role == User.Role.ENTERPRISE_USER and user.organisation_id:
            items.append((_("My points"), reverse("points:mine")))
        if user.is_platform_admin:
            items.append((_("Audit trail"), reverse("core:audit")))
            items.append((_("API tokens"), reverse("accounts:tokens")))
        items.append((_("API docs"), "/api/docs"))
    home = reverse("core:home")
    return [
        NavItem(str(label), url, path == url if url == home else path.startswith(url)) for label, url in items
    ]
