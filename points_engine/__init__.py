"""points_engine: the pure innovation-points scoring engine of twincity.

Pure Python + polars; it never imports django, ninja or twincity. Stable public API (the Django app
calls only these names):

Standards (versioned data, see README.md)
    list_builtin() -> list[Standard]
    load_builtin(standard_id: str, version: str | None = None) -> Standard
    Standard.from_dict(d: dict) -> Standard          # validates; raises StandardError
    Standard.to_dict() -> dict                        # JSON-serialisable deep copy
    validate_standard(d: dict) -> list[str]           # human-readable errors, zh / en; [] = valid
    diff_standards(a, b) -> list[tuple[path, old, new]]
    derive_version(standard, changes, *, version=None, effective_from=None, superseded_from=None) -> Standard
    Standard.kind / .superseded_from / .in_force(date) / .switches / .has_score
    EVALUATION_KINDS: dict[kind, (中文, English)]      # tsme, hnte, innov, srdi, srdi_giant, scp
    APPLICATIONS = ("new", "renewal")
    standard_in_force(kind, on: date, standards=None) -> Standard
        the version of an evaluation kind in force on a date (effective_from <= on < superseded_from;
        latest effective_from wins); built-ins by default, or pass the stored versions

Scoring
    score_batch(facts: polars.DataFrame | list[dict], standard, *, evaluation_date=None,
                reference=None, on_error="raise", keep_input=True, application="new") -> BatchResult
        columnar (polars) path; BatchResult.frame has the columns id, standard, version, verdict,
        route, score_min, score_max, grade, [stage, peer_group,] reasons, points.<indicator>...,
        band.<indicator>..., then the input columns; BatchResult.reference is the frozen peer
        distribution used (store it with the run and pass it back to reproduce results).
    score_batch_many(facts, standards, *, evaluation_date=None, references=None, on_error="raise",
                     keep_input=True, application="new") -> dict[standard_id, BatchResult]
        score_batch under several standards at once (facts coerced once, plans collected together).
    build_reference(standard, facts, *, evaluation_date=None) -> dict | None
    explain(facts: dict, standard, *, evaluation_date=None, reference=None, application="new") -> Explanation
        single-record path (pure Python); Explanation.to_row() has the batch row shape;
        Explanation.conditions / .direct_routes: ConditionResult(id, name_zh, name_en, met, values).
    application="renewal" scores a renewal (复核): conditions marked applies_to "new" are skipped and
    those marked "renewal" tested (e.g. the 2026 quality score: either of the last two years).

Facts
    FACTS: dict[str, FactSpec]                        # facts.md in order: name, type, label_zh, label_en,
                                                      # unit, group, stem, year (one vocabulary)
    read_facts(path) -> polars.DataFrame              # .csv / .xlsx, facts.md coercion

Errors
    EngineError -> FactsError (row, column), StandardError (errors), ExpertInputError (row, column, band)

Verdicts: pass, fail, expert_dependent, needs_review, not_applicable. Routes: score, direct, "".
"""

import hashlib as _hashlib
from pathlib import Path as _Path

from .batch import BatchResult, build_reference, score_batch, score_batch_many
from .errors import EngineError, ExpertInputError, FactsError, StandardError
from .facts import FACTS, FactSpec, read_facts
from .single import ConditionResult, Explanation, IndicatorResult, explain
from .standard import (
    APPLICATIONS,
    EVALUATION_KINDS,
    Standard,
    derive_version,
    diff_standards,
    list_builtin,
    load_builtin,
    standard_in_force,
    validate_standard,
)

__version__ = "1.1"


def _engine_version() -> str:
    """The version, plus a digest of the scoring code: any change to how results are computed changes it,
    so a stored result is never re-explained by an engine that may compute it differently."""
    digest = _hashlib.sha256()
    for path in sorted(_Path(__file__).parent.glob("*.py")):
        if path.name not in ("cli.py", "synthetic.py"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"


ENGINE_VERSION = _engine_version()

__all__ = [
    "APPLICATIONS",
    "ENGINE_VERSION",
    "EVALUATION_KINDS",
    "FACTS",
    "BatchResult",
    "ConditionResult",
    "EngineError",
    "ExpertInputError",
    "Explanation",
    "FactSpec",
    "FactsError",
    "IndicatorResult",
    "Standard",
    "StandardError",
    "build_reference",
    "derive_version",
    "diff_standards",
    "explain",
    "list_builtin",
    "load_builtin",
    "read_facts",
    "score_batch",
    "score_batch_many",
    "standard_in_force",
    "validate_standard",
]
