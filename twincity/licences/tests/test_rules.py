"""The pure rules of 一业一证, table-driven: which permits apply to which answers, the merged materials, the
limits, the definition check."""

import pytest

from twincity.demo.licences import catering_definition, maternal_definition
from twincity.licences import rules

CATERING = rules.definition_check(catering_definition("chongqing"))
MATERNAL = rules.definition_check(maternal_definition("chengdu"))


@pytest.mark.parametrize(("answers", "expected"), [
    ({"area": 80, "seats": 20, "food_prep": True, "tobacco": False, "outdoor_sign": False}, ["food"]),
    ({"area": 300, "seats": 20, "food_prep": True, "tobacco": False, "outdoor_sign": False}, ["food", "fire"]),
    ({"area": 299.5, "seats": 100, "food_prep": False, "tobacco": False, "outdoor_sign": False}, ["food", "fire"]),
    ({"area": 299, "seats": 99, "food_prep": True, "tobacco": True, "outdoor_sign": False}, ["food", "tobacco"]),
    ({"area": 320, "seats": 80, "food_prep": True, "tobacco": True, "outdoor_sign": True},
     ["food", "fire", "sign", "tobacco"]),
])
def test_catering_components_follow_the_answers(answers, expected):
    clean = rules.answers_check(CATERING, answers)
    assert [c["code"] for c in rules.applying_components(CATERING, clean)] == expected


@pytest.mark.parametrize(("answers", "expected", "food_situations"), [
    ({"area": 60, "formula": False, "devices": False, "outdoor_sign": False}, [], None),
    ({"area": 60, "formula": True, "devices": False, "outdoor_sign": False}, ["food"], ["special_food"]),
    ({"area": 400, "formula": False, "devices": True, "outdoor_sign": True}, ["device2", "sign", "fire"], None),
])
def test_maternal_components_and_situations(answers, expected, food_situations):
    chosen = rules.applying_components(MATERNAL, rules.answers_check(MATERNAL, answers))
    assert [c["code"] for c in chosen] == expected
    food = [c for c in chosen if c["code"] == "food"]
    assert (food[0]["applied_situations"] if food else None) == food_situations


@pytest.mark.parametrize(("answers", "errors"), [
    ({"area": -1, "seats": 1, "food_prep": True, "tobacco": False, "outdoor_sign": False}, ["area"]),
    ({"area": "abc", "seats": 1, "food_prep": "maybe", "tobacco": False, "outdoor_sign": False}, ["area", "food_prep"]),
    ({"seats": 1, "food_prep": True, "tobacco": False, "outdoor_sign": False}, ["area"]),
    ({"area": 1, "seats": 1, "food_prep": True, "tobacco": None, "outdoor_sign": False, "pets": True},
     ["tobacco", "pets"]),
])
def test_answers_refused_name_each_question(answers, errors):
    with pytest.raises(rules.PackageError) as exc:
        rules.answers_check(CATERING, answers)
    assert exc.value.code == "answers_invalid"
    assert sorted(exc.value.extra["errors"]) == sorted(errors)


@pytest.mark.parametrize(("clause", "answers", "holds"), [
    ({"q": "n", "op": ">", "value": 3}, {"n": 4}, True),
    ({"q": "n", "op": ">", "value": 3}, {"n": 3}, False),
    ({"q": "n", "op": "<=", "value": 3}, {"n": 3}, True),
    ({"q": "n", "op": "<", "value": 3}, {"n": 3}, False),
    ({"q": "c", "op": "in", "value": ["a", "b"]}, {"c": "b"}, True),
    ({"q": "c", "op": "!=", "value": "a"}, {"c": "a"}, False),
    ({"q": "n", "op": ">=", "value": 3}, {}, False),
])
def test_clauses(clause, answers, holds):
    assert rules.condition_holds({"all": [clause]}, answers) is holds


M = lambda code, **kw: {"code": code, "name": code.upper(), "required": kw.get("required", True),  # noqa: E731
                        "tolerated": kw.get("tolerated", False), "held": kw.get("held", False)}


@pytest.mark.parametrize(("parts", "expected"), [
    # the same material asked by three permits is asked once, for all three
    ([("a", [M("licence", held=True), M("id")]), ("b", [M("licence", held=True), M("plan")]),
      ("c", [M("id"), M("plan")])],
     [("licence", True, False, True, ["a", "b"]), ("id", True, False, False, ["a", "c"]),
      ("plan", True, False, False, ["b", "c"])]),
    # required wins over optional; tolerated only if every permit tolerates it
    ([("a", [M("rules", required=False, tolerated=True)]), ("b", [M("rules", tolerated=False)])],
     [("rules", True, False, False, ["a", "b"])]),
    ([("a", [M("rules", tolerated=True)]), ("b", [M("rules", tolerated=True)])],
     [("rules", True, True, False, ["a", "b"])]),
    # held by the government anywhere: nothing to upload, never tolerated
    ([("a", [M("x", tolerated=True)]), ("b", [M("x", held=True)])], [("x", True, False, True, ["a", "b"])]),
    ([], []),
])
def test_merge_materials(parts, expected):
    merged = rules.merge_materials(parts)
    assert [(m["code"], m["required"], m["tolerated"], m["held"], m["components"]) for m in merged] == expected


@pytest.mark.parametrize(("limits", "inspection", "expected"), [
    ([(10, 20), (10, 13), (5, 10)], 3, {"promised_days": 13, "legal_days": 23}),
    ([(1, 5)], 0, {"promised_days": 1, "legal_days": 5}),
    ([], 3, {"promised_days": 0, "legal_days": 0}),
])
def test_limits_are_parallel(limits, inspection, expected):
    assert rules.package_limits(limits, inspection) == expected


@pytest.mark.parametrize(("definition", "fragment"), [
    ({"questions": [], "components": []}, "components: 套餐至少含一项许可"),
    ({"questions": [{"code": "a", "text": "A", "kind": "bool"}],
      "components": [{"code": "x", "item_code": "i", "when": {"all": [{"q": "a", "op": ">", "value": 1}]}}]},
     "大小比较只用于数值问题"),
    ({"questions": [], "components": [{"code": "x", "item_code": "i", "when": {"all": [{"q": "zz", "op": "="}]}}]},
     "须引用已定义的问题"),
    ({"questions": [], "components": [{"code": "x", "item_code": "i"}, {"code": "y", "item_code": "i"}]},
     "同一事项不能出现两次"),
    ({"questions": [], "components": [{"code": "x", "item_code": "i"}], "inspection_days": 61}, "inspection_days"),
])
def test_definition_check_names_the_problem(definition, fragment):
    with pytest.raises(rules.PackageError) as exc:
        rules.definition_check(definition)
    assert any(fragment in e for e in exc.value.extra["errors"])


def test_notice_merges_and_counts():
    answers = rules.answers_check(CATERING, {"area": 320, "seats": 80, "food_prep": True, "tobacco": True,
                                             "outdoor_sign": True})
    items = {}
    for code, materials, promised, legal in (
            ("000131024000-cq", [M("business_licence", held=True), M("id_card"), M("premises"), M("layout")], 10, 20),
            ("000125049000-cq", [M("business_licence", held=True), M("layout"), M("fire_form")], 10, 13),
            ("sign-cq", [M("business_licence", held=True), M("premises"), M("sign_design")], 5, 10),
            ("tobacco-cq", [M("business_licence", held=True), M("id_card"), M("premises"), M("tobacco_form")], 10, 20)):
        items[code] = {"name": code, "promised_limit_days": promised, "legal_limit_days": legal, "materials": materials,
                       "situations": ["hot_food"]}
    notice = rules.notice(CATERING, answers, items)
    assert [c["code"] for c in notice["components"]] == ["food", "fire", "sign", "tobacco"]
    assert notice["components"][0]["situations"] == ["hot_food"]
    assert [m["code"] for m in notice["materials"]] == ["business_licence", "id_card", "premises", "layout",
                                                       "fire_form", "sign_design", "tobacco_form"]
    assert (notice["promised_days"], notice["legal_days"]) == (13, 23)
    assert rules.material_count((c, items[i]["materials"]) for c, i in
                                zip(["food", "fire", "sign", "tobacco"], items)) == (14, 7)
    with pytest.raises(rules.PackageError) as exc:
        rules.notice(CATERING, answers, {k: v for k, v in items.items() if k != "sign-cq"})
    assert exc.value.extra == {"missing": ["sign-cq"]}
