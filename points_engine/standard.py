"""Scoring standards as versioned data: the model, validation, diff and derivation.

A standard is a JSON-serialisable dict (see README.md for the format). :class:`Standard` wraps a
validated, deep-copied dict and is immutable: a new version is made with :func:`derive_version`,
never by editing one in place.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Any, TypeGuard

from . import expr
from .backends import SHOW_FORMATS, SHOW_ROUNDING
from .errors import StandardError
from .facts import KNOWN_FIELDS

BANDING_TYPES = ("thresholds", "linear", "percentile", "flag", "map", "expert")
CATEGORY_KINDS = ("core", "bonus", "negative")
CLUSTERS = ("ic", "ev", "ict", "materials", "biomed", "equipment", "energy", "other")

#: Kinds of evaluation (``kind`` of a standard): id -> (中文, English). Several versions of the rules
#: share a kind; :func:`standard_in_force` picks the one in force on a date.
EVALUATION_KINDS: dict[str, tuple[str, str]] = {
    "tsme": ("科技型中小企业评价", "technology-based SME evaluation"),
    "hnte": ("高新技术企业认定", "high-tech enterprise recognition"),
    "innov": ("创新型中小企业评价", "innovative SME evaluation"),
    "srdi": ("专精特新中小企业认定", "specialised, refined, distinctive and innovative (SRDI) SME recognition"),
    "srdi_giant": ('专精特新"小巨人"企业认定', 'SRDI "little giant" enterprise recognition'),
    "scp": ("西部（重庆）科学城创新积分", "Western (Chongqing) Science City innovation points"),
}

#: What an evaluation is for: a new application (认定/申报) or a renewal (复核). A condition marked
#: ``"applies_to": "new"`` (or ``"renewal"``) is tested only in that mode; unmarked ones always are.
APPLICATIONS = ("new", "renewal")


@dataclass(frozen=True, eq=False)
class Standard:
    """An immutable, validated scoring standard. Build with :meth:`from_dict` or :func:`load_builtin`."""

    _data: dict[str, Any] = field(repr=False)

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Standard:
        """Validate ``d`` and wrap a deep copy of it. Raises StandardError listing every problem."""
        errors = validate_standard(d)
        if errors:
            raise StandardError(
                "标准无效 / invalid standard:\n" + "\n".join(f"- {e}" for e in errors), errors=errors
            )
        return cls(copy.deepcopy(d))

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the standard as plain JSON-serialisable data."""
        return copy.deepcopy(self._data)

    # -- identity -------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._data["id"]

    @property
    def version(self) -> str:
        return str(self._data["version"])

    @property
    def effective_from(self) -> dt.date:
        return dt.date.fromisoformat(self._data["effective_from"])

    @property
    def region(self) -> str:
        return self._data["region"]

    @property
    def name_zh(self) -> str:
        return self._data["name_zh"]

    @property
    def name_en(self) -> str:
        return self._data["name_en"]

    @property
    def provisional(self) -> bool:
        return bool(self._data.get("provisional", False))

    @property
    def kind(self) -> str | None:
        """The evaluation kind (a key of EVALUATION_KINDS). A definition stored before ``kind`` existed
        gets it from its id (``srdi-2022`` -> ``srdi``, ``srdi-giant-2026`` -> ``srdi_giant``)."""
        return self._data.get("kind") or kind_from_id(self.id)

    @property
    def superseded_from(self) -> dt.date | None:
        """The first day this version no longer applies (to new applications); None while current."""
        v = self._data.get("superseded_from")
        return dt.date.fromisoformat(v) if v else None

    def in_force(self, on: dt.date) -> bool:
        """``effective_from <= on < superseded_from``."""
        return self.effective_from <= on and (self.superseded_from is None or on < self.superseded_from)

    @property
    def switches(self) -> dict[str, bool]:
        """The administrator's switches (``switches.<name>.value``) the formulas read with switch('name')."""
        return {k: bool(v.get("value")) for k, v in (self._data.get("switches") or {}).items()}

    @property
    def has_score(self) -> bool:
        """False for a conditions-only standard (no indicators: no score, no score route)."""
        return bool(self._data.get("indicators"))

    @property
    def indicator_ids(self) -> list[str]:
        return [i["id"] for i in self._data.get("indicators", [])]

    @property
    def uses_percentiles(self) -> bool:
        return any(
            alt["banding"]["type"] == "percentile"
            for ind in self._data.get("indicators", [])
            for alt in _alternatives(ind)
        )

    @cached_property
    def compiled(self) -> Any:
        from .compiled import CompiledStandard

        return CompiledStandard(self._data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Standard) and self._data == other._data

    def __hash__(self) -> int:
        return hash((self.id, self.version))

    def __repr__(self) -> str:
        return f"Standard({self.id!r}, version={self.version!r})"


def kind_from_id(standard_id: str) -> str | None:
    """The evaluation kind an id names by its stem (the id without its last ``-`` part), if known."""
    stem = standard_id.rsplit("-", 1)[0].replace("-", "_") if "-" in standard_id else standard_id
    return stem if stem in EVALUATION_KINDS else None


def parse_expr(d: dict[str, Any], text: str) -> tuple:
    """Parse a formula of standard ``d`` with its switches bound (see expr.bind)."""
    switches = {k: bool(v.get("value")) for k, v in (d.get("switches") or {}).items() if isinstance(v, dict)}
    return expr.bind(expr.parse(text), switches)


def _alternatives(ind: dict[str, Any]) -> list[dict[str, Any]]:
    """An indicator is either one (value, banding) or ``best_of`` a list of alternatives."""
    if "best_of" in ind:
        return ind["best_of"]
    return [{"id": "main", "value": ind.get("value"), "banding": ind.get("banding", {})}]


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------


def _is_num(v: Any) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def validate_standard(d: Any) -> list[str]:
    """Return human-readable errors (Chinese / English); an empty list means the standard is valid."""
    errs: list[str] = []

    def err(where: str, zh: str, en: str) -> None:
        errs.append(f"{where}: {zh} / {en}")

    if not isinstance(d, dict):
        return ["标准必须是 JSON 对象 / a standard must be a JSON object"]
    for key in ("id", "version", "name_zh", "name_en", "effective_from", "region"):
        if not isinstance(d.get(key), str) or not d.get(key):
            err(key, "缺少或不是非空字符串", "missing or not a non-empty string")
    dates: dict[str, dt.date] = {}
    for key in ("effective_from", "superseded_from"):
        if key == "superseded_from" and d.get(key) is None:
            continue
        if isinstance(d.get(key), str):
            try:
                dates[key] = dt.date.fromisoformat(d[key])
            except ValueError:
                err(key, "日期格式应为 YYYY-MM-DD", "date must be YYYY-MM-DD")
        elif key == "superseded_from":
            err(key, "日期格式应为 YYYY-MM-DD", "date must be YYYY-MM-DD")
    if len(dates) == 2 and dates["superseded_from"] <= dates["effective_from"]:
        err("superseded_from", "必须晚于 effective_from", "must be after effective_from")
    if d.get("kind") is not None and d["kind"] not in EVALUATION_KINDS:
        err("kind", f"评价类型必须是 {tuple(EVALUATION_KINDS)} 之一", f"kind must be one of {tuple(EVALUATION_KINDS)}")
    switches = d.get("switches")
    switch_names: set[str] = set()
    if switches is not None:
        if not isinstance(switches, dict):
            err("switches", "必须是对象", "must be an object")
        else:
            for name, sw in switches.items():
                where = f"switches.{name}"
                if not isinstance(name, str) or not name.isidentifier():
                    err(where, "开关名必须是标识符", "a switch name must be an identifier")
                if not isinstance(sw, dict) or not isinstance(sw.get("value"), bool):
                    err(where, "需要布尔值 value", "needs a boolean value")
                    continue
                for k in ("name_zh", "name_en"):
                    if not isinstance(sw.get(k), str) or not sw.get(k):
                        err(where, f"缺少 {k}", f"missing {k}")
                switch_names.add(name)

    def check_expr(where: str, text: Any) -> list[str]:
        try:
            ast = expr.parse(text)
        except StandardError as exc:
            errs.append(f"{where}: {exc}")
            return []
        used = expr.fields(ast)
        for f in used:
            if f not in KNOWN_FIELDS:
                err(where, f"未知字段 {f}（见 facts.md）", f"unknown fact field {f} (see facts.md)")
        for name in expr.switch_names(ast):
            if name not in switch_names:
                err(where, f"未定义的开关 {name}（见 switches）", f"undefined switch {name} (see switches)")
        return used

    for sect in ("conditions", "direct_routes"):
        items = d.get(sect, [])
        if not isinstance(items, list):
            err(sect, "必须是列表", "must be a list")
            continue
        seen: set[str] = set()
        for i, c in enumerate(items):
            where = f"{sect}[{i}]"
            if not isinstance(c, dict) or not isinstance(c.get("id"), str):
                err(where, "需要 id", "needs an id")
                continue
            if c["id"] in seen:
                err(where, f"重复的 id {c['id']}", f"duplicate id {c['id']}")
            seen.add(c["id"])
            for k in ("name_zh", "name_en"):
                if not isinstance(c.get(k), str):
                    err(where, f"缺少 {k}", f"missing {k}")
            if c.get("applies_to") is not None and c["applies_to"] not in APPLICATIONS:
                err(f"{where}.applies_to", f"必须是 {APPLICATIONS} 之一", f"must be one of {APPLICATIONS}")
            check_expr(f"{where}.expr", c.get("expr"))
            show = c.get("show", [])
            if not isinstance(show, list) or (show and sect != "conditions"):
                err(f"{where}.show", "仅条件可有 show 列表", "only a condition may have a show list")
                continue
            for j, item in enumerate(show):
                sw = f"{where}.show[{j}]"
                if not isinstance(item, dict) or item.get("format") not in SHOW_FORMATS:
                    err(sw, f"需要 value 和 format（{SHOW_FORMATS}）", f"needs a value and a format in {SHOW_FORMATS}")
                    continue
                for k in ("label_zh", "label_en"):
                    if k in item and not isinstance(item[k], str):
                        err(f"{sw}.{k}", "必须是字符串", "must be a string")
                if item.get("rounding", "down") not in SHOW_ROUNDING:
                    err(f"{sw}.rounding", f"必须是 {SHOW_ROUNDING} 之一", f"must be one of {SHOW_ROUNDING}")
                check_expr(f"{sw}.value", item.get("value"))

    # a standard without indicators is conditions-only: no score, so no score rules either
    conditions_only = d.get("indicators") in (None, []) and d.get("categories") in (None, [])
    if conditions_only:
        if not d.get("conditions"):
            err("conditions", "仅有条件的标准至少需要一个条件", "a conditions-only standard needs at least one condition")
        score: dict[str, Any] = d["score"] if isinstance(d.get("score"), dict) else {}
        for key, present in (
            ("score.pass_mark", score.get("pass_mark") is not None),
            ("score.requirements", bool(score.get("requirements"))),
            ("grades", d.get("grades") is not None),
            ("peer_groups", d.get("peer_groups") is not None),
        ):
            if present:
                err(key, "没有指标的标准不能有评分规则", "a standard without indicators cannot have score rules")
    cats = d.get("categories")
    cat_ids: set[str] = set()
    if conditions_only:
        cats = []
    elif not isinstance(cats, list) or not cats:
        err("categories", "至少需要一个类别", "at least one category is required")
        cats = []
    for i, c in enumerate(cats):
        where = f"categories[{i}]"
        if not isinstance(c, dict) or not isinstance(c.get("id"), str):
            err(where, "需要 id", "needs an id")
            continue
        if c["id"] in cat_ids:
            err(where, f"重复的类别 {c['id']}", f"duplicate category {c['id']}")
        cat_ids.add(c["id"])
        if c.get("kind", "core") not in CATEGORY_KINDS:
            err(where, f"kind 必须是 {CATEGORY_KINDS}", f"kind must be one of {CATEGORY_KINDS}")
        for k in ("cap", "floor"):
            if c.get(k) is not None and (not _is_num(c[k]) or c[k] < 0):
                err(f"{where}.{k}", "必须是非负数", "must be a non-negative number")

    peer = d.get("peer_groups")
    inds = d.get("indicators")
    ind_ids: list[str] = []
    if conditions_only:
        inds = []
    elif not isinstance(inds, list) or not inds:
        err("indicators", "至少需要一个指标", "at least one indicator is required")
        inds = []
    for i, ind in enumerate(inds):
        where = f"indicators[{i}]"
        if not isinstance(ind, dict) or not isinstance(ind.get("id"), str):
            err(where, "需要 id", "needs an id")
            continue
        where = f"indicators.{ind['id']}"
        if ind["id"] in ind_ids:
            err(where, "重复的指标 id", "duplicate indicator id")
        ind_ids.append(ind["id"])
        for k in ("name_zh", "name_en"):
            if not isinstance(ind.get(k), str):
                err(where, f"缺少 {k}", f"missing {k}")
        if ind.get("category") not in cat_ids:
            err(where, f"类别 {ind.get('category')!r} 未定义", f"category {ind.get('category')!r} is not defined")
        mx = ind.get("max_points")
        if not _is_num(mx) or mx <= 0:
            err(f"{where}.max_points", "必须是正数", "must be a positive number")
            mx = None
        xf = ind.get("expert_field")
        if xf is not None and (xf not in KNOWN_FIELDS or not str(xf).startswith("x_")):
            err(f"{where}.expert_field", f"{xf!r} 不是专家输入字段", f"{xf!r} is not an expert input field (x_*)")
        if "best_of" in ind and (not isinstance(ind["best_of"], list) or len(ind["best_of"]) < 2):
            err(f"{where}.best_of", "至少需要两个备选", "needs at least two alternatives")
            continue
        alt_ids: set[Any] = set()
        for alt in _alternatives(ind):
            aw = where if "best_of" not in ind else f"{where}.best_of.{alt.get('id')}"
            if not isinstance(alt, dict):
                err(aw, "必须是对象", "must be an object")
                continue
            if alt.get("id") in alt_ids:
                err(aw, "重复的备选 id", "duplicate alternative id")
            alt_ids.add(alt.get("id"))
            b = alt.get("banding")
            if not isinstance(b, dict) or b.get("type") not in BANDING_TYPES:
                err(f"{aw}.banding", f"type 必须是 {BANDING_TYPES}", f"type must be one of {BANDING_TYPES}")
                continue
            if b["type"] == "expert":
                if xf is None:
                    err(aw, "专家评分指标需要 expert_field", "an expert banding needs expert_field")
                lo, hi = b.get("min", 0), b.get("max", mx)
                if not (_is_num(lo) and _is_num(hi) and 0 <= lo <= hi and (mx is None or hi <= mx)):
                    err(f"{aw}.banding", "min/max 必须满足 0 ≤ min ≤ max ≤ max_points", "need 0 <= min <= max <= max_points")
                continue
            check_expr(f"{aw}.value", alt.get("value"))
            _validate_banding(b, mx, f"{aw}.banding", err)
            if b["type"] == "percentile" and not isinstance(peer, dict):
                err(aw, "百分位分档需要 peer_groups", "percentile banding needs peer_groups")

    score = d.get("score", {})
    if not isinstance(score, dict):
        err("score", "必须是对象", "must be an object")
        score = {}
    if score.get("pass_mark") is not None and not _is_num(score["pass_mark"]):
        err("score.pass_mark", "必须是数字", "must be a number")
    for i, rq in enumerate(score.get("requirements", [])):
        if not isinstance(rq, dict) or rq.get("indicator") not in ind_ids or not _is_num(rq.get("min_exclusive")):
            err(f"score.requirements[{i}]", "需要已定义的 indicator 和 min_exclusive", "needs a defined indicator and min_exclusive")
    if score.get("clamp") is not None:
        c = score["clamp"]
        if not (isinstance(c, list) and len(c) == 2 and all(_is_num(x) for x in c) and c[0] <= c[1]):
            err("score.clamp", "必须是 [下限, 上限]", "must be [low, high]")
    grades = d.get("grades")
    if grades is not None:
        if not isinstance(grades, list) or not grades:
            err("grades", "必须是非空列表", "must be a non-empty list")
        else:
            mins: list[Any] = [g.get("min") if isinstance(g, dict) else None for g in grades]
            if not all(_is_num(m) for m in mins) or any(a <= b for a, b in zip(mins, mins[1:])):
                err("grades", "各档 min 必须是严格递减的数字", "grade minimums must be strictly decreasing numbers")
    if d.get("on_condition_fail", "fail") not in ("fail", "not_applicable"):
        err("on_condition_fail", "必须是 fail 或 not_applicable", "must be fail or not_applicable")
    if isinstance(peer, dict):
        _validate_peer(peer, ind_ids, err, check_expr)
    return errs


def _validate_banding(b: dict, mx: float | None, where: str, err: Any) -> None:
    typ = b["type"]
    if typ in ("thresholds", "flag", "map"):
        bands = b.get("bands")
        if typ == "flag":
            for k in ("true_points", "false_points"):
                if not _is_num(b.get(k)) or (mx is not None and not 0 <= b[k] <= mx):
                    err(f"{where}.{k}", "必须是 0 到 max_points 之间的数", "must be a number in [0, max_points]")
            return
        if not isinstance(bands, list) or not bands:
            err(where, "bands 必须是非空列表", "bands must be a non-empty list")
            return
        labels = set()
        for j, band in enumerate(bands):
            bw = f"{where}.bands[{j}]"
            if not isinstance(band, dict) or not isinstance(band.get("label"), str):
                err(bw, "需要 label", "needs a label")
                continue
            if band["label"] in labels:
                err(bw, "重复的档位", "duplicate band label")
            labels.add(band["label"])
            pts = band.get("points")
            rng: list[Any] = pts if isinstance(pts, list) else [pts, pts]
            if len(rng) != 2 or not all(_is_num(p) for p in rng) or rng[0] > rng[1] or rng[0] < 0 or (
                mx is not None and rng[1] > mx
            ):
                err(f"{bw}.points", "必须是 0 到 max_points 之间的数或 [低, 高]", "must be a number or [low, high] within [0, max_points]")
            if typ == "map":
                if "equals" not in band:
                    err(bw, "映射档需要 equals", "a map band needs equals")
                continue
            for k in ("lower", "upper"):
                if band.get(k) is not None and not _is_num(band[k]):
                    err(f"{bw}.{k}", "必须是数字", "must be a number")
    elif typ == "linear":
        lo, hi = b.get("from"), b.get("to")
        if not (_is_num(lo) and _is_num(hi) and lo < hi):
            err(where, "线性分档需要 from < to", "linear banding needs from < to")
    elif typ == "percentile":
        pass


def _validate_peer(peer: dict, ind_ids: list[str], err: Any, check_expr: Any) -> None:
    stages = peer.get("stages")
    if not isinstance(stages, list) or not stages:
        err("peer_groups.stages", "需要阶段列表", "needs a list of stages")
        return
    ids = [s.get("id") for s in stages]
    for i, s in enumerate(stages[:-1]):
        check_expr(f"peer_groups.stages[{i}].when", s.get("when"))
    clusters = peer.get("clusters")
    if not isinstance(clusters, list) or not clusters:
        err("peer_groups.clusters", "需要产业集群列表", "needs a list of clusters")
        clusters = []
    q = peer.get("quantiles")
    if not isinstance(q, int) or not 2 <= q <= 100:
        err("peer_groups.quantiles", "必须是 2 到 100 的整数", "must be an integer from 2 to 100")
    w = peer.get("stage_weights")
    if not isinstance(w, dict):
        err("peer_groups.stage_weights", "需要按阶段的权重", "needs weights by stage")
        return
    for sid in ids:
        ws = w.get(sid)
        if not isinstance(ws, dict):
            err(f"peer_groups.stage_weights.{sid}", "缺少该阶段的权重", "weights missing for this stage")
            continue
        for iid in ws:
            if iid not in ind_ids:
                err(f"peer_groups.stage_weights.{sid}.{iid}", "未知指标", "unknown indicator")
        if any(not _is_num(v) or v < 0 for v in ws.values()) or sum(ws.values()) <= 0:
            err(f"peer_groups.stage_weights.{sid}", "权重必须非负且和为正", "weights must be non-negative with a positive sum")
    for cid, mult in (peer.get("cluster_multipliers") or {}).items():
        if cid not in clusters:
            err(f"peer_groups.cluster_multipliers.{cid}", "未知集群", "unknown cluster")
        for iid, v in mult.items():
            if iid not in ind_ids or not _is_num(v) or v <= 0:
                err(f"peer_groups.cluster_multipliers.{cid}.{iid}", "未知指标或非正数", "unknown indicator or non-positive multiplier")


# ----------------------------------------------------------------------------------------------
# diff and derivation
# ----------------------------------------------------------------------------------------------


def _item_key(items: list) -> str | None:
    for key in ("id", "label", "stage"):
        if items and all(isinstance(x, dict) and key in x for x in items):
            if len({x[key] for x in items}) == len(items):
                return key
    return None


def _diff(a: Any, b: Any, path: str, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            _diff(a.get(k), b.get(k), f"{path}.{k}" if path else k, out)
        return
    if isinstance(a, list) and isinstance(b, list):
        ka, kb = _item_key(a), _item_key(b)
        if ka and ka == kb:
            ma, mb = {x[ka]: x for x in a}, {x[kb]: x for x in b}
            for k in list(ma) + [k for k in mb if k not in ma]:
                _diff(ma.get(k), mb.get(k), f"{path}.{k}", out)
            if [x[ka] for x in a if x[ka] in mb] != [x[kb] for x in b if x[kb] in ma]:
                out.append((f"{path}.@order", [x[ka] for x in a], [x[kb] for x in b]))
            return
    if a != b:
        out.append((path, copy.deepcopy(a), copy.deepcopy(b)))


def diff_standards(a: Standard | dict, b: Standard | dict) -> list[tuple[str, Any, Any]]:
    """Changes from ``a`` to ``b`` as ``(path, old, new)``.

    Paths are dotted; items of a list of objects are addressed by their ``id`` (or ``label`` for
    bands), e.g. ``indicators.staff.banding.bands.A.points``. ``old`` is None for an addition, ``new``
    None for a removal. ``derive_version(a, dict((p, new) for p, _, new in diff))`` rebuilds ``b``.
    """
    da = a.to_dict() if isinstance(a, Standard) else a
    db = b.to_dict() if isinstance(b, Standard) else b
    out: list[tuple[str, Any, Any]] = []
    _diff(da, db, "", out)
    return out


def _set_path(d: Any, parts: list[str], value: Any, full: str) -> None:
    head, rest = parts[0], parts[1:]
    if isinstance(d, dict):
        if not rest:
            if value is None:
                d.pop(head, None)
            else:
                d[head] = copy.deepcopy(value)
            return
        if head not in d:
            d[head] = {}
        _set_path(d[head], rest, value, full)
        return
    if isinstance(d, list):
        key = _item_key(d) or "id"
        if head == "@order" and not rest:
            order = {k: i for i, k in enumerate(value)}
            d.sort(key=lambda x: order.get(x.get(key), len(order)))
            return
        idx = next((i for i, x in enumerate(d) if isinstance(x, dict) and str(x.get(key)) == head), None)
        if idx is None and head.isdigit() and not any(isinstance(x, dict) for x in d):
            idx = int(head)
        if not rest:
            if value is None:
                if idx is not None:
                    d.pop(idx)
            elif idx is None:
                d.append(copy.deepcopy(value))
            else:
                d[idx] = copy.deepcopy(value)
            return
        if idx is None:
            raise StandardError(f"路径不存在 / path not found: {full}")
        _set_path(d[idx], rest, value, full)
        return
    raise StandardError(f"路径不存在 / path not found: {full}")


def derive_version(
    standard: Standard,
    changes: dict[str, Any] | list[tuple[str, Any]],
    *,
    version: str | None = None,
    effective_from: str | dt.date | None = None,
    superseded_from: str | dt.date | None = None,
) -> Standard:
    """A new Standard made from ``standard`` with ``changes`` applied (paths as in diff_standards).

    The new version must differ from the old one (pass ``version=`` or a ``"version"`` change);
    the original is left untouched. Every key is kept, ``kind``, ``superseded_from`` and ``switches``
    included (flip a switch with ``{"switches.<name>.value": True}``; drop ``superseded_from`` with
    ``{"superseded_from": None}``). Raises StandardError if the result is invalid.
    """
    d = standard.to_dict()
    if "kind" not in d and standard.kind is not None:
        d["kind"] = standard.kind  # a stored definition from before kinds: make it explicit
    items = changes.items() if isinstance(changes, dict) else changes
    for path, value in items:
        _set_path(d, path.split("."), value, path)
    if version is not None:
        d["version"] = str(version)
    if effective_from is not None:
        d["effective_from"] = str(effective_from)
    if superseded_from is not None:
        d["superseded_from"] = str(superseded_from)
    d["derived_from"] = {"id": standard.id, "version": standard.version}
    if d["version"] == standard.version and d["id"] == standard.id:
        raise StandardError(
            "新版本号必须与原版本不同 / the derived standard needs a new version "
            f"(still {standard.version!r})"
        )
    return Standard.from_dict(d)


# ----------------------------------------------------------------------------------------------
# built-in standards
# ----------------------------------------------------------------------------------------------

_BUILTIN: list[Standard] | None = None


def list_builtin() -> list[Standard]:
    """All built-in standards (every version), ordered by id then version."""
    global _BUILTIN
    if _BUILTIN is None:
        found = []
        for entry in sorted(resources.files("points_engine.standards").iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".json"):
                found.append(Standard.from_dict(json.loads(entry.read_text(encoding="utf-8"))))
        _BUILTIN = sorted(found, key=lambda s: (s.id, _version_key(s.version)))
    return list(_BUILTIN)


def _version_key(v: str) -> tuple:
    """Sort key of a version string: numeric parts as numbers, others as text ("1" < "1.1" < "2")."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in v.split("."))


def standard_in_force(kind: str, on: dt.date | str, standards: Iterable[Standard] | None = None) -> Standard:
    """The standard of evaluation ``kind`` in force on date ``on`` (``effective_from <= on <
    superseded_from``), among ``standards`` (default: the built-ins). Where several are in force (a
    derived version next to its base), the one with the latest ``effective_from`` wins, then the
    highest version. Raises StandardError for an unknown kind or when none is in force.

    This is the version for a new application. A renewal's version is configuration (a notice can
    order renewals under older rules): use the configured standard if there is one, else this.
    """
    if kind not in EVALUATION_KINDS:
        raise StandardError(
            f"未知评价类型 {kind!r}（可用：{', '.join(EVALUATION_KINDS)}）/ unknown evaluation kind {kind!r} "
            f"(known: {', '.join(EVALUATION_KINDS)})"
        )
    day = dt.date.fromisoformat(on) if isinstance(on, str) else on
    pool = list_builtin() if standards is None else list(standards)
    found = [s for s in pool if s.kind == kind and s.in_force(day)]
    if not found:
        raise StandardError(
            f"{day.isoformat()} 没有现行的 {EVALUATION_KINDS[kind][0]} 标准 / no {kind} standard is in force on "
            f"{day.isoformat()}"
        )
    return max(found, key=lambda s: (s.effective_from, _version_key(s.version)))


def load_builtin(standard_id: str, version: str | None = None) -> Standard:
    """A built-in standard by id; the latest version unless ``version`` is given."""
    matches = [s for s in list_builtin() if s.id == standard_id]
    if not matches:
        known = ", ".join(sorted({s.id for s in list_builtin()}))
        raise StandardError(f"未知标准 {standard_id!r}（可用：{known}）/ unknown standard {standard_id!r} (known: {known})")
    if version is None:
        return matches[-1]
    for s in matches:
        if s.version == str(version):
            return s
    raise StandardError(
        f"标准 {standard_id} 没有版本 {version!r} / standard {standard_id} has no version {version!r} "
        f"(versions: {', '.join(s.version for s in matches)})"
    )
