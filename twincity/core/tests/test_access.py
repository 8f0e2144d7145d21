"""The kernel's access helpers: 403 for an action refused, 404 for what a person may not see or does not exist."""

import pytest

from twincity.core.access import NOT_FOUND, require, visible, visible_to
from twincity.core.errors import Forbidden, NotFound


def may_see(user, obj) -> bool:
    return obj["owner"] == user


def test_visible_to_answers_the_object_or_the_same_404_whether_it_is_hidden_or_missing():
    mine = {"owner": "alice"}
    assert visible_to("alice", mine, may_see) is mine
    with pytest.raises(NotFound) as hidden:
        visible_to("bob", mine, may_see, "没有该记录 (no such record)")
    with pytest.raises(NotFound) as missing:
        visible_to("bob", None, may_see, "没有该记录 (no such record)")
    assert (hidden.value.message, hidden.value.code) == (missing.value.message, missing.value.code) == (
        "没有该记录 (no such record)", "not_found")


def test_the_predicate_is_not_asked_about_nothing():
    def refuse_none(user, obj):
        raise AssertionError("asked about None")

    with pytest.raises(NotFound) as missing:
        visible_to("alice", None, refuse_none)
    assert missing.value.message == NOT_FOUND


def test_require_and_visible():
    require(True)
    with pytest.raises(Forbidden):
        require(False)
    assert visible(1) == 1
    with pytest.raises(NotFound):
        visible(None)
