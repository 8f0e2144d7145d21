"""Known registry figures for the points tests: alice's and bob's companies, three fiscal years each.

Evaluation date EVAL (2026-06-30): y3 = 2025, y2 = 2024, y1 = 2023.
"""

from datetime import date

from twincity.enterprises.models import Enterprise
from twincity.enterprises.services import declaration_upsert
from twincity.points import selectors, services, tasks

EVAL = date(2026, 6, 30)

ALICE_YEARS = {
    2023: {"employees": 80, "tech_staff": 25, "rd_staff": 15, "sales": 3000, "oprev": 3000, "main": 2900, "na": 2000,
           "assets": 6000, "liab": 4000, "rd": 250, "rd_dom": 250, "cost": 2600, "total_income": 3100,
           "hitech_rev": 2000, "net_profit": 200, "tax": 150, "equity_new": 500, "tech_contract": 100},
    2024: {"employees": 90, "tech_staff": 30, "rd_staff": 18, "sales": 4000, "oprev": 4000, "main": 3900, "na": 2500,
           "assets": 7000, "liab": 4500, "rd": 320, "rd_dom": 300, "cost": 3300, "total_income": 4100,
           "hitech_rev": 2800, "net_profit": 300, "tax": 200, "equity_new": 0, "tech_contract": 150},
    2025: {"employees": 100, "tech_staff": 35, "rd_staff": 20, "sales": 5000, "oprev": 5000, "main": 4800, "na": 3000,
           "assets": 8000, "liab": 5000, "rd": 400, "rd_dom": 380, "cost": 4000, "total_income": 5100,
           "hitech_rev": 3500, "net_profit": 450, "tax": 260, "equity_new": 1000, "tech_contract": 220},
}
BOB_YEARS = {
    2023: {"employees": 180, "tech_staff": 40, "rd_staff": 30, "sales": 8000, "oprev": 8000, "main": 7800, "na": 5000,
           "assets": 12000, "liab": 7000, "rd": 400, "rd_dom": 400, "cost": 7500, "total_income": 8100,
           "hitech_rev": 5000, "net_profit": 300, "tax": 400, "equity_new": 0, "tech_contract": 300},
    2024: {"employees": 190, "tech_staff": 42, "rd_staff": 32, "sales": 9000, "oprev": 9000, "main": 8800, "na": 5500,
           "assets": 13000, "liab": 7500, "rd": 420, "rd_dom": 420, "cost": 8400, "total_income": 9100,
           "hitech_rev": 6000, "net_profit": 350, "tax": 450, "equity_new": 0, "tech_contract": 320},
    2025: {"employees": 200, "tech_staff": 44, "rd_staff": 34, "sales": 10000, "oprev": 10000, "main": 9800,
           "na": 6000, "assets": 14000, "liab": 8000, "rd": 450, "rd_dom": 450, "cost": 9000, "total_income": 10100,
           "hitech_rev": 7000, "net_profit": 400, "tax": 500, "equity_new": 0, "tech_contract": 350},
}


def seed(cast) -> None:
    """Profile facts and declarations for alice's and bob's companies."""
    Enterprise.objects.filter(pk__in=[cast.alice_co.pk, cast.bob_co.pk]).update(
        resident=True, prohibited=False, compliant=True, is_sme=True, ip_I_acq=0, ip_I_hv=2, transforms_3y=3
    )
    for enterprise, years in ((cast.alice_co, ALICE_YEARS), (cast.bob_co, BOB_YEARS)):
        for year, figures in years.items():
            declaration_upsert(actor=cast.olivia, enterprise=enterprise, fiscal_year=year, figures=figures)
    cast.alice_co.refresh_from_db()
    cast.bob_co.refresh_from_db()


def run(cast, standard_id: str = "tsme-2017", version: str = "1", evaluation_date: date = EVAL):
    standard = selectors.standard_get(standard_id=standard_id, version=version)
    run = services.scoring_run_create(actor=cast.olivia, standard=standard, evaluation_date=evaluation_date)
    tasks.scoring_run_start(run=run)
    run.refresh_from_db()
    return run


def extra_enterprise(code: str, name: str, *, city: str = "chongqing", cluster: str = "ic", employees: int,
                     tech_staff: int, sales: int, rd: int, cost: int, ip_I_self: int = 0, ip_II: int = 0):
    """One more enterprise with just the y3 (2025) figures the tsme standard reads."""
    from twincity.enterprises.models import AnnualDeclaration

    enterprise = Enterprise.objects.create(
        credit_code=code, name=name, city=city, industry_cluster=cluster, registered_on=date(2015, 1, 1),
        resident=True, prohibited=False, compliant=True, is_sme=True, ip_I_self=ip_I_self, ip_I_acq=0, ip_II=ip_II,
    )
    AnnualDeclaration.objects.create(enterprise=enterprise, fiscal_year=2025, employees=employees,
                                     tech_staff=tech_staff, rd_staff=tech_staff, sales=sales, rd=rd, cost=cost,
                                     assets=sales)
    return enterprise


TSME_GRADES = [{"grade": "A", "min": 90}, {"grade": "B", "min": 70}, {"grade": "C", "min": 0}]


def known_set(cast):
    """alice 100, bob 72 (chengdu) and three Chongqing companies: 90, 40 (fails the pass mark), 72."""
    seed(cast)
    extra_enterprise("T00000000000000003", "丙公司", employees=100, tech_staff=30, sales=1000, rd=50, cost=10000,
                     ip_I_self=1)
    extra_enterprise("T00000000000000004", "丁公司", cluster="ev", employees=100, tech_staff=15, sales=1000, rd=30,
                     cost=10000, ip_II=2)
    extra_enterprise("T00000000000000005", "戊公司", cluster="ev", employees=100, tech_staff=20, sales=1000, rd=40,
                     cost=10000, ip_I_self=1)


def tsme_with_grades(cast):
    base = selectors.standard_get(standard_id="tsme-2017", version="1")
    definition = services.standard_changes_apply(base=base, changes={"grades": TSME_GRADES})
    return services.standard_version_create(actor=cast.olivia, base=base, definition=definition, version="2",
                                            note="grades for the whitelist")
