"""The navigation bar is built from the access predicates: for every persona, every link it offers opens
(200), and the pages it leaves out are the ones the persona may not open."""

import pytest

from twincity.core.navigation import nav_entries
from twincity.testing import PERSONA_NAMES


@pytest.mark.parametrize("persona", [*PERSONA_NAMES, "anonymous"])
def test_every_link_of_every_persona_opens(client, cast, persona):
    if persona != "anonymous":
        client.force_login(getattr(cast, persona))
    items = client.get("/").context["navigation"]
    assert items, "the home page always shows the navigation"
    for item in items:
        response = client.get(item.url, follow=True)
        assert response.status_code == 200, (persona, item.url)


@pytest.mark.parametrize("persona", PERSONA_NAMES)
def test_the_links_left_out_are_the_pages_the_persona_may_not_open(client, cast, persona):
    user = getattr(cast, persona)
    client.force_login(user)
    shown = {item.key for item in client.get("/").context["navigation"]}
    for entry in nav_entries():
        assert (entry.key in shown) == entry.visible(user), (persona, entry.key)


def test_the_navigation_per_persona(client, cast):
    def keys(user):
        client.force_login(user)
        return [item.key for item in client.get("/").context["navigation"]]

    assert keys(cast.olivia) == [
        "home", "registry", "import", "runs", "standards", "finance-products", "finance-overdue", "riskpool",
        "webhooks", "finance-dashboard", "instruments", "instrument-bookings", "instrument-approvals",
        "instrument-usage", "instrument-my-usage", "gov-catalogue", "instrument-jobs", "gov-my-cases",
        "instrument-statements", "vouchers-batches", "gov-queue", "instrument-evaluation", "vouchers-provider",
        "gov-dashboard", "licence-apply", "licence-hall", "talent-review", "talent-schemes", "audit", "accounts",
        "schedules", "tokens", "api-docs"]
    assert keys(cast.alice) == [
        "home", "my-enterprise", "import", "my-points", "standards", "finance-products", "finance-consents",
        "finance-cases", "instruments", "instrument-bookings", "instrument-my-usage", "gov-catalogue",
        "instrument-jobs", "vouchers-mine", "gov-my-cases", "instrument-statements", "licence-apply", "licence-mine",
        "talent-cards", "talent-services", "api-docs"]
    assert keys(cast.bella) == ["home", "registry", "standards", "finance-products", "finance-queue", "riskpool",
                                "webhooks", "finance-dashboard", "instruments", "gov-catalogue", "gov-my-cases",
                                "licence-apply", "api-docs"]
    assert keys(cast.owen) == [
        "home", "standards", "finance-products", "instruments", "instrument-bookings", "instrument-approvals",
        "instrument-usage", "instrument-my-usage", "gov-catalogue", "instrument-jobs", "gov-my-cases",
        "instrument-statements", "instrument-evaluation", "vouchers-provider", "licence-apply", "talent-cards",
        "talent-services", "api-docs"]
    assert keys(cast.felix) == [
        "home", "standards", "finance-products", "instruments", "instrument-bookings", "instrument-my-usage",
        "gov-catalogue", "instrument-jobs", "gov-my-cases", "instrument-statements", "licence-apply", "talent-cards",
        "talent-services", "api-docs"]
    for clerk in (cast.clara, cast.chen, cast.hank):
        assert keys(clerk) == ["home", "registry", "standards", "finance-products", "instruments", "gov-catalogue",
                               "gov-my-cases", "gov-queue", "gov-dashboard", "licence-apply", "licence-hall",
                               "talent-review", "api-docs"]
    assert keys(cast.charlie) == ["home", "standards", "finance-products", "instruments", "gov-catalogue",
                                  "gov-my-cases", "licence-apply", "api-docs"]


def test_url_maker_answers_what_reverse_answers():
    """A list's row URLs reversed once (url_maker) are reverse()'s, quoting included."""
    from django.urls import reverse

    from twincity.core.navigation import url_maker

    detail = url_maker("enterprises:detail")
    for value in ("91500107MA5YP4QX2A", "abc-1_2.3~", "名字", "a b", "x?y#z", "%41"):
        assert detail(value) == reverse("enterprises:detail", args=[value])


def test_the_bar_groups_the_entries_into_sections(client, cast):
    """A section with two or more pages the person may open is a menu; with one, that page's link. API docs sit
    in the administration menu beside API tokens for an administrator (so the bar keeps to one line at 1280 px,
    tests/browser/test_accounts_flow.py), and are the bar's last link for everyone else."""
    from twincity.core.navigation import NavMenu

    def bar(user):
        client.force_login(user)
        return [(shown.key, [item.key for item in shown.items]) if isinstance(shown, NavMenu) else shown.key
                for shown in client.get("/").context["navigation_bar"]]

    assert bar(cast.olivia) == ["home", ("registry", ["registry", "import"]), ("points", ["runs", "standards"]),
                                ("finance", ["finance-products", "finance-overdue", "riskpool", "webhooks",
                                             "finance-dashboard"]),
                                ("instruments", ["instruments", "instrument-bookings", "instrument-approvals",
                                                 "instrument-usage", "instrument-my-usage", "instrument-jobs",
                                                 "instrument-statements", "instrument-evaluation"]),
                                ("govservices", ["gov-catalogue", "gov-my-cases", "gov-queue", "gov-dashboard",
                                                 "licence-apply", "licence-hall"]),
                                ("vouchers", ["vouchers-batches", "vouchers-provider"]),
                                ("talent", ["talent-review", "talent-schemes"]),
                                ("admin", ["audit", "accounts", "schedules", "tokens", "api-docs"])]
    assert bar(cast.alice) == ["home", ("registry", ["my-enterprise", "import"]),
                               ("points", ["my-points", "standards"]),
                               ("finance", ["finance-products", "finance-consents", "finance-cases"]),
                               ("instruments", ["instruments", "instrument-bookings", "instrument-my-usage",
                                                "instrument-jobs", "instrument-statements"]),
                               ("govservices", ["gov-catalogue", "gov-my-cases", "licence-apply", "licence-mine"]),
                               "vouchers-mine",
                               ("talent", ["talent-cards", "talent-services"]), "api-docs"]
    assert bar(cast.bella) == ["home", "registry", "standards",
                               ("finance", ["finance-products", "finance-queue", "riskpool", "webhooks",
                                            "finance-dashboard"]), "instruments",
                               ("govservices", ["gov-catalogue", "gov-my-cases", "licence-apply"]), "api-docs"]
    assert bar(cast.clara) == ["home", "registry", "standards", "finance-products", "instruments",
                               ("govservices", ["gov-catalogue", "gov-my-cases", "gov-queue", "gov-dashboard",
                                                "licence-apply", "licence-hall"]),
                               "talent-review", "api-docs"]
    client.force_login(cast.alice)
    page = client.get("/finance/consents/").content.decode()
    assert '<details class="navmenu active" data-section="finance">' in page
    assert '<a href="/finance/consents/" class="active" aria-current="page">' in page


def test_the_licence_entries_per_persona(client, cast):
    """一业一证 (twincity.licences): the packages for everyone signed in, 我的行业综合许可 for enterprise users,
    一业一证办件 for government clerks and administrators."""
    def keys(user):
        client.force_login(user)
        return [item.key for item in client.get("/").context["navigation"] if item.key.startswith("licence-")]

    assert keys(cast.bob) == keys(cast.alice) == ["licence-apply", "licence-mine"]
    assert keys(cast.clara) == keys(cast.olivia) == ["licence-apply", "licence-hall"]
    assert keys(cast.bella) == keys(cast.charlie) == ["licence-apply"]
