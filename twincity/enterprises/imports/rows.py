"""What the rows of an import file mean: each record's cells are cleaned by the registry's one validation and
become the same inputs the API gives the services (`enterprises_write`, `declarations_write`); what the services
refuse comes back as row errors naming the row and the column.
"""

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from twincity.enterprises import access
from twincity.enterprises.fields import DECLARATION_KEY_FIELDS, ENTERPRISE_FIELD, FIGURE, MONEY_FIGURES, FieldSpec
from twincity.enterprises.imports.files import (
    SOURCE_SUFFIX,
    VERIFIED_SUFFIX,
    ImportKind,
    Record,
    RowError,
    columns_for,
    shown,
)
from twincity.enterprises.services import (
    DeclarationInput,
    DeclarationPlan,
    EnterpriseInput,
    Outcome,
    declaration_inputs_clean,
    declarations_write_planned,
    declaring_companies,
    enterprises_write,
    fiscal_year_max,
)
from twincity.enterprises.validation import Invalid, clean_value, money_plain

CHANGES_SHOWN = 50  # changes listed by a dry run
_KEY = {spec.name: spec for spec in DECLARATION_KEY_FIELDS}


@dataclass
class ImportResult:
    kind: str
    filename: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged: int = 0  # declarations that fail a consistency check (stored with their flags, never refused)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ANSWERS_KEPT = 100_000  # distinct cells whose cleaning a walk remembers
_UNKNOWN = object()


@dataclass(frozen=True, slots=True)
class _Refused:
    reason_zh: str
    reason_en: str


@dataclass
class Walk:
    """The state of one pass over a file: counts, the first changes, the errors, the keys seen."""

    actor: Any
    kind: ImportKind
    filename: str
    result: ImportResult
    system: bool
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    errors_kept: int = 1000
    seen: dict[Any, int] = field(default_factory=dict)
    answers: dict[tuple[str, Any, int | None], Any] = field(default_factory=dict)  # see Walk.clean

    def clean(self, spec: FieldSpec, raw: Any, *, year_max: int | None = None) -> Any:
        """`validation.clean_value`, asked once per distinct cell of a column: a file repeats its years, head
        counts, sources and yes/no cells thousands of times. Money cells (rarely repeated) are always asked."""
        if spec.kind == "money":
            return clean_value(spec, raw, year_max=year_max)
        key = (spec.name, raw, year_max)
        answer = self.answers.get(key, _UNKNOWN)
        if answer is _UNKNOWN:
            try:
                answer = clean_value(spec, raw, year_max=year_max)
            except Invalid as exc:
                answer = _Refused(exc.reason_zh, exc.reason_en)
            if len(self.answers) < ANSWERS_KEPT:
                self.answers[key] = answer
        if type(answer) is _Refused:
            raise Invalid(answer.reason_zh, answer.reason_en)
        return answer

    @property
    def context(self) -> str:
        return f"import {self.filename}"[:255]

    def reject(self, errors: Sequence[RowError]) -> None:
        for error in errors:
            self.error_count += 1
            if len(self.errors) < self.errors_kept:
                self.errors.append(error)


def _cell_error(record: Record, column: str, exc: Invalid) -> RowError:
    return RowError(record.row, column, shown(record.values.get(column)), exc.reason_zh, exc.reason_en)


def _required(record: Record, name: str, errors: list[RowError]) -> None:
    if name not in record.values and not any(error.column == name for error in errors):
        errors.append(RowError(record.row, name, "", "必填项不能为空", f"{name} is required"))


def _duplicate(walk: Walk, record: Record, key: Any, column: str, text: str, errors: list[RowError]) -> None:
    first = walk.seen.setdefault(key, record.row)
    if first != record.row:
        errors.append(RowError(record.row, column, text, f"与第{first}行重复", f"duplicates row {first}"))


def _outcome_errors(record_row: int, values: dict[str, Any], outcome: Outcome) -> list[RowError]:
    return [RowError(record_row, problem.field, shown(values.get(problem.field)), problem.reason_zh,
                     problem.reason_en) for problem in outcome.problems]


def _count(walk: Walk, outcome: Outcome) -> None:
    result = walk.result
    if outcome.action == "create":
        result.created += 1
    elif outcome.action == "update":
        result.updated += 1
    elif outcome.action == "unchanged":
        result.unchanged += 1
    if outcome.flagged:
        result.flagged += 1
    if outcome.action in ("create", "update") and len(result.changes) < CHANGES_SHOWN:
        result.changes.append({"row": outcome.row, "action": outcome.action, "object": outcome.key,
                               "changes": outcome.changes})


# A row that passed the cell checks: (row number, its cleaned key and values, the raw cells for messages). Pass 1
# of an import keeps these, so pass 2 writes without reading or cleaning the file again.
EnterpriseRow = tuple[int, str, dict[str, Any], dict[str, Any]]
DeclarationRowIn = tuple[int, str, int, dict[str, Any], dict[str, Any], dict[str, Any]]


def enterprise_parse(walk: Walk, records: Sequence[Record]) -> list[EnterpriseRow]:
    """Clean the cells of a chunk of an enterprises file with the one validation; cell errors go to `walk`."""
    parsed: list[EnterpriseRow] = []
    for record in records:
        walk.result.rows += 1
        errors = list(record.errors)
        values: dict[str, Any] = {}
        for name, raw in record.values.items():
            try:
                values[name] = clean_value(ENTERPRISE_FIELD[name], raw)
            except Invalid as exc:
                errors.append(_cell_error(record, name, exc))
        _required(record, "credit_code", errors)
        code = values.pop("credit_code", None)
        if code:
            _duplicate(walk, record, code, "credit_code", code, errors)
        if errors:
            walk.reject(errors)
            continue
        parsed.append((record.row, code, values, record.values))
    return parsed


def enterprise_apply(walk: Walk, parsed: Sequence[EnterpriseRow], *, write: bool) -> None:
    """Hand the rows to the enterprises' one write path; what it refuses becomes row errors."""
    items = [EnterpriseInput(code, values, row=row) for row, code, values, _raw in parsed]
    outcomes = enterprises_write(actor=walk.actor, items=items, write=write and not walk.error_count,
                                 context=walk.context, system=walk.system)
    _settle(walk, outcomes, {row: raw for row, _code, _values, raw in parsed})


_FIGURE = ("figure", "")
_KEY_CELL = ("key", "")


def _role(name: str) -> tuple[str, str]:
    """What a declarations column holds: a key cell, a figure, or a figure's ("source" | "verified", figure)."""
    if name in _KEY:
        return _KEY_CELL
    if name.endswith(SOURCE_SUFFIX):
        return ("source", name.removesuffix(SOURCE_SUFFIX))
    if name.endswith(VERIFIED_SUFFIX):
        return ("verified", name.removesuffix(VERIFIED_SUFFIX))
    return _FIGURE


_ROLE = {column.name: _role(column.name) for column in columns_for("declarations")}


_MONEY = frozenset(MONEY_FIGURES)


def _figure_clean(clean: Callable[..., Any], name: str, raw: Any) -> Any:
    """A figure cell as `declaration_inputs_clean` cleans it, or None when it is not a valid value (a problem,
    or a column that is no figure): then that function says why."""
    spec = FIGURE.get(name)
    if spec is None:
        return None
    try:
        return clean(spec, raw)
    except Invalid:
        return None


def declaration_parse(walk: Walk, records: Sequence[Record]) -> list[DeclarationRowIn]:
    """Clean the cells of a chunk of a declarations file with the one validation; cell errors go to `walk`."""
    year_max = fiscal_year_max()
    clean = walk.clean
    parsed: list[DeclarationRowIn] = []
    for record in records:
        walk.result.rows += 1
        errors = list(record.errors)
        key: dict[str, Any] = {}
        raw_figures: dict[str, Any] = {}
        raw_provenance: dict[str, dict[str, Any]] = {}
        # The figures, cleaned as the cells are read while every one is a valid value (the common case); at the
        # first that is not, `declaration_inputs_clean` cleans them all below, problems and all.
        figures: dict[str, Any] | None = {}
        for name, raw in record.values.items():
            role = _ROLE.get(name)
            if role is None:
                role = _role(name)
            if role is _FIGURE:
                raw_figures[name] = raw
                if figures is not None:
                    value = money_plain(raw) if name in _MONEY and type(raw) is str else _figure_clean(clean, name, raw)
                    if value is None:
                        figures = None
                    else:
                        figures[name] = value
            elif role is _KEY_CELL:
                if name == "credit_code":  # unique per row: nothing to remember
                    cleaned = clean_value
                else:
                    cleaned = clean
                try:
                    key[name] = cleaned(_KEY[name], raw, year_max=year_max)
                except Invalid as exc:
                    errors.append(_cell_error(record, name, exc))
            else:
                raw_provenance.setdefault(role[1], {})[role[0]] = raw
        if figures is None:
            figures, provenance, problems = declaration_inputs_clean(raw_figures, raw_provenance, clean=clean)
        elif raw_provenance:
            _, provenance, problems = declaration_inputs_clean({}, raw_provenance, clean=clean)
        else:
            provenance, problems = {}, []
        for problem in problems:
            column = problem.field
            if column not in record.values and column in FIGURE:  # a provenance cell of this figure
                column = next(c for c in (column + SOURCE_SUFFIX, column + VERIFIED_SUFFIX) if c in record.values)
            errors.append(RowError(record.row, column, shown(record.values.get(column)), problem.reason_zh,
                                   problem.reason_en))
        _required(record, "credit_code", errors)
        _required(record, "fiscal_year", errors)
        code, year = key.get("credit_code"), key.get("fiscal_year")
        if code and year is not None:
            _duplicate(walk, record, (code, year), "fiscal_year", str(year), errors)
        if errors:
            walk.reject(errors)
            continue
        assert code is not None and year is not None  # a row without them has errors (_required)
        parsed.append((record.row, code, year, figures, provenance, record.values))
    return parsed


def declaration_apply(walk: Walk, parsed: Sequence[DeclarationRowIn], *, write: bool) -> DeclarationPlan:
    """Find each row's company and hand the rows to the declarations' one write path; what it refuses becomes
    row errors. Returns the plan (pass 1 spools what storing it writes); with `write`, stores it too."""
    # What the declarations' write path reads of a company: its id, its name (the audit entries) and its
    # organisation (the access predicates).
    enterprises = declaring_companies({p[1] for p in parsed})
    items: list[DeclarationInput] = []
    for row, code, year, figures, provenance, _raw in parsed:
        enterprise = enterprises.get(code)
        if enterprise is None:
            # The same answer for a company that does not exist and one the person may not change, so the
            # registry cannot be probed through imports.
            refused = walk.system or access.can_register_enterprise(walk.actor)
            walk.reject([RowError(row, "credit_code", code,
                                  "企业库中没有该企业，请先导入企业" if refused else "无权修改该企业",
                                  "this enterprise is not in the registry; import it first" if refused
                                  else "you may not change this enterprise")])
            continue
        items.append(DeclarationInput(enterprise, year, figures, provenance, row=row))
    plan = declarations_write_planned(actor=walk.actor, items=items, write=write and not walk.error_count,
                                      context=walk.context, system=walk.system)
    _settle(walk, plan.outcomes, {p[0]: p[5] for p in parsed})
    return plan


def _settle(walk: Walk, outcomes: list[Outcome], raw_by_row: dict[int, dict[str, Any]]) -> None:
    for outcome in outcomes:
        if outcome.problems:
            walk.reject(_outcome_errors(outcome.row or 0, raw_by_row.get(outcome.row or 0, {}), outcome))
        else:
            _count(walk, outcome)
