"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against pytest-django's live server."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _plain_http_live_server():
    """The live server builds its middleware once, when the session starts it, so the function-scoped
    settings fixture of the root conftest turns the HTTPS redirect off too late for it. Turning it off
    for the whole browser session, before the live server starts, keeps Chromium on plain http."""
    from django.test import override_settings

    with override_settings(SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False):
        yield


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's 'chromium' package (see .ci/run)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make to set
    # up data are still plain synchronous calls. Set for the browser session only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server, transactional_db):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = live_server.url
    yield page
    context.close()


def login(page, username: str, password: str) -> None:
    page.goto(f"{page.base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{page.base_url}/")


def nav_click(page, href: str) -> None:
    """Follow the navigation bar's link to `href`, opening its menu first when it sits in one."""
    menu = page.locator(f"nav.mainnav details.navmenu:has(a[href='{href}'])")
    if menu.count():
        menu.locator("summary").click()
    page.click(f"nav.mainnav a[href='{href}']")


def assert_nav_one_line(page) -> None:
    """The navigation bar keeps to one line at the page's width (1280 px): it is no taller than one of its links."""
    nav = page.locator("nav.mainnav").bounding_box()
    link = page.locator("nav.mainnav > a").first.bounding_box()
    assert nav is not None and link is not None
    assert nav["height"] <= link["height"] + 1, (nav, link)
