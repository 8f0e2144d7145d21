"""Every predicate of licences.access against the persona cast, the list form agreeing with the single-object
predicate, and the navigation entries (extends tests/test_access_predicates.py and tests/test_navigation.py)."""

import inspect

import pytest
from django.contrib.auth.models import AnonymousUser

from twincity.core.navigation import nav_entries
from twincity.licences import access, services
from twincity.licences.models import IndustryLicence
from twincity.licences.tests.conftest import FORM
from twincity.testing import PERSONA_NAMES


@pytest.fixture
def world(cast, yy):
    app = services.application_start(actor=cast.bob, package=yy.cq_catering,
                                     answers={"area": 50, "seats": 10, "food_prep": False, "tobacco": False,
                                              "outdoor_sign": False})
    app = services.application_submit(actor=cast.bob, application=app, form=FORM, materials={})
    people = {**cast.personas, "anonymous": AnonymousUser()}
    return {"app": app, "people": people, "component": app.components.get(), "package": yy.cq_catering,
            "licence": IndustryLicence(application=app)}  # not issued yet: the predicate reads its application


ALL = (*PERSONA_NAMES, "anonymous")
TABLE = [
    ("can_view_packages", None, set(PERSONA_NAMES)),
    ("can_view_package", "package", set(PERSONA_NAMES)),
    ("can_edit_packages", None, {"olivia"}),
    ("can_export_packages", None, {"olivia", "clara", "chen", "hank"}),
    ("can_apply_online", None, {"alice", "bob", "ruby"}),
    ("can_take_intake", None, {"clara", "chen"}),
    ("can_apply", None, {"alice", "bob", "ruby", "clara", "chen"}),
    ("can_view_application", "app", {"bob", "ruby", "clara", "olivia"}),  # ruby: bob's colleague
    ("can_view_licence", "licence", {"bob", "ruby", "clara", "olivia"}),
    ("can_view_component", "component", {"bob", "ruby", "clara", "olivia"}),
    ("can_submit", "app", {"bob", "ruby"}),
    ("can_set_licence_disclosure", "app", {"bob", "ruby", "olivia"}),
    ("can_inspect", "app", {"clara", "olivia"}),
    ("can_issue", "app", {"clara", "olivia"}),
    ("can_change_component", "component", {"clara", "olivia"}),
    ("can_view_hall_list", None, {"clara", "chen", "hank", "olivia"}),
]


@pytest.mark.parametrize(("name", "obj", "allowed"), TABLE)
def test_predicate(world, name, obj, allowed):
    allowed = {who for who in allowed if who in world["people"]}
    fn = getattr(access, name)
    got = {who for who, user in world["people"].items()
           if (fn(user, world[obj]) if obj else fn(user))}
    assert got == allowed


def test_every_predicate_is_tested():
    tested = {name for name, _o, _a in TABLE}
    for name, function in inspect.getmembers(access, inspect.isfunction):
        if function.__module__ == access.__name__ and not name.startswith("_") and name != "applications_visible":
            assert name in tested, name


def test_list_form_agrees(world):
    for who, user in world["people"].items():
        listed = set(access.applications_visible(user).values_list("pk", flat=True))
        assert (world["app"].pk in listed) == access.can_view_application(user, world["app"]), who


NAV = {"licence-apply": access.can_view_packages, "licence-mine": access.can_apply_online,
       "licence-hall": access.can_view_hall_list}


def test_nav_entries_follow_their_predicates(client, cast):
    entries = {e.key: e for e in nav_entries() if e.key.startswith("licence-")}
    assert set(entries) == set(NAV)
    for key, entry in entries.items():
        assert entry.visible is NAV[key]
    for who in PERSONA_NAMES:
        user = getattr(cast, who)
        client.force_login(user)
        shown = {item.key for item in client.get("/").context["navigation"]}
        for key, predicate in NAV.items():
            assert (key in shown) == predicate(user), (who, key)
            if key in shown:
                url = next(i.url for i in client.get("/").context["navigation"] if i.key == key)
                assert client.get(url).status_code == 200, (who, key)
