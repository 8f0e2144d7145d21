"""A person's main flows through the registry, in a real browser."""

import re

from twincity.enterprises.models import AnnualDeclaration
from twincity.testing import PASSWORD, Cast

from .conftest import login, nav_click


def test_alice_logs_in_opens_her_enterprise_and_imports_a_declaration(page, settings, tmp_path):
    settings.IMPORT_RUN_INLINE = True  # the live server runs in this process: the job finishes in the request
    cast = Cast.create()
    login(page, "alice", PASSWORD)

    nav_click(page, "/enterprises/mine/")
    page.wait_for_url(re.compile(rf"/enterprises/{cast.alice_co.credit_code}/$"))
    assert page.locator("h1").inner_text() == cast.alice_co.name
    assert cast.bob_co.name not in page.content()

    declaration_file = tmp_path / "declarations.csv"
    declaration_file.write_text(
        "credit_code,fiscal_year,employees,rd_staff,sales,rd,cost\n"
        f"{cast.alice_co.credit_code},2025,120,150,8800.5,640.25,7900\n",
        encoding="utf-8",
    )
    nav_click(page, "/enterprises/import/")
    page.select_option("select[name=kind]", "declarations")
    page.set_input_files("input[type=file]", str(declaration_file))
    page.click("button[name=action][value=import]")
    page.wait_for_selector("[data-import-status=done]")
    assert page.locator("[data-count=created] .value").inner_text() == "1"
    assert page.locator("[data-count=flagged] .value").inner_text() == "1"

    declaration = AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=2025)
    assert declaration.employees == 120
    assert [flag["code"] for flag in declaration.flags] == ["rd_staff_exceeds_employees"]

    page.goto(f"{page.base_url}/enterprises/{cast.alice_co.credit_code}/")
    assert page.locator("table.declarations th", has_text="2025").count() == 1
    assert page.locator("li.flag[data-code=rd_staff_exceeds_employees]").count() == 1
    page.screenshot(path=str(tmp_path / "alice-enterprise.png"), full_page=True)


def test_bob_cannot_open_alice_enterprise(page):
    cast = Cast.create()
    login(page, "bob", PASSWORD)
    response = page.goto(f"{page.base_url}/enterprises/{cast.alice_co.credit_code}/")
    assert response.status == 404
    assert cast.alice_co.name not in page.content()
