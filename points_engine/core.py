"""Compatibility module: the engine's core, now split along its seams.

* :mod:`points_engine.compiled` — a standard compiled into bands, alternatives and peer weights;
* :mod:`points_engine.backends` — ``PyBackend`` (one dict) and ``PlBackend`` (polars expressions), reason masks;
* :mod:`points_engine.plan` — ``run_plan``, the scoring algorithm as named steps;
* :mod:`points_engine.facts` — ``prepare_row`` / ``prepare_frame`` (facts.md defaults, derived reg_days).

The names below stay importable from here.
"""

from __future__ import annotations

from .backends import PlBackend, PyBackend, ReasonMasks, decode_reasons, join_reasons
from .compiled import Alt, Band, CompiledStandard, Component, Ind
from .facts import prepare_frame, prepare_row
from .plan import (
    VERDICTS,
    _band_cond,
    build_percentile_table,
    group_code,
    percentile_table,
    run_plan,
    unknown_pieces,
)

__all__ = [
    "VERDICTS",
    "Alt",
    "Band",
    "CompiledStandard",
    "Component",
    "Ind",
    "PlBackend",
    "PyBackend",
    "ReasonMasks",
    "_band_cond",
    "build_percentile_table",
    "decode_reasons",
    "group_code",
    "join_reasons",
    "percentile_table",
    "prepare_frame",
    "prepare_row",
    "run_plan",
    "unknown_pieces",
]
