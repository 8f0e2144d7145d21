"""The pure rules (no database): the definition's checks, the materials for acceptance and decision, the table."""

import pytest

from twincity.govservices import rules

from .conftest import DEFINITION


def test_definition_normalised_and_every_problem_listed():
    d = rules.definition_check(DEFINITION)
    assert d["materials"][0] == {"code": "id_card", "name": "居民身份证", "required": True, "tolerated": False,
                                 "held": False, "situations": []}
    with pytest.raises(rules.DefinitionError) as exc:
        rules.definition_check({
            "situations": [{"code": "a", "name": "A"}, {"code": "a", "name": "B"}],
            "materials": [{"code": "x", "name": "X", "situations": ["zz"]},
                          {"code": "y", "name": "Y", "tolerated": True, "held": True}],
            "pause_steps": [{"code": "correction", "name": "补正"}, {"code": "s", "name": "S", "max_days": 400}]})
    assert exc.value.extra["errors"] == [
        "situations: 情形代码重复 / duplicate situation codes",
        "materials[0].situations: 未知情形 ['zz'] / unknown situations",
        "materials[1]: 政府已有的材料无需容缺 / a material held by the government is not tolerated",
        "pause_steps[0]: “correction”为保留代码 / 'correction' is reserved",
        "pause_steps[1]: 须有代码、名称与最长工作日（0–365） / a code, a name and max_days 0–365",
    ]


def test_materials_by_situation_and_state():
    d = rules.definition_check(DEFINITION)
    assert [m["code"] for m in rules.materials_for(d, ["first"])] == ["id_card", "photo", "licence", "extra"]
    assert rules.material_states(d, ["transfer"], {"photo": "pledged", "licence": "submitted"}) == {
        "id_card": "missing", "photo": "pledged", "licence": "held", "transfer_form": "missing", "extra": "missing"}
    assert rules.missing_for_acceptance(d, ["transfer"], {"photo": "pledged"}) == ["id_card", "transfer_form"]
    rules.acceptance_check(d, ["first"], {"id_card": "submitted", "photo": "pledged"})
    with pytest.raises(rules.MaterialsMissing) as exc:
        rules.decision_check(d, ["first"], {"id_card": "submitted", "photo": "pledged"}, "approve")
    assert exc.value.code == "pledged_not_supplied"
    rules.decision_check(d, ["first"], {}, "refuse")
    with pytest.raises(rules.RuleError):
        rules.decision_check(d, [], {}, "maybe")


def test_the_table_has_no_shortcut():
    reachable = {"collected"}
    frontier = ["collected", "received"]
    while frontier:
        state = frontier.pop()
        for action in rules.allowed_actions(state):
            nxt = rules.transition(state, action)
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    assert reachable == set(rules.STATES)
    for final in rules.FINAL:
        assert rules.allowed_actions(final) == []
    # Every way to "decided" goes through "handling", which only acceptance enters.
    assert {s for (s, a), n in rules._TABLE.items() if n == "decided"} == {"handling"}
    assert {(s, a) for (s, a), n in rules._TABLE.items() if n == "handling"} == {("received", "accept"),
                                                                                ("paused", "resume")}
    with pytest.raises(rules.IllegalTransition) as exc:
        rules.transition("received", "close")
    assert exc.value.extra["allowed"] == ["accept", "notify_correction", "refuse_intake", "withdraw"]


def test_rating_rule():
    assert rules.rating_check("closed", False, 5) == 5
    for state, rated, grade, code in (("delivered", False, 5, "not_closed"), ("closed", True, 5, "already_rated"),
                                      ("closed", False, 0, "invalid_grade"), ("closed", False, True, "invalid_grade")):
        with pytest.raises(rules.RuleError) as exc:
            rules.rating_check(state, rated, grade)
        assert exc.value.code == code
