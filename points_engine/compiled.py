"""A standard's data compiled into the structures the plan walks (bands, alternatives, peer weights).

Built once per :class:`~points_engine.standard.Standard` (``Standard.compiled``) and shared by both paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import expr
from .facts import FACTS


@dataclass
class Band:
    label: str
    lower: float | None
    lower_inclusive: bool
    upper: float | None
    upper_inclusive: bool
    lo: float
    hi: float
    equals: Any = None
    review: dict | None = None


@dataclass
class Alt:
    id: str
    ast: tuple | None
    fields: list[str]
    btype: str
    bands: list[Band]
    spec: dict


@dataclass
class Ind:
    id: str
    name_zh: str
    name_en: str
    category: str
    max_points: float
    alts: list[Alt]
    expert_field: str | None
    higher_is_better: bool


@dataclass
class Show:
    """A value a failed condition's reason shows: a formula, how it reads (backends.SHOW_FORMATS) and
    its label (default: the facts.md label of a plain field, else none)."""

    ast: tuple
    fmt: str
    label_zh: str
    label_en: str
    rounding: str = "down"


@dataclass
class Component:
    """A hard condition or a direct route: its formula (switches bound) and the fields whose being
    unknown can make it unknown; ``applies_to`` is None (always), "new" or "renewal"."""

    id: str
    name_zh: str
    name_en: str
    ast: tuple
    fields: list[str]
    applies_to: str | None = None
    show: list[Show] = field(default_factory=list)

    def applies(self, application: str) -> bool:
        return self.applies_to is None or self.applies_to == application


class CompiledStandard:
    """A standard's data turned into the structures run_plan walks (built once, cached)."""

    def __init__(self, d: dict[str, Any]) -> None:
        self.d = d
        self.id = d["id"]
        self.version = str(d["version"])
        self.switches = {k: bool(v.get("value")) for k, v in (d.get("switches") or {}).items()}
        self.conditions = [self._component(c) for c in d.get("conditions", [])]
        self.routes = [self._component(c) for c in d.get("direct_routes", [])]
        self.categories = d.get("categories") or []
        self.cat_by_id = {c["id"]: c for c in self.categories}
        self.indicators = [self._indicator(i) for i in d.get("indicators") or []]
        self.has_score = bool(self.indicators)
        score = d.get("score", {})
        self.pass_mark = score.get("pass_mark")
        self.pass_inclusive = score.get("pass_inclusive", True)
        self.requirements = score.get("requirements", [])
        self.clamp = score.get("clamp")
        self.grades = d.get("grades")
        self.on_condition_fail = d.get("on_condition_fail", "fail")
        self.peer = d.get("peer_groups")
        self.percentile_inds = [
            (ind, alt) for ind in self.indicators for alt in ind.alts if alt.btype == "percentile"
        ]
        if self.peer:
            self._compile_peer(self.peer)

    def parse(self, text: str) -> tuple:
        """A formula of this standard, parsed, with its switches bound."""
        return expr.bind(expr.parse(text), self.switches)

    def conditions_for(self, application: str) -> list[Component]:
        """The hard conditions tested for a new application or a renewal."""
        return [c for c in self.conditions if c.applies(application)]

    def routes_for(self, application: str) -> list[Component]:
        """The direct routes open to a new application or a renewal."""
        return [r for r in self.routes if r.applies(application)]

    def _component(self, c: dict) -> Component:
        ast = self.parse(c["expr"])
        show = []
        for item in c.get("show", []):
            sast = self.parse(item["value"])
            spec = FACTS.get(sast[1]) if sast[0] == "field" else None
            show.append(
                Show(
                    sast,
                    item["format"],
                    item.get("label_zh", spec.title_zh if spec else ""),
                    item.get("label_en", spec.title_en if spec else ""),
                    item.get("rounding", "down"),
                )
            )
        return Component(
            c["id"], c["name_zh"], c["name_en"], ast, expr.reason_fields(ast), c.get("applies_to"), show
        )

    def _indicator(self, d: dict) -> Ind:
        alts_src = d["best_of"] if "best_of" in d else [{"id": "main", **d}]
        alts = []
        for a in alts_src:
            b = a["banding"]
            ast = self.parse(a["value"]) if b["type"] != "expert" else None
            bands: list[Band] = []
            if b["type"] in ("thresholds", "map"):
                for band in b["bands"]:
                    pts = band["points"]
                    lo, hi = (pts, pts) if not isinstance(pts, list) else pts
                    bands.append(
                        Band(
                            band["label"],
                            band.get("lower"),
                            band.get("lower_inclusive", True),
                            band.get("upper"),
                            band.get("upper_inclusive", False),
                            lo,
                            hi,
                            band.get("equals"),
                            band.get("review"),
                        )
                    )
            elif b["type"] == "flag":
                bands = [
                    Band(b.get("true_label", "yes"), None, True, None, False, b["true_points"], b["true_points"], True),
                    Band(b.get("false_label", "no"), None, True, None, False, b["false_points"], b["false_points"], False),
                ]
            alts.append(Alt(a.get("id", "main"), ast, expr.reason_fields(ast) if ast else [], b["type"], bands, b))
        return Ind(
            d["id"],
            d["name_zh"],
            d["name_en"],
            d["category"],
            d["max_points"],
            alts,
            d.get("expert_field"),
            d.get("direction", "higher") == "higher",
        )

    def _compile_peer(self, p: dict) -> None:
        self.stage_ids = [s["id"] for s in p["stages"]]
        self.stage_rules = [(i, self.parse(s["when"])) for i, s in enumerate(p["stages"][:-1])]
        self.stage_fields: list[str] = []
        for _, ast in self.stage_rules:
            for f in expr.reason_fields(ast):
                if f not in self.stage_fields:
                    self.stage_fields.append(f)
        self.clusters = list(p["clusters"])
        self.cluster_field = p.get("cluster_field", "industry_cluster")
        self.default_cluster = self.clusters.index(p.get("default_cluster", self.clusters[-1]))
        self.quantiles = int(p["quantiles"])
        self.min_peer_size = int(p.get("min_peer_size", 30))
        self.scale = p.get("scale", 1000)
        self.group_keys = [f"{s}|{c}" for s in self.stage_ids for c in self.clusters]
        # effective weight factor per (indicator, group code): points = raw * factor
        core_cats = {c["id"] for c in self.categories if c.get("kind", "core") == "core"}
        weighted = [i for i in self.indicators if i.category in core_cats]
        self.weight_factor: dict[str, list[float]] = {i.id: [] for i in weighted}
        self.weight_max: dict[str, list[float]] = {i.id: [] for i in weighted}
        mults = p.get("cluster_multipliers") or {}
        for s in self.stage_ids:
            ws = p["stage_weights"][s]
            for c in self.clusters:
                m = mults.get(c, {})
                raw = {i.id: ws.get(i.id, 0) * m.get(i.id, 1) for i in weighted}
                total = sum(raw.values())
                for i in weighted:
                    share = raw[i.id] / total
                    self.weight_max[i.id].append(self.scale * share)
                    self.weight_factor[i.id].append(self.scale * share / i.max_points)

    def group_code_of(self, stage: int, cluster: int) -> int:
        return stage * len(self.clusters) + cluster

