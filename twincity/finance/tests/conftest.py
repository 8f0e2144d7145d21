from datetime import date

import pytest

from twincity.demo.finance import demo_products
from twincity.enterprises.services import qualification_add
from twincity.finance.models import FinancialProduct
from twincity.points.tests import scenario

# The cast's organisations by persona key (twincity.testing.ORGANISATION_ATTRIBUTES and the others it creates).


@pytest.fixture(autouse=True)
def _runs_inline(settings):
    settings.POINTS_RUN_INLINE = True


def cast_organisations(cast) -> dict:
    from twincity.accounts.models import Organisation
    from twincity.demo.personas import ORGANISATIONS

    by_name = {o.name: o for o in Organisation.objects.all()}
    return {spec.key: by_name[spec.name] for spec in ORGANISATIONS if spec.name in by_name}


@pytest.fixture
def products(cast):
    """The demo products of the institutions the cast has (crcb_kxc, cq_guarantee; plus those created here)."""
    from twincity.accounts.models import Organisation
    from twincity.demo.personas import ORGANISATIONS

    orgs = cast_organisations(cast)
    specs = {spec.key: spec for spec in ORGANISATIONS}
    for key in ("cdb_cq", "ccb", "ccb_cq", "cqb", "cqb_kxc", "kxc_fund"):
        if key not in orgs:
            spec = specs[key]
            orgs[key] = Organisation.objects.create(name=spec.name, kind=spec.kind, city=spec.city,
                                                    parent=orgs.get(spec.parent))
    made = demo_products(orgs)
    FinancialProduct.objects.bulk_create(made)
    return {p.product_id: p for p in FinancialProduct.objects.all()}


@pytest.fixture
def scored(cast):
    """alice's and bob's registry figures (points scenario), HNTE + TSME titles, scored under scp-v1 on
    2026-06-30."""
    scenario.seed(cast)
    for enterprise in (cast.alice_co, cast.bob_co):
        for number, kind in enumerate(("hnte", "tsme")):
            qualification_add(actor=cast.olivia, enterprise=enterprise, kind=kind, certificate_no=f"C{number}",
                              valid_from=date(2024, 1, 1))
    return scenario.run(cast, "scp-v1")
