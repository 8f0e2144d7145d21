"""Every instrument access predicate against the whole persona cast, and the list forms against them."""

import inspect
from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser

from twincity.instruments import access, services
from twincity.instruments.models import SampleJob, Statement, UsageSession
from twincity.instruments.tests.conftest import NOW, TUE9, make_instrument
from twincity.testing import PERSONA_NAMES

SIGNED_IN = PERSONA_NAMES
H = TUE9 - TUE9.replace(hour=8)


@pytest.fixture
def people(cast):
    return {**cast.personas, "anonymous": AnonymousUser()}


@pytest.fixture
def objects(cast):
    sem = make_instrument(cast.institute)
    retired = make_instrument(cast.institute, name="旧电镜")
    retired.status = retired.Status.RETIRED
    retired.save()
    booking = services.booking_create(actor=cast.alice, instrument=sem, starts_at=TUE9, ends_at=TUE9 + H, now=NOW)
    session = UsageSession.objects.create(instrument=sem, booking=booking, user=cast.alice,
                                          organisation=cast.alice_org, started_at=TUE9, ended_at=TUE9 + H,
                                          source="operator")
    statement = Statement.objects.create(payer=cast.alice_org, owner=cast.institute, month=date(2026, 12, 1))
    job = SampleJob.objects.create(instrument=sem, requester=cast.alice, organisation=cast.alice_org, title="t",
                                   rate_class="industry")
    series, _ = services.series_create(actor=cast.alice, instrument=sem, rrule="FREQ=DAILY;COUNT=2",
                                       first_start=TUE9 + 2 * H, first_end=TUE9 + 3 * H, now=NOW)
    return {"sem": sem, "retired": retired, "booking": booking, "session": session, "statement": statement,
            "job": job, "owner": cast.institute, "series": series}


TABLE = [
    ("is_researcher", None, ("owen", "felix")),
    ("can_view_catalogue", None, SIGNED_IN),
    ("can_view_instrument", "sem", SIGNED_IN),
    ("can_view_instrument", "retired", ("owen", "olivia")),
    ("can_manage_instrument", "sem", ("owen", "olivia")),
    ("can_book_any", None, ("alice", "bob", "ruby", "owen", "felix", "olivia")),
    ("can_book", "sem", ("alice", "bob", "ruby", "owen", "felix", "olivia")),
    ("can_book", "retired", ()),
    ("can_override_rules", None, ("olivia",)),
    ("can_approve_any", None, ("owen", "olivia")),
    ("can_decide", "booking", ("owen", "olivia")),
    ("can_view_booking", "booking", ("alice", "owen", "olivia")),
    ("can_cancel", "booking", ("alice", "owen", "olivia")),
    ("can_change", "booking", ("alice", "olivia")),
    ("can_record_usage", "sem", ("owen", "olivia")),
    ("can_rate_session", "session", ("alice",)),
    ("can_view_statements_any", None, ("alice", "bob", "felix", "owen", "olivia", "ruby")),
    ("can_view_statement", "statement", ("alice", "owen", "olivia")),
    ("can_issue_statements", "owner", ("owen", "olivia")),
    ("can_request_job", "sem", ("alice", "bob", "felix", "owen", "olivia", "ruby")),
    ("can_request_job", "retired", ()),
    ("can_view_job", "job", ("alice", "owen", "olivia")),
    ("can_operate_job", "job", ("owen", "olivia")),
    ("can_request_side", "job", ("alice", "olivia")),
    ("can_view_jobs_any", None, ("alice", "bob", "felix", "owen", "olivia", "ruby")),
    ("can_view_evaluation_any", None, ("owen", "olivia")),
    ("can_change_series", "series", ("alice", "olivia")),
    ("can_cancel_series", "series", ("alice", "owen", "olivia")),
    ("can_view_series", "series", ("alice", "owen", "olivia")),
    ("can_manage_owner", "owner", ("owen", "olivia")),
    ("can_import_catalogue", None, ("owen", "olivia")),
]


@pytest.mark.parametrize(("name", "about", "allowed"), TABLE, ids=[f"{n}:{a}" for n, a, _w in TABLE])
def test_each_predicate_answers_for_the_whole_cast(people, objects, name, about, allowed):
    predicate = getattr(access, name)
    answers = {who: predicate(user) if about is None else predicate(user, objects[about])
               for who, user in people.items()}
    assert all(isinstance(answer, bool) for answer in answers.values()), answers
    assert sorted(who for who, answer in answers.items() if answer) == sorted(allowed)


def test_every_predicate_is_tested():
    tested = {name for name, _a, _w in TABLE}
    for name, function in inspect.getmembers(access, inspect.isfunction):
        if function.__module__ == access.__name__ and name not in {"owner_of", "instruments_managed",
                                                                   "bookings_visible", "statements_visible",
                                                                   "jobs_visible", "evaluation_owners"}:
            assert name in tested, name


def test_the_list_forms_agree(people, objects, cast):
    assert {who: access.owner_of(user) for who, user in people.items() if access.owner_of(user)} == {
        "owen": cast.institute}
    for who, user in people.items():
        for key in ("sem", "retired"):
            managed = access.instruments_managed(user).filter(pk=objects[key].pk).exists()
            assert managed == access.can_manage_instrument(user, objects[key]), (who, key)
        listed = access.bookings_visible(user).filter(pk=objects["booking"].pk).exists()
        assert listed == access.can_view_booking(user, objects["booking"]), who
        listed = access.jobs_visible(user).filter(pk=objects["job"].pk).exists()
        assert listed == access.can_view_job(user, objects["job"]), who
        owners = list(access.evaluation_owners(user))
        assert owners == ([cast.institute] if access.can_view_evaluation_any(user) else []), who
