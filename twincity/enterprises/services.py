"""Writes to the enterprise registry: one write path per entity.

`enterprises_write` and `declarations_write` take a batch of already-cleaned inputs (from the API, a page
form, or a chunk of an import file), check each against the access predicates, merge it with the stored row
through the pure merge of `validation`, and — when asked to write — store the rows in bulk with one audit
entry per changed row. The single-object services below (`enterprise_create`, `declaration_upsert`, …) are
that same path with a batch of one, raising the first problem as an error.
"""

import decimal
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from django.db import connection, transaction
from django.db.models import signals
from django.db.models.base import ModelState
from django.utils import timezone

from twincity.core.access import require
from twincity.core.audit import (
    audit_entries_write,
    audit_entry_build,
    audit_record,
    audit_row,
    audit_rows_write,
    audit_rows_write_encoded,
    creation_changes,
    creation_changes_text,
    diff,
    plain,
    snapshot,
)
from twincity.core.bulk import bulk_insert, bulk_insert_encoded, bulk_update, bulk_update_encoded
from twincity.core.errors import Conflict, Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.enterprises import access
from twincity.enterprises.consistency import PREVIOUS_YEAR_FIGURES
from twincity.enterprises.fields import ENTERPRISE_FIELD, FIGURE, FIGURE_NAMES, PROFILE_FIELD_NAMES
from twincity.enterprises.models import AnnualDeclaration, Enterprise, Qualification
from twincity.enterprises.validation import (
    CLEAR,
    DeclarationRow,
    Invalid,
    Problem,
    clean_credit_code,
    clean_fiscal_year,
    clean_source,
    clean_value,
    declaration_merge,
    profile_merge,
)

BATCH = 500  # rows per bulk statement


def fiscal_year_max() -> int:
    """The latest fiscal year a declaration may be for: the current one (in Asia/Shanghai)."""
    return timezone.localdate().year


def _problems_to_error(problems: Sequence[Problem], message_zh: str, message_en: str) -> Exception:
    """One error for the problems of a single write: 403 when it is a matter of permission, else 422."""
    fields: dict[str, list[str]] = {}
    for problem in problems:
        fields.setdefault(problem.field, []).append(f"{problem.reason_zh} ({problem.reason_en})")
    forbidden = [p for p in problems if p.forbidden]
    if forbidden:
        first = forbidden[0]
        return Forbidden(f"{first.reason_zh} ({first.reason_en}): {first.field}", extra={"fields": fields})
    first = problems[0]
    return InvalidInput(f"{message_zh}：{first.field} {first.reason_zh} ({message_en}: {first.reason_en})",
                        extra={"fields": fields})


def clean_values(specs: Mapping[str, Any], raw: Mapping[str, Any], *, year_max: int | None = None,
                 clean: Callable[..., Any] = clean_value) -> tuple[dict[str, Any], list[Problem]]:
    """Clean every given value with `validation.clean_value` (or `clean`: the same function remembering its
    answers, as an import passes); unknown names are problems."""
    cleaned: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, value in raw.items():
        spec = specs.get(name)
        if spec is None:
            problems.append(Problem(name, "未知字段", "unknown field"))
            continue
        try:
            cleaned[name] = clean(spec, value, year_max=year_max)
        except Invalid as exc:
            problems.append(Problem(name, exc.reason_zh, exc.reason_en))
    return cleaned, problems


# --- enterprises -----------------------------------------------------------------------------------------------


@dataclass
class EnterpriseInput:
    credit_code: str  # cleaned
    values: dict[str, Any]  # cleaned profile values (or CLEAR), only those given
    row: int | None = None  # the file row it came from
    # "create" refuses an existing code, "update" a missing one; "upsert" does either.
    mode: Literal["create", "update", "upsert"] = "upsert"


@dataclass
class Outcome:
    """What a write did (or, in a dry run, would do) with one input. `changes` ({field: {before, after}}) is
    worked out when first read: an import shows only its first few."""

    action: Literal["create", "update", "unchanged", "refused"]
    key: str
    row: int | None = None
    problems: list[Problem] = field(default_factory=list)
    flagged: bool = False
    instance: Any = None
    changed: list[str] = field(default_factory=list)  # the names of the fields that change
    _describe: Callable[[], dict[str, dict[str, Any]]] | None = None
    _changes: dict[str, dict[str, Any]] | None = None

    @property
    def changes(self) -> dict[str, dict[str, Any]]:
        if self._changes is None:
            self._changes = self._describe() if self._describe is not None else {}
        return self._changes

    @changes.setter
    def changes(self, value: dict[str, dict[str, Any]]) -> None:
        self._changes = value


def _changes(before: Mapping[str, Any], after: Mapping[str, Any], names: Iterable[str]) -> dict[str, dict[str, Any]]:
    return {name: {"before": before.get(name), "after": after.get(name)} for name in names}


def enterprises_write(*, actor, items: Sequence[EnterpriseInput], write: bool, context: str = "",
                      system: bool = False) -> list[Outcome]:
    """Create or update enterprises (one batch). Returns an outcome per input, in order; writes (and audits)
    only when `write` and no input has a problem: a batch is stored whole or not at all.

    `system=True` is the command line acting as the platform itself (every field, every company).
    """
    existing = {e.credit_code: e for e in Enterprise.objects.filter(credit_code__in={i.credit_code for i in items})}
    outcomes: list[Outcome] = []
    creates: list[Enterprise] = []
    updates: list[tuple[Enterprise, dict, dict]] = []
    update_fields: set[str] = set()
    for item in items:
        enterprise = existing.get(item.credit_code)
        outcome = Outcome(action="refused", key=item.credit_code, row=item.row)
        outcomes.append(outcome)
        if enterprise is None:
            if item.mode == "update":
                outcome.problems.append(Problem("credit_code", "企业库中没有该企业", "no such enterprise"))
                continue
            if not (system or access.can_register_enterprise(actor)):
                # The same answer whether or not the company exists, so the registry cannot be probed.
                outcome.problems.append(Problem("credit_code", "无权修改该企业", "you may not change this enterprise",
                                                forbidden=True))
                continue
            editable = PROFILE_FIELD_NAMES
            current = None
        else:
            if item.mode == "create":
                outcome.problems.append(Problem("credit_code", "该统一社会信用代码已存在",
                                                "credit code already registered"))
                continue
            editable = PROFILE_FIELD_NAMES if system else access.editable_profile_fields(actor, enterprise)
            if not editable:
                outcome.problems.append(Problem("credit_code", "无权修改该企业", "you may not change this enterprise",
                                                forbidden=True))
                continue
            current = {name: getattr(enterprise, name) for name in ENTERPRISE_FIELD if name != "credit_code"}
        change = profile_merge(current, item.values, editable=editable)
        if change.problems:
            outcome.problems.extend(change.problems)
            continue
        if enterprise is None:
            outcome.action = "create"
            new = Enterprise(credit_code=item.credit_code, **change.values)
            outcome.changes = {name: {"before": None, "after": value}
                               for name, value in snapshot(new, list(change.values)).items()
                               if value not in (None, "")}
            outcome.instance = new
            existing[item.credit_code] = new  # a second row of the same code in this batch updates it
            creates.append(new)
            continue
        if not change.changed:
            outcome.action = "unchanged"
            outcome.instance = enterprise
            continue
        outcome.action = "update"
        before = snapshot(enterprise, change.changed)
        for name in change.changed:
            setattr(enterprise, name, change.values[name])
        after = snapshot(enterprise, change.changed)
        outcome.changes = _changes(before, after, change.changed)
        outcome.instance = enterprise
        if enterprise.pk is not None:
            updates.append((enterprise, before, after))
            update_fields.update(change.changed)
    if write and not any(o.problems for o in outcomes):
        _enterprises_store(actor=actor, context=context, creates=creates, updates=updates,
                           update_fields=sorted(update_fields))
    return outcomes


ENTERPRISE_STORED = tuple(f.attname for f in Enterprise._meta.concrete_fields
                          if f.attname not in ("id", "created_at", "updated_at"))


def _enterprises_store(*, actor, context: str, creates: list[Enterprise], updates: list[tuple[Enterprise, dict, dict]],
                       update_fields: list[str]) -> None:
    """Write new and changed enterprises and their audit entries with executemany statements (core.bulk)."""
    now = timezone.now()
    audit: list[tuple] = []

    def enterprise_audit(action: str, obj: Enterprise, changes: dict) -> tuple:
        return audit_row(at=now, actor=actor, action=action, object_type="enterprises.enterprise", object_id=obj.pk,
                         object_repr=obj.name, changes=changes, context=context,
                         subject=f"enterprises.enterprise:{obj.pk}")

    with transaction.atomic():
        if creates:
            bulk_insert(Enterprise, [tuple(getattr(obj, name) for name in ENTERPRISE_STORED) for obj in creates],
                        ENTERPRISE_STORED, constants={"created_at": now, "updated_at": now})
            ids = dict(Enterprise.objects.filter(credit_code__in=[obj.credit_code for obj in creates])
                       .values_list("credit_code", "pk"))
            for obj in creates:
                obj.pk, obj.created_at, obj.updated_at = ids[obj.credit_code], now, now
                audit.append(enterprise_audit(AuditEntry.Action.CREATE, obj, creation_changes(snapshot(obj))))
        if updates:
            for obj, before, after in updates:
                obj.updated_at = now
                audit.append(enterprise_audit(AuditEntry.Action.UPDATE, obj, diff(before, after)))
            bulk_update(Enterprise, [(*(getattr(obj, name) for name in update_fields), obj.pk)
                                     for obj, _before, _after in updates],
                        update_fields, constants={"updated_at": now})
        audit_rows_write([row for row in audit if row[6]])


def _one_enterprise(*, actor, item: EnterpriseInput) -> Enterprise:
    with transaction.atomic():
        if item.mode != "create":
            # Two people saving one profile at once queue on its row (PostgreSQL; SQLite's IMMEDIATE
            # transactions already admit one writer at a time).
            list(Enterprise.objects.select_for_update().filter(credit_code=item.credit_code))
        (outcome,) = enterprises_write(actor=actor, items=[item], write=True)
    if outcome.problems:
        raise _problems_to_error(outcome.problems, "数据校验失败", "validation failed")
    return outcome.instance


def enterprise_create(*, actor, credit_code: Any, name: Any, city: Any, **profile: Any) -> Enterprise:
    """Register an enterprise (administrators). The values are raw profile values, cleaned here."""
    values = {"name": name, "city": city, **profile}
    require(access.can_register_enterprise(actor), "只有管理员可以登记企业 (administrators only)")
    try:
        code = clean_credit_code(credit_code)
    except Invalid as exc:
        raise InvalidInput(f"{exc.reason_zh} ({exc.reason_en})", code="invalid_credit_code",
                           extra={"fields": {"credit_code": [exc.reason_zh]}}) from None
    if Enterprise.objects.filter(credit_code=code).exists():
        raise Conflict("该统一社会信用代码已存在 (credit code already registered)", code="duplicate_credit_code",
                       extra={"fields": {"credit_code": ["已存在"]}})
    cleaned, problems = clean_values(ENTERPRISE_FIELD, {k: v for k, v in values.items() if v is not None})
    if problems:
        raise _problems_to_error(problems, "数据校验失败", "validation failed")
    return _one_enterprise(actor=actor, item=EnterpriseInput(code, cleaned, mode="create"))


def enterprise_update(*, actor, enterprise: Enterprise, changes: Mapping[str, Any]) -> Enterprise:
    """Change a profile. `changes` are raw values of the fields given (None clears a field)."""
    require(access.can_edit_enterprise(actor, enterprise), "无权修改该企业 (you may not change this enterprise)")
    cleaned, problems = clean_values(ENTERPRISE_FIELD, changes)
    if problems:
        raise _problems_to_error(problems, "数据校验失败", "validation failed")
    return _one_enterprise(actor=actor, item=EnterpriseInput(enterprise.credit_code, cleaned, mode="update"))


@transaction.atomic
def enterprise_delete(*, actor, enterprise: Enterprise) -> None:
    """Delete an enterprise with its declarations and qualifications, each deletion audited. Refused (409)
    when scoring results name it: a finished run's results are part of the record."""
    require(access.can_delete_enterprise(actor, enterprise), "只有管理员可以删除企业 (administrators only)")
    # Lock the row first: a scoring run that is writing this enterprise's result holds it, and a run that
    # starts writing after this locks it too, then skips the deleted enterprise.
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    if enterprise.score_results.exists():
        raise Conflict("该企业已有评分结果，不能删除 (the enterprise has scoring results and cannot be deleted)",
                       code="enterprise_has_results")
    entries = [
        audit_entry_build(actor=actor, action=AuditEntry.Action.DELETE, instance=obj, before=snapshot(obj),
                          after=None, subject=enterprise)
        for obj in [*enterprise.declarations.all(), *enterprise.qualifications.all()]
    ]
    entries.append(audit_entry_build(actor=actor, action=AuditEntry.Action.DELETE, instance=enterprise,
                                     before=snapshot(enterprise), after=None))
    audit_entries_write(entries)
    enterprise.delete()


# --- declarations ---------------------------------------------------------------------------------------------


@dataclass
class DeclarationInput:
    enterprise: Enterprise
    fiscal_year: int  # cleaned
    figures: dict[str, Any]  # cleaned values (or CLEAR) of the figures given
    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)  # partial entries, cleaned
    replace: bool = False
    row: int | None = None


def declaration_inputs_clean(raw_figures: Mapping[str, Any], raw_provenance: Mapping[str, Any] | None, *,
                             clean: Callable[..., Any] = clean_value
                             ) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[Problem]]:
    """Clean a declaration's figures and provenance statements (raw values from JSON, a form or a file).
    `clean`: see clean_values."""
    figures, problems = clean_values(FIGURE, raw_figures, clean=clean)
    provenance: dict[str, dict[str, Any]] = {}
    for name, entry in (raw_provenance or {}).items():
        if name not in FIGURE:
            problems.append(Problem(name, "未知指标", "unknown figure"))
            continue
        entry = entry if isinstance(entry, Mapping) else {"source": entry}
        stated: dict[str, Any] = {}
        try:
            if entry.get("source") is not None:
                stated["source"] = clean_source(entry["source"])
            if entry.get("verified") is not None:
                verified = clean(ENTERPRISE_FIELD["resident"], entry["verified"])  # a yes/no value
                stated["verified"] = False if verified is CLEAR else verified
        except Invalid as exc:
            problems.append(Problem(name, exc.reason_zh, exc.reason_en))
            continue
        if stated:
            provenance[name] = stated
    return figures, provenance, problems


@dataclass(slots=True)
class StoredDeclaration:
    """A stored declaration as the write path reads it: values, not a model instance (a batch reads thousands)."""

    pk: int
    updated_at: Any  # as the database gives it: only compared with itself (the plan's fingerprint)
    submitted_by_id: int | None
    row: DeclarationRow


_CONTEXT_COLUMNS = ("id", "enterprise_id", "fiscal_year", *FIGURE_NAMES, "provenance", "flags", "submitted_by_id",
                    "updated_at")


def _money_reader() -> tuple[decimal.Decimal, decimal.Context] | None:
    """How the ORM turns a stored money value into a Decimal on SQLite (which keeps it as a float): Django's
    DecimalField converter, `Context(prec=15).create_decimal_from_float(value).quantize(step, context=field's)`,
    without its per-value machinery (step and context returned here; see `float_decimal15`). Other backends give
    the Decimal itself (None)."""
    if connection.vendor != "sqlite":
        return None
    money_field: Any = AnnualDeclaration._meta.get_field("sales")
    return decimal.Decimal(1).scaleb(-money_field.decimal_places), money_field.context


def float_decimal15(value: float) -> decimal.Decimal:
    """`decimal.Context(prec=15).create_decimal_from_float(value)` (what Django's SQLite backend reads a decimal
    column's float as), in a third less time: both round the float's exact value to 15 significant digits, half
    to even (Python's float formatting is correctly rounded). The tests compare the two."""
    return decimal.Decimal(f"{value:.15g}")


def _json(value: Any) -> Any:
    if type(value) is str:
        return {} if value == "{}" else [] if value == "[]" else json.loads(value)
    return value


def _in(column: str, values: list[Any]) -> tuple[str, list[Any]]:
    """`column IN (values)` as SQL and its parameters. On PostgreSQL `= ANY(%s)` with the values as one array
    parameter: the same rows, without a placeholder per value (the driver's scan of a query with thousands of
    them cost more than the query's work)."""
    quoted = connection.ops.quote_name(column)
    if connection.vendor == "postgresql":
        if values and all(type(value) is int for value in values):
            # Whole numbers (ids, years) as the array's text: the driver's dumping of a list costs a millisecond
            # per thousand values, this a tenth of it.
            return f"{quoted} = ANY(%s::bigint[])", ["{" + ",".join(map(str, values)) + "}"]
        return f"{quoted} = ANY(%s)", [values]
    return "{} IN ({})".format(quoted, ", ".join(["%s"] * len(values))), values


def _declaration_select(columns: Sequence[str], enterprise_ids: Iterable[int], years: Iterable[int]) -> list[tuple]:
    quote = connection.ops.quote_name
    by_enterprise, enterprise_params = _in("enterprise_id", sorted(enterprise_ids))
    by_year, year_params = _in("fiscal_year", sorted(years))
    sql = "SELECT {} FROM {} WHERE {} AND {}".format(", ".join(quote(c) for c in columns),
                                                      quote(AnnualDeclaration._meta.db_table), by_enterprise, by_year)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*enterprise_params, *year_params])
        return cursor.fetchall()


def _wanted_of(keys: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    return {(pk, y) for pk, year in keys for y in (year - 1, year, year + 1)}


def _declaration_context(items: Sequence[DeclarationInput]) -> dict[tuple[int, int], StoredDeclaration]:
    """The stored declarations of the inputs' years, the years before (flags compare with them) and the years
    after (their flags compare with the inputs), read as values. A year read only as the year before of an input
    holds only what the flags read of it (consistency.PREVIOUS_YEAR_FIGURES): it is never written."""
    keys = {(i.enterprise.pk, i.fiscal_year) for i in items}
    if not keys:
        return {}
    full = {(pk, y) for pk, year in keys for y in (year, year + 1)}
    before = {(pk, year - 1) for pk, year in keys} - full
    stored = _stored_read(_CONTEXT_COLUMNS, full)
    if before:
        stored.update(_stored_read(_BEFORE_COLUMNS, before))
    return stored


_BEFORE_COLUMNS = ("id", "enterprise_id", "fiscal_year", *PREVIOUS_YEAR_FIGURES, "submitted_by_id", "updated_at")


def _stored_read(columns: tuple[str, ...], wanted: set[tuple[int, int]]) -> dict[tuple[int, int], StoredDeclaration]:
    """The stored declarations of these keys, with these columns (`_CONTEXT_COLUMNS`, or `_BEFORE_COLUMNS`)."""
    names = columns[3:-2] if columns is _BEFORE_COLUMNS else FIGURE_NAMES
    reader = _money_reader()
    money = tuple(3 + i for i, name in enumerate(names) if FIGURE[name].kind == "money") if reader else ()
    if reader is not None:
        step, money_context = reader
    number = decimal.Decimal
    width = 3 + len(names)
    whole = columns is _CONTEXT_COLUMNS
    decoded: dict[str, Any] = {}  # provenance text → its value, shared by the rows (read, never changed)
    stored: dict[tuple[int, int], StoredDeclaration] = {}
    for selected in _declaration_select(columns, {k[0] for k in wanted}, {k[1] for k in wanted}):
        key = (selected[1], selected[2])
        if key not in wanted:
            continue
        values: Any = list(selected) if money else selected  # (a tuple: changed only to read SQLite's floats)
        for i in money:
            value = values[i]
            if value is not None:
                if type(value) is float:
                    # Every amount the write path stores has four places: its float is the double nearest that
                    # text. Then (below 10^11: at most 15 significant digits) the text is what float_decimal15 and
                    # the quantize give, in half the time; any other float takes that way. The tests compare them.
                    text = f"{value:.4f}"
                    if -1e11 < value < 1e11 and float(text) == value:
                        values[i] = number(text)
                        continue
                    value = f"{value:.15g}"  # float_decimal15, inline: this runs for every stored money figure
                values[i] = number(value).quantize(step, context=money_context)
        figures = dict(zip(names, values[3:width], strict=True))
        if whole:
            provenance = values[width]
            if type(provenance) is str:  # SQLite: its text. Most rows state the same provenance: decode it once
                text = provenance
                provenance = decoded.get(text)
                if provenance is None:
                    provenance = decoded[text] = _json(text)
            row = DeclarationRow(figures, provenance or {}, _json(values[width + 1]) or [])
        else:
            row = DeclarationRow(figures)
        stored[key] = StoredDeclaration(values[0], values[-1], values[-2], row)
    return stored


def declarations_fingerprint(keys: Iterable[tuple[int, int]]) -> frozenset:
    """The fingerprint a plan of inputs with these (enterprise id, fiscal year) keys holds (`DeclarationPlan`):
    what an import checks before it counts on a plan made earlier."""
    wanted = _wanted_of(keys)
    if not wanted:
        return frozenset()
    return frozenset((pk, stamp) for pk, enterprise_id, year, stamp in _declaration_select(
        ("id", "enterprise_id", "fiscal_year", "updated_at"), {k[0] for k in wanted}, {k[1] for k in wanted})
        if (enterprise_id, year) in wanted)


def _select_in(model, columns: Sequence[str], column: str, values: Iterable[Any]) -> list[tuple]:
    """SELECT columns of the rows whose `column` is one of `values`, as tuples: one plain statement (the ORM's
    compilation of a lookup with thousands of values costs more than the query)."""
    values = list(values)
    if not values:
        return []
    quote = connection.ops.quote_name
    where, params = _in(column, values)
    sql = "SELECT {} FROM {} WHERE {}".format(", ".join(quote(c) for c in columns), quote(model._meta.db_table),
                                              where)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# In the model's field order, as Model.from_db takes them.
DECLARING_COMPANY = tuple(f.attname for f in Enterprise._meta.concrete_fields
                          if f.attname in ("id", "credit_code", "name", "organisation_id"))
_CODE_AT = DECLARING_COMPANY.index("credit_code")


def declaring_companies(credit_codes: Iterable[str]) -> dict[str, Enterprise]:
    """The companies with these codes, by code, holding what the declarations' write path reads of a company:
    its id, its name (the audit entries) and its organisation (the access predicates)."""
    rows = _select_in(Enterprise, DECLARING_COMPANY, "credit_code", credit_codes)
    alias = connection.alias
    if signals.pre_init.has_listeners(Enterprise) or signals.post_init.has_listeners(Enterprise):
        return {row[_CODE_AT]: Enterprise.from_db(alias, DECLARING_COMPANY, row) for row in rows}
    # What `from_db` makes of these columns (the other fields deferred) when nothing listens to a model's
    # initialisation, without walking all the model's fields for each of thousands of companies (a tenth of the
    # time): the same attributes, in the same order, and the same state.
    new = Enterprise.__new__
    companies: dict[str, Enterprise] = {}
    for row in rows:
        company = new(Enterprise)
        state = company._state = ModelState()
        state.fields_cache, state.adding, state.db = {}, False, alias
        company.__dict__.update(zip(DECLARING_COMPANY, row, strict=True))
        companies[row[_CODE_AT]] = company
    return companies


def declarations_companies(ids: Iterable[int]) -> dict[int, tuple[str, int | None]]:
    """What a plan read of these companies (`DeclarationPlan.companies`), as stored now."""
    return {pk: (name, organisation_id)
            for pk, name, organisation_id in _select_in(Enterprise, ("id", "name", "organisation_id"), "id", ids)}


@dataclass
class DeclarationPlan:
    """What a batch of declaration writes would do, worked out from the stored rows it read (`fingerprint`:
    their ids and last changes). Storing it is valid while those rows are unchanged: an import works out its
    plan outside the write lock, then stores it inside, re-planning only the chunks someone changed since."""

    outcomes: list[Outcome]
    stored: dict[tuple[int, int], StoredDeclaration]
    state: dict[tuple[int, int], DeclarationRow]
    touched: dict[tuple[int, int], Outcome]
    refreshed: list[tuple[int, int]]
    fingerprint: frozenset
    names: dict[int, str]  # enterprise id → name (the declarations' audit entries name the company)
    keys: list[tuple[int, int]] = field(default_factory=list)  # the inputs' (enterprise id, fiscal year)
    # enterprise id → (name, organisation id): what the plan's access checks and audit entries read of a company
    companies: dict[int, tuple[str, int | None]] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return any(o.problems for o in self.outcomes)


def _fingerprint(stored: Mapping[tuple[int, int], StoredDeclaration]) -> frozenset:
    return frozenset((d.pk, d.updated_at) for d in stored.values())


def declarations_plan(*, actor, items: Sequence[DeclarationInput], system: bool = False) -> DeclarationPlan:
    """Merge a batch of declaration inputs with their stored rows (no write): each through
    `validation.declaration_merge`, flags compared with the year before; a changed year also refreshes the
    flags of the stored year after it. An outcome per input, in order."""
    may_verify = system or access.can_verify_figures(actor)
    stored = _declaration_context(items)
    state: dict[tuple[int, int], DeclarationRow] = {key: d.row for key, d in stored.items()}
    outcomes: list[Outcome | None] = [None] * len(items)
    touched: dict[tuple[int, int], Outcome] = {}
    # In year order per company, so a year's flags see the new figures of the year before.
    order = sorted(range(len(items)), key=lambda i: (items[i].enterprise.pk, items[i].fiscal_year))
    for index in order:
        item = items[index]
        key = (item.enterprise.pk, item.fiscal_year)
        outcome = Outcome(action="refused", key=f"{item.enterprise.credit_code} {item.fiscal_year}", row=item.row)
        outcomes[index] = outcome
        if not (system or access.can_edit_declarations(actor, item.enterprise)):
            outcome.problems.append(Problem("credit_code", "无权修改该企业", "you may not change this enterprise",
                                            forbidden=True))
            continue
        previous = state.get((key[0], key[1] - 1))
        change = declaration_merge(state.get(key), item.figures, item.provenance, may_verify=may_verify,
                                   replace=item.replace, previous_year=previous.figures if previous else None)
        if change.problems:
            outcome.problems.extend(change.problems)
            continue
        outcome.flagged = bool(change.row.flags)
        old = state.get(key) or DeclarationRow.blank()
        state[key] = change.row
        if not change.changed and not change.created:
            outcome.action = "unchanged"
            outcome.instance = stored.get(key)
            continue
        outcome.action = "create" if change.created else "update"
        touched[key] = outcome
        outcome.changed = change.changed
        outcome._describe = partial(_declaration_changes, old, change.row, change.changed, created=change.created)
    # The stored year after a changed year: its year-over-year flags follow.
    refreshed: list[tuple[int, int]] = []
    for enterprise_id, year in list(touched):
        after_key = (enterprise_id, year + 1)
        if after_key in stored and after_key not in touched:
            row = state[after_key]
            change = declaration_merge(row, {}, {}, may_verify=True, previous_year=state[(enterprise_id, year)].figures)
            if change.changed:
                state[after_key] = change.row
                refreshed.append(after_key)
    return DeclarationPlan([o for o in outcomes if o is not None], stored, state, touched, refreshed,
                           _fingerprint(stored), {item.enterprise.pk: item.enterprise.name for item in items},
                           [(item.enterprise.pk, item.fiscal_year) for item in items],
                           {item.enterprise.pk: (item.enterprise.name, item.enterprise.organisation_id)
                            for item in items})


def declarations_write(*, actor, items: Sequence[DeclarationInput], write: bool, context: str = "",
                       system: bool = False) -> list[Outcome]:
    """Create or update declarations (one batch): `declarations_plan`, then — when `write` and no input has a
    problem — the write, whole or not at all. Returns an outcome per input, in order."""
    return declarations_write_planned(actor=actor, items=items, write=write, context=context, system=system).outcomes


def declarations_write_planned(*, actor, items: Sequence[DeclarationInput], write: bool, context: str = "",
                               system: bool = False) -> DeclarationPlan:
    """`declarations_write`, returning the plan (an import keeps what storing it would write, `declarations_writes`,
    for its second pass)."""
    plan = declarations_plan(actor=actor, items=items, system=system)
    if write and not plan.refused:
        _declarations_store(actor=actor, context=context, plan=plan)
    return plan


def _declaration_changes(old: DeclarationRow, new: DeclarationRow, changed: list[str], *, created: bool
                         ) -> dict[str, dict[str, Any]]:
    out = {}
    before: object
    after: object
    for name in changed:
        if name == "provenance":
            before, after = old.provenance, new.provenance
        elif name == "flags":
            before, after = old.flags, new.flags
        else:
            before, after = plain(old.figures.get(name)), plain(new.figures.get(name))
        if created and after in (None, {}, []):
            continue
        out[name] = {"before": None if created else before, "after": after}
    return out


DECLARATION_STORED = (*FIGURE_NAMES, "provenance", "flags", "submitted_by_id")


@dataclass(slots=True)
class DeclarationWrites:
    """What storing a plan writes, worked out before the write (an import works it out in pass 1, outside the
    write lock): the rows as the database takes them (figures as text, JSON as its text) and their audit entries'
    changes as JSON text. Only primitives: an import spools it between its passes cheaply."""

    creates: list[tuple]  # (enterprise id, fiscal year, *DECLARATION_STORED)
    create_audits: list[tuple]  # (object_repr, subject, changes JSON with CREATED_ID and CREATED_AT to fill in)
    updates: list[tuple]  # (*DECLARATION_STORED, pk)
    update_audits: list[tuple]  # (pk, object_repr, subject, changes JSON)
    refreshes: list[tuple]  # (flags JSON, pk)
    refresh_audits: list[tuple]  # (pk, object_repr, subject, changes JSON)

    def __bool__(self) -> bool:
        return bool(self.creates or self.updates or self.refreshes)


# Stand-ins in a created declaration's audit changes for what only the write knows (its id and its time), and
# for its provenance and flags (whose JSON text the row's columns already hold): each the value of a JSON string,
# replaced in the text with its quotes.
CREATED_ID = "<<twincity:created-id>>"
CREATED_AT = "<<twincity:created-at>>"
_PROVENANCE = "<<twincity:provenance>>"
_FLAGS = "<<twincity:flags>>"
_EMPTY_JSON: dict[type, str] = {dict: "{}", list: "[]"}
_CREATED_KEYS = tuple(sorted(("id", "created_at", "enterprise_id", "fiscal_year", *FIGURE_NAMES, "provenance", "flags",
                              "submitted_by_id")))


def _json_text(value: Any) -> str:
    """A JSON field's value as the ORM stores it (`json.dumps`, no encoder)."""
    if not value and type(value) in _EMPTY_JSON:
        return _EMPTY_JSON[type(value)]
    return json.dumps(value)


def _figure_texts(figures: Mapping[str, Any]) -> tuple:
    """The figures as the database takes them: decimals as their text (what the ORM sends), counts as ints."""
    return tuple(str(v) if type(v) is decimal.Decimal else v for v in map(figures.__getitem__, FIGURE_NAMES))


def declarations_writes(*, actor, plan: DeclarationPlan) -> DeclarationWrites:
    """The rows and audit entries storing `plan` writes: new declarations, changed ones, and the years after
    them whose flags follow. The same rows and entries the ORM would write."""
    submitter_id = actor.pk if getattr(actor, "pk", None) else None
    stored, state, touched, refreshed, names = plan.stored, plan.state, plan.touched, plan.refreshed, plan.names
    writes = DeclarationWrites([], [], [], [], [], [])

    def where(key) -> tuple[str, str]:
        return f"{names[key[0]]} {key[1]}"[:255], f"enterprises.enterprise:{key[0]}"

    for key, outcome in touched.items():
        row = state[key]
        figures = _figure_texts(row.figures)
        provenance, flags = _json_text(row.provenance), _json_text(row.flags)
        record = stored.get(key)
        if record is None:
            writes.creates.append((key[0], key[1], *figures, provenance, flags, submitter_id))
            # The figures' plain values are their texts (a decimal's text, a count, None); any other value is
            # written as json.dumps writes it.
            values = {"id": CREATED_ID, "created_at": CREATED_AT, "enterprise_id": key[0], "fiscal_year": key[1],
                      **dict(zip(FIGURE_NAMES, figures)), "provenance": _PROVENANCE, "flags": _FLAGS,
                      "submitted_by_id": submitter_id}
            text = creation_changes_text(values, _CREATED_KEYS)
            if text is None:
                values.update((n, plain(row.figures[n])) for n in FIGURE_NAMES)
                text = json.dumps(creation_changes(values))
            text = text.replace(f'"{_PROVENANCE}"', provenance, 1).replace(f'"{_FLAGS}"', flags, 1)
            writes.create_audits.append((*where(key), text))
            continue
        writes.updates.append((*figures, provenance, flags, submitter_id, record.pk))
        changed = _stored_names(outcome.changed, record, submitter_id)
        changes = diff(_row_snapshot(record.row, record.submitted_by_id, changed),
                       _row_snapshot(row, submitter_id, changed))
        if changes:
            writes.update_audits.append((record.pk, *where(key), json.dumps(changes)))
    for key in refreshed:
        record = stored[key]
        new_flags = state[key].flags
        writes.refreshes.append((_json_text(new_flags), record.pk))
        changes = diff({"flags": record.row.flags}, {"flags": new_flags})
        if changes:
            writes.refresh_audits.append((record.pk, *where(key), json.dumps(changes)))
    return writes


def declarations_writes_store(*, actor, context: str, writes: DeclarationWrites) -> Any:
    """Write what `declarations_writes` worked out, with its audit entries, in one transaction (bulk statements;
    a COPY on PostgreSQL). Returns the time stamped on the rows."""
    now = timezone.now()
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    context = context[:255]
    object_type = "enterprises.annualdeclaration"
    audit: list[tuple] = []
    with transaction.atomic():
        if writes.creates:
            bulk_insert_encoded(AnnualDeclaration, writes.creates, ("enterprise_id", "fiscal_year", *DECLARATION_STORED),
                                constants={"created_at": now, "updated_at": now})
            keys = [(row[0], row[1]) for row in writes.creates]
            wanted = set(keys)
            ids = {(e, y): pk for pk, e, y in _declaration_select(
                ("id", "enterprise_id", "fiscal_year"), {k[0] for k in wanted}, {k[1] for k in wanted})
                if (e, y) in wanted}
            stamp = json.dumps(plain(now))
            create = AuditEntry.Action.CREATE
            for key, (object_repr, subject, changes) in zip(keys, writes.create_audits, strict=True):
                pk = ids[key]
                audit.append((actor_id, create, object_type, str(pk), object_repr,
                              changes.replace(f'"{CREATED_ID}"', str(pk), 1).replace(f'"{CREATED_AT}"', stamp, 1),
                              context, subject))
        update = AuditEntry.Action.UPDATE
        if writes.updates:
            bulk_update_encoded(AnnualDeclaration, writes.updates, DECLARATION_STORED, constants={"updated_at": now})
            audit.extend((actor_id, update, object_type, str(pk), object_repr, changes, context, subject)
                         for pk, object_repr, subject, changes in writes.update_audits)
        if writes.refreshes:
            bulk_update_encoded(AnnualDeclaration, writes.refreshes, ("flags",), constants={"updated_at": now})
            audit.extend((actor_id, update, object_type, str(pk), object_repr, changes, context, subject)
                         for pk, object_repr, subject, changes in writes.refresh_audits)
        audit_rows_write_encoded(audit, at=now)
    return now


def _declarations_store(*, actor, context: str, plan: DeclarationPlan) -> None:
    """Write the changed declarations (and the refreshed flags of the years after them) and their audit
    entries: `declarations_writes`, then `declarations_writes_store`."""
    now = declarations_writes_store(actor=actor, context=context, writes=declarations_writes(actor=actor, plan=plan))
    submitter_id = actor.pk if getattr(actor, "pk", None) else None
    for key, outcome in plan.touched.items():
        record = plan.stored.get(key)
        if record is not None:
            record.row, record.submitted_by_id, record.updated_at = plan.state[key], submitter_id, now
            outcome.instance = record
    for key in plan.refreshed:
        record = plan.stored[key]
        record.row, record.updated_at = plan.state[key], now


def _stored_names(changed: list[str], declaration: StoredDeclaration, submitter_id: int | None) -> list[str]:
    names = list(changed)
    if submitter_id != declaration.submitted_by_id:
        names.append("submitted_by_id")
    return names


def _row_snapshot(row: DeclarationRow, submitted_by_id: int | None, names: Iterable[str]) -> dict[str, Any]:
    """What `audit.snapshot` gives for these fields of a declaration holding `row`."""
    out: dict[str, Any] = {}
    for name in names:
        if name == "provenance":
            out[name] = row.provenance
        elif name == "flags":
            out[name] = row.flags
        elif name == "submitted_by_id":
            out[name] = submitted_by_id
        else:
            out[name] = plain(row.figures[name])
    return out


def declaration_upsert(
    *,
    actor,
    enterprise: Enterprise,
    fiscal_year: Any,
    figures: Mapping[str, Any],
    provenance: Mapping[str, Any] | None = None,
    replace: bool = False,
) -> AnnualDeclaration:
    """Create or update one fiscal year's declaration. Raw `figures` (a figure given as None is cleared);
    figures not given keep their value unless `replace`. A declaration that fails a consistency check is
    stored with its flags, never refused."""
    require(access.can_edit_declarations(actor, enterprise), "无权修改该企业 (you may not change this enterprise)")
    try:
        year = clean_fiscal_year(fiscal_year, year_max=fiscal_year_max())
    except Invalid as exc:
        raise InvalidInput("会计年度无效 (invalid fiscal year)",
                           extra={"fields": {"fiscal_year": [f"{exc.reason_zh} ({exc.reason_en})"]}}) from None
    cleaned, stated, problems = declaration_inputs_clean(figures, provenance)
    if problems:
        raise _problems_to_error(problems, "申报数据有误", "invalid figures")
    item = DeclarationInput(enterprise, year, cleaned, stated, replace=replace)
    with transaction.atomic():
        # Lock the enterprise row: two people saving the same year at once must queue, so the second sees
        # the first one's row and updates it instead of failing on the one-per-year constraint (PostgreSQL;
        # SQLite's IMMEDIATE transactions already admit one writer at a time).
        Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
        (outcome,) = declarations_write(actor=actor, items=[item], write=True)
    if outcome.problems:
        raise _problems_to_error(outcome.problems, "申报数据有误", "invalid figures")
    declaration = AnnualDeclaration.objects.get(enterprise=enterprise, fiscal_year=year)
    declaration.enterprise = enterprise
    return declaration


@transaction.atomic
def declaration_delete(*, actor, declaration: AnnualDeclaration) -> None:
    require(access.can_edit_declarations(actor, declaration.enterprise),
            "无权修改该企业 (you may not change this enterprise)")
    audit_record(actor=actor, action=AuditEntry.Action.DELETE, instance=declaration, before=snapshot(declaration),
                 subject=declaration.enterprise)
    enterprise, year = declaration.enterprise, declaration.fiscal_year
    declaration.delete()
    # The year after compared its figures with this one: its flags follow.
    following = AnnualDeclaration.objects.filter(enterprise=enterprise, fiscal_year=year + 1).first()
    if following is not None:
        change = declaration_merge(following.row(), {}, {}, may_verify=True, previous_year=None)
        if "flags" in change.changed:
            before = snapshot(following, ["flags"])
            following.flags = change.row.flags
            following.save(update_fields=["flags", "updated_at"])
            audit_record(actor=actor, action=AuditEntry.Action.UPDATE, instance=following, before=before,
                         after=snapshot(following, ["flags"]), subject=enterprise)


# --- qualifications ------------------------------------------------------------------------------------------


@transaction.atomic
def qualification_add(*, actor, enterprise: Enterprise, kind: str, certificate_no: str, valid_from,
                      valid_until=None) -> Qualification:
    """Record a certificate (高企, 科技型, 创新型, 专精特新, …) of an enterprise (administrators)."""
    require(access.can_manage_qualifications(actor, enterprise), "只有管理员可以登记资质 (administrators only)")
    certificate_no = (certificate_no or "").strip()
    problems = {}
    if kind not in Qualification.Kind.values:
        problems["kind"] = [f"未知资质 (unknown qualification): {kind}"]
    if not certificate_no or len(certificate_no) > 64:
        problems["certificate_no"] = ["请填写证书编号（最多64个字符） (a certificate number, at most 64 characters)"]
    if valid_until is not None and valid_from is not None and valid_until < valid_from:
        problems["valid_until"] = ["有效期止不能早于起 (valid until is before valid from)"]
    if problems:
        raise InvalidInput("资质数据有误 (invalid qualification)", extra={"fields": problems})
    if enterprise.qualifications.filter(kind=kind, certificate_no=certificate_no).exists():
        raise Conflict("该证书已登记 (this certificate is already recorded)", code="qualification_exists")
    qualification = Qualification.objects.create(enterprise=enterprise, kind=kind, certificate_no=certificate_no,
                                                 valid_from=valid_from, valid_until=valid_until)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, instance=qualification,
                 after=snapshot(qualification), subject=enterprise)
    return qualification


@transaction.atomic
def qualification_delete(*, actor, qualification: Qualification) -> None:
    enterprise = qualification.enterprise
    require(access.can_manage_qualifications(actor, enterprise), "只有管理员可以删除资质 (administrators only)")
    audit_record(actor=actor, action=AuditEntry.Action.DELETE, instance=qualification,
                 before=snapshot(qualification), subject=enterprise)
    qualification.delete()
