"""An administrator sets up a new bank branch and its credit officer, in a real browser."""

import re

from twincity.accounts.models import Organisation, User
from twincity.core.models import AuditEntry
from twincity.testing import PASSWORD, Cast

from .conftest import assert_nav_one_line, login, nav_click


def test_olivia_creates_a_branch_and_its_officer_and_the_officer_logs_in(page, browser, live_server):
    cast = Cast.create()
    login(page, "olivia", PASSWORD)
    assert_nav_one_line(page)  # the administrator's bar, the longest, fits one line at 1280 px

    nav_click(page, "/accounts/organisations/")
    page.wait_for_url(re.compile(r"/accounts/organisations/$"))
    form = page.locator("#organisation-create")
    form.locator("input[name=name]").fill("重庆农村商业银行两江新区支行")
    form.locator("select[name=kind]").select_option("bank")
    form.locator("select[name=city]").select_option("chongqing")
    form.locator("select[name=parent]").select_option(label=cast.bank_a.name)
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/organisations/\d+/$"))
    assert page.locator("h1").inner_text() == "重庆农村商业银行两江新区支行"
    branch = Organisation.objects.get(name="重庆农村商业银行两江新区支行")
    assert (branch.kind, branch.city, branch.parent) == ("bank", "chongqing", cast.bank_a)

    nav_click(page, "/accounts/organisations/")
    page.click("p.tabs >> text=用户")
    page.wait_for_url(re.compile(r"/accounts/users/$"))
    form = page.locator("#user-create")
    form.locator("input[name=username]").fill("dora")
    form.locator("input[name=display_name]").fill("Dora 朵拉")
    form.locator("select[name=role]").select_option("bank_officer")
    form.locator("select[name=organisation]").select_option(label=branch.name)
    form.locator("input[name=password]").fill("dora-passphrase-2026")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/users/dora/$"))
    assert "Dora 朵拉" in page.locator("h1").inner_text()
    dora = User.objects.get(username="dora")
    assert (dora.role, dora.organisation) == ("bank_officer", branch)
    assert AuditEntry.objects.filter(object_type="accounts.user", object_id=str(dora.pk), action="create").exists()

    # The new officer sees the registry, as every bank officer does, and not the administration pages.
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    other = context.new_page()
    other.base_url = live_server.url
    login(other, "dora", "dora-passphrase-2026")
    assert other.locator("nav >> text=企业库").count() == 1
    assert other.locator("text=机构与用户").count() == 0
    context.close()
