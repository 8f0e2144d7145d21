"""Every talent access predicate against the whole persona cast, and the list forms against them."""

import inspect
from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser

from twincity.talent import access, services
from twincity.talent.tests.conftest import B_EVIDENCE, panda_card
from twincity.testing import PERSONA_NAMES

pytestmark = pytest.mark.django_db
TALENT = ("alice", "bob", "ruby", "owen", "felix")


@pytest.fixture
def people(cast):
    return {**cast.personas, "anonymous": AnonymousUser()}


@pytest.fixture
def objects(cast, schemes):
    card = panda_card(cast, schemes, evidence=B_EVIDENCE, on=date(2026, 3, 1))
    pending = services.application_submit(actor=cast.alice, applicant=cast.alice, scheme=schemes["phoenix"],
                                          evidence=B_EVIDENCE, on=date(2026, 3, 1))
    return {"card": card, "pending": pending, "phoenix": schemes["phoenix"], "panda": schemes["panda"],
            "ruby": cast.ruby, "charlie": cast.charlie}


TABLE = [
    ("is_talent", None, TALENT),
    ("can_hold_card", None, TALENT),
    ("can_apply_for", "ruby", ("ruby", "bob")),  # herself, or bob for his company
    ("can_apply_for", "charlie", ()),
    ("can_manage_card", "card", ("ruby",)),
    ("can_view_card", "card", ("ruby", "chen", "olivia")),  # chen: a clerk of the card's city (成都)
    ("can_review_any", None, ("clara", "chen", "hank", "olivia")),
    ("can_review_scheme", "phoenix", ("clara", "hank", "olivia")),
    ("can_review_scheme", "panda", ("chen", "olivia")),
    ("can_review", "pending", ("clara", "hank", "olivia")),
    ("can_view_application", "pending", ("alice", "clara", "hank", "olivia")),
    ("can_manage_schemes", None, ("olivia",)),
]


@pytest.mark.parametrize(("name", "about", "allowed"), TABLE, ids=[f"{n}:{a}" for n, a, _w in TABLE])
def test_each_predicate_answers_for_the_whole_cast(people, objects, name, about, allowed):
    predicate = getattr(access, name)
    answers = {who: predicate(user) if about is None else predicate(user, objects[about])
               for who, user in people.items()}
    assert sorted(who for who, answer in answers.items() if answer) == sorted(allowed)


def test_every_predicate_is_tested():
    tested = {name for name, _a, _w in TABLE}
    for name, function in inspect.getmembers(access, inspect.isfunction):
        if function.__module__ == access.__name__ and not name.endswith("_visible") and name != "applications_reviewable":
            assert name in tested, name


def test_the_list_forms_agree(people, objects):
    for who, user in people.items():
        assert access.cards_visible(user).filter(pk=objects["card"].pk).exists() == access.can_view_card(
            user, objects["card"]), who
        assert access.applications_reviewable(user).filter(pk=objects["pending"].pk).exists() == access.can_review(
            user, objects["pending"]), who


def test_the_cast_is_whole():
    assert {"ruby", "felix"} <= set(PERSONA_NAMES)
