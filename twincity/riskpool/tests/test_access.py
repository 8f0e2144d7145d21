"""Every risk-pool predicate against the whole cast, and each list form against its single-object predicate."""

import inspect

import pytest
from django.contrib.auth.models import AnonymousUser

from twincity.riskpool import access, services

from .conftest import default, make_loan

# (predicate, the object it is asked about or None, who gets True)
TABLE = [
    ("can_view_guarantee", "guarantee", ("olivia", "bella", "gary")),
    ("can_view_claim", "claim", ("olivia", "bella", "gary")),
    ("can_attach_guarantee", "attach", ("olivia", "gary")),
    ("can_attach_any", None, ("olivia", "gary")),
    ("can_file_claim", "guarantee", ("olivia", "bella")),
    ("can_review_claim", "claim", ("olivia", "gary")),
    ("can_pay_claim", "claim", ("olivia",)),
    ("can_record_recovery", "claim", ("olivia", "bella", "gary")),
    ("can_create_pools", None, ("olivia",)),
    ("can_view_pool", "pool", ("olivia", "bella", "gary")),
    ("can_view_pool_figures", "pool", ("olivia", "gary")),
    ("can_manage_pool", "pool", ("olivia",)),
    ("can_use_riskpool", None, ("olivia", "bella", "bruno", "gary")),
    ("is_operator", "pool", ("olivia",)),
]
NOT_TABLED = {"can_act_on_claim", "guarantees_visible", "claims_visible", "pools_visible"}


@pytest.fixture
def objects(cast, pool, reguarantor):
    loan = make_loan(cast)
    g = services.guarantee_attach(actor=cast.gary, pool=pool, application=loan, guarantor=cast.guarantor,
                                  reguarantor=reguarantor)
    default(loan)
    claim = services.claim_file(actor=cast.bella, guarantee=g, amount="100.00")
    return {"guarantee": g, "claim": claim, "pool": pool}


@pytest.mark.parametrize(("name", "about", "allowed"), TABLE, ids=[row[0] for row in TABLE])
def test_each_predicate_answers_for_the_whole_cast(cast, objects, name, about, allowed):
    people = {**cast.personas, "anonymous": AnonymousUser()}
    predicate = getattr(access, name)
    answers = {}
    for who, user in people.items():
        if about is None:
            answers[who] = predicate(user)
        elif about == "attach":
            answers[who] = predicate(user, objects["pool"], cast.guarantor)
        else:
            answers[who] = predicate(user, objects[about])
    assert all(isinstance(a, bool) for a in answers.values())
    assert sorted(w for w, a in answers.items() if a) == sorted(allowed)


def test_every_predicate_is_tabled():
    tabled = {row[0] for row in TABLE}
    for name, function in inspect.getmembers(access, inspect.isfunction):
        if function.__module__ == access.__name__ and not name.startswith("_") and name not in NOT_TABLED:
            assert name in tabled, name


def test_the_list_forms_agree(cast, objects, reguarantor):
    other = services.guarantee_attach(actor=cast.gary, pool=objects["pool"], reguarantor=reguarantor,
                                      application=make_loan(cast, enterprise=cast.bob_co, lender=cast.bank_b_branch),
                                      guarantor=cast.guarantor)
    for who, user in {**cast.personas, "anonymous": AnonymousUser()}.items():
        for g in (objects["guarantee"], other):
            assert access.guarantees_visible(user).filter(pk=g.pk).exists() == access.can_view_guarantee(user, g), who
        assert access.pools_visible(user).filter(pk=objects["pool"].pk).exists() == \
            access.can_view_pool(user, objects["pool"]), who
        assert access.claims_visible(user).filter(pk=objects["claim"].pk).exists() == \
            access.can_view_guarantee(user, objects["claim"].guarantee), who
