"""The declarations import's fast paths answer as the straightforward ones did: stored rows read as values equal
what the ORM reads, and a chunk that changed nothing in pass 1 is planned again in pass 2 when someone changed
its rows in between."""

import csv
from decimal import Decimal

from twincity.core.models import AuditEntry
from twincity.enterprises import services
from twincity.enterprises.fields import FIGURE_NAMES
from twincity.enterprises.imports import import_apply
from twincity.enterprises.imports import service as import_service
from twincity.enterprises.models import AnnualDeclaration
from twincity.testing import ALICE_CODE, BOB_CODE

YEAR = 2024


def _write(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_stored_declarations_read_as_values_equal_what_the_orm_reads(cast):
    figures = {"employees": 12, "sales": "3985.27", "oprev": "0.0001", "main": "-12.5", "rd": "99999999999.9999",
               "cost": "0", "assets": "1234567.8912", "liab": "0.3333", "tax": "-0"}
    services.declaration_upsert(actor=cast.olivia, enterprise=cast.alice_co, fiscal_year=YEAR, figures=figures,
                                provenance={"sales": {"source": "tax", "verified": True}})
    item = services.DeclarationInput(cast.alice_co, YEAR, {})
    (stored,) = services._declaration_context([item]).values()
    orm = AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=YEAR)
    for name in FIGURE_NAMES:
        value = stored.row.figures[name]
        assert (type(value), str(value)) == (type(getattr(orm, name)), str(getattr(orm, name))), name
    assert stored.row.figures["rd"] == Decimal("99999999999.9999")
    assert (stored.pk, stored.submitted_by_id) == (orm.pk, orm.submitted_by_id)
    assert (stored.row.provenance, stored.row.flags) == (orm.provenance, orm.flags)


def test_a_chunk_unchanged_in_pass_1_is_planned_again_when_someone_changed_it(cast, tmp_path, monkeypatch):
    services.declaration_upsert(actor=cast.olivia, enterprise=cast.alice_co, fiscal_year=YEAR,
                                figures={"employees": 40})
    services.declaration_upsert(actor=cast.olivia, enterprise=cast.bob_co, fiscal_year=YEAR,
                                figures={"employees": 70})
    monkeypatch.setattr(import_service, "CHUNK", 1)  # one row per chunk: bob's row is a chunk of its own
    original = import_service._spooled

    def someone_edits_first(spool):
        services.declaration_upsert(actor=cast.olivia, enterprise=cast.bob_co, fiscal_year=YEAR,
                                    figures={"employees": 71})
        yield from original(spool)

    monkeypatch.setattr(import_service, "_spooled", someone_edits_first)
    path = _write(tmp_path / "d.csv", [["credit_code", "fiscal_year", "employees"],
                                       [ALICE_CODE, str(YEAR), "50"], [BOB_CODE, str(YEAR), "70"]])

    result = import_apply(actor=cast.olivia, kind="declarations", path=path, filename="d.csv")

    bob = AnnualDeclaration.objects.get(enterprise=cast.bob_co, fiscal_year=YEAR)
    assert (result.rows, result.updated, result.unchanged, bob.employees) == (2, 2, 0, 70)
    last = AuditEntry.objects.filter(object_type="enterprises.annualdeclaration").order_by("-id").first()
    assert last.changes["employees"] == {"before": 71, "after": 70}


def test_an_unchanged_chunk_is_counted_without_being_planned_again(cast, tmp_path, monkeypatch):
    services.declaration_upsert(actor=cast.olivia, enterprise=cast.bob_co, fiscal_year=YEAR,
                                figures={"employees": 70, "rd_staff": 90})
    monkeypatch.setattr(import_service, "CHUNK", 1)
    path = _write(tmp_path / "d.csv", [["credit_code", "fiscal_year", "employees"],
                                       [ALICE_CODE, str(YEAR), "50"], [BOB_CODE, str(YEAR), "70"]])

    progress: list[tuple[int, int]] = []

    result = import_apply(actor=cast.olivia, kind="declarations", path=path, filename="d.csv",
                          on_progress=lambda done, total: progress.append((done, total)))

    assert (result.rows, result.created, result.unchanged, result.flagged) == (2, 1, 1, 1)
    assert progress[-2:] == [(3, 4), (4, 4)]  # each row twice: checked, then written (or found unchanged)


def test_a_chunk_is_planned_again_when_its_company_changed_between_the_passes(cast, tmp_path, monkeypatch):
    """Pass 1 works out the rows and audit entries pass 2 writes; a company renamed in between (its name is in
    the entries) or moved to another organisation (the access predicates read it) makes pass 2 plan again."""
    monkeypatch.setattr(import_service, "CHUNK", 1)
    original = import_service._spooled

    def someone_renames_first(spool):
        type(cast.bob_co).objects.filter(pk=cast.bob_co.pk).update(name="改名后的公司")
        yield from original(spool)

    monkeypatch.setattr(import_service, "_spooled", someone_renames_first)
    path = _write(tmp_path / "d.csv", [["credit_code", "fiscal_year", "employees"],
                                       [ALICE_CODE, str(YEAR), "50"], [BOB_CODE, str(YEAR), "70"]])

    result = import_apply(actor=cast.olivia, kind="declarations", path=path, filename="d.csv")

    assert (result.rows, result.created) == (2, 2)
    reprs = sorted(AuditEntry.objects.filter(object_type="enterprises.annualdeclaration")
                   .values_list("object_repr", flat=True))
    assert reprs == sorted([f"{cast.alice_co.name} {YEAR}", f"改名后的公司 {YEAR}"])
    assert [c["object"] for c in result.changes] == [f"{ALICE_CODE} {YEAR}", f"{BOB_CODE} {YEAR}"]


def test_cells_without_a_header_are_refused_with_their_row_and_column(cast, tmp_path):
    """A row wider than the header, and a column whose header cell is blank, name the cell (the CSV rows read in
    one step are only those that fit the header)."""
    from twincity.enterprises.imports import ImportRejected

    path = _write(tmp_path / "d.csv", [["credit_code", "fiscal_year", "", "employees"],
                                       [ALICE_CODE, str(YEAR), "", "50", "surplus"],
                                       [BOB_CODE, str(YEAR), "x", "70"],
                                       [BOB_CODE, str(YEAR + 1), " ", "71", "  "]])
    try:
        import_apply(actor=cast.olivia, kind="declarations", path=path, filename="d.csv")
    except ImportRejected as exc:
        errors = [(e.row, e.column, e.value, e.reason_en) for e in exc.errors]
    else:
        raise AssertionError("the file was accepted")
    assert errors == [(2, "#5", "surplus", "this column has no header"), (3, "#3", "x", "this column has no header")]
    assert not AuditEntry.objects.filter(object_type="enterprises.annualdeclaration").exists()


def test_a_created_declarations_audit_entry_is_what_the_orm_snapshot_gives(cast, tmp_path):
    """The creation entry is worked out before the row exists (its id and time filled in when written): it
    equals the changes of the stored row's snapshot, id and time included."""
    from twincity.core.audit import creation_changes, snapshot

    path = _write(tmp_path / "d.csv", [["credit_code", "fiscal_year", "employees", "rd_staff", "sales", "assets",
                                        "liab", "na", "sales__source", "sales__verified"],
                                       [ALICE_CODE, str(YEAR), "50", "80", "1234.5", "10", "4", "7", "tax", "Y"]])
    import_apply(actor=cast.olivia, kind="declarations", path=path, filename="d.csv")

    declaration = AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=YEAR)
    entry = AuditEntry.objects.get(object_type="enterprises.annualdeclaration", object_id=str(declaration.pk))
    assert declaration.flags and declaration.provenance  # both spliced into the entry's text
    assert entry.changes == creation_changes(snapshot(declaration))
    assert entry.changes["id"]["after"] == declaration.pk
    assert entry.changes["created_at"]["after"] == declaration.created_at.isoformat()


def test_floats_read_as_15_digit_decimals_as_djangos_sqlite_backend_reads_them():
    import random
    import struct
    from decimal import Context

    reference = Context(prec=15).create_decimal_from_float
    rng = random.Random(5)
    floats = [0.0, -0.0, 0.5, 2.5, 1e-5, 0.00005, 0.12345, 1.00005, 5e-324, 999999999999.9999, 99999999999.9999]
    floats += [rng.randrange(-10**16, 10**16) / 10**4 for _ in range(20000)]
    floats += [rng.uniform(-1e12, 1e12) for _ in range(20000)]
    floats += [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(20000)]
    for value in floats:
        if value != value or value in (float("inf"), float("-inf")):
            continue
        assert services.float_decimal15(value) == reference(value), value


def test_stored_money_floats_read_as_the_orm_reads_them(cast):
    """`_stored_read`'s shortcut for money floats (a four-place amount's own text) against Django's SQLite reading
    of the same stored values (`create_decimal_from_float` to 15 digits, quantized to the field), over amounts
    the write path stores and floats it never would (more places, 15+ digits, tiny, huge). On PostgreSQL the
    column holds the decimal itself and both read it as it is."""
    import random

    from django.db import connection

    rng = random.Random(11)
    amounts: list[object] = [0.0, -0.0, 0.5, 0.00005, 0.00015, 0.12345, 1.00005, 1e-5, 5e-324, 99999999999.9999,
                             -99999999999.9999, 9999999999.9999, 12345678901.2345, 0.1 + 0.2, 1 / 3,
                             100000000000.0001, 123456789012.3456, 899999999999.9999, -555555555555.5555]
    amounts += [rng.randrange(-9 * 10**15, 9 * 10**15) / 10**4 for _ in range(700)]  # four places (the write path's)
    amounts += [rng.randrange(-10**11, 10**11) / 10**rng.randint(0, 4) for _ in range(600)]
    amounts += [rng.uniform(-1e11, 1e11) for _ in range(300)]
    amounts += [rng.uniform(-1, 1) * 10 ** rng.randint(-6, 11) for _ in range(300)]
    table = connection.ops.quote_name(AnnualDeclaration._meta.db_table)
    money = [name for name in FIGURE_NAMES if services.FIGURE[name].kind == "money"]
    rows = -(-len(amounts) // len(money))
    companies = [cast.alice_co, cast.bob_co]
    declarations = AnnualDeclaration.objects.bulk_create(  # rows to hold them
        AnnualDeclaration(enterprise=companies[i % 2], fiscal_year=1980 + i // 2) for i in range(rows))
    with connection.cursor() as cursor:
        for declaration, start in zip(declarations, range(0, len(amounts), len(money)), strict=False):
            chunk = amounts[start:start + len(money)]
            cursor.execute("UPDATE {} SET {} WHERE id = %s".format(
                table, ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in money[:len(chunk)])),
                [*chunk, declaration.pk])
    stored = services._stored_read(services._CONTEXT_COLUMNS, {(d.enterprise_id, d.fiscal_year)
                                                               for d in declarations})
    compared = 0
    for orm in AnnualDeclaration.objects.filter(pk__in=[d.pk for d in declarations]):
        read = stored[(orm.enterprise_id, orm.fiscal_year)].row.figures
        for name in money:
            mine, theirs = read[name], getattr(orm, name)
            assert (type(mine), str(mine)) == (type(theirs), str(theirs)), (name, mine, theirs)
            compared += theirs is not None
    assert compared >= len(amounts) - len(money)


def test_declaring_companies_are_what_from_db_makes_of_their_columns(cast):
    """The companies an import chunk looks up (built without `Model.from_db`): the same attributes in the same
    order, the same deferred fields and state, for a company with and without an organisation; unknown codes
    absent. With a receiver of the model's initialisation signals they are made by `from_db` itself."""
    from django.db import connection
    from django.db.models import signals

    from twincity.enterprises.models import Enterprise

    codes = [ALICE_CODE, BOB_CODE, "91500000MA00000000"]

    def expected() -> dict:
        return {row[services._CODE_AT]: Enterprise.from_db(connection.alias, services.DECLARING_COMPANY, row)
                for row in services._select_in(Enterprise, services.DECLARING_COMPANY, "credit_code", codes)}

    def shape(company) -> tuple:
        return (type(company), list(vars(company).items())[1:], vars(company._state), company.get_deferred_fields())

    made, wanted = services.declaring_companies(codes), expected()
    assert sorted(made) == sorted(wanted) == sorted([ALICE_CODE, BOB_CODE])
    assert {code: shape(c) for code, c in made.items()} == {code: shape(c) for code, c in wanted.items()}
    assert made[ALICE_CODE] == cast.alice_co and made[ALICE_CODE].name == cast.alice_co.name
    seen = []

    def receiver(sender, **kwargs):
        seen.append(sender)

    signals.post_init.connect(receiver, sender=Enterprise)
    try:
        made = services.declaring_companies(codes)
    finally:
        signals.post_init.disconnect(receiver, sender=Enterprise)
    assert seen == [Enterprise, Enterprise]
    assert {code: shape(c) for code, c in made.items()} == {code: shape(c) for code, c in wanted.items()}


def test_money_plain_gives_what_clean_value_gives_or_leaves_the_cell_to_it():
    import random

    from twincity.enterprises.fields import FIGURE
    from twincity.enterprises.validation import Invalid, clean_value, money_plain

    rng = random.Random(7)
    cells = ["0", "-0", "12", "1234.5", " 12.3 ", "0.00005", "0.00015", "-0.00005", "999999999999.9999",
             "999999999999.99995", "1000000000000", "-999999999999.99999", "1e3", "1E-7", "NaN", "Infinity", "-inf",
             "1,234.5", "12，5", "clear", "清空", "", " ", "abc", "0x10", "1_000", "１２"]
    cells += [f"{rng.randrange(-10**17, 10**17) / 10**rng.randrange(0, 8)}" for _ in range(5000)]
    for cell in cells:
        fast = money_plain(cell)
        try:
            expected = clean_value(FIGURE["sales"], cell)
        except Invalid:
            assert fast is None, cell
            continue
        if fast is not None:
            assert (type(fast), str(fast)) == (type(expected), str(expected)), cell


def test_flag_dicts_are_the_flags_as_dicts():
    import random

    from twincity.enterprises.consistency import PREVIOUS_YEAR_FIGURES, declaration_flag_dicts, declaration_flags

    rng = random.Random(11)

    def value(name):
        roll = rng.random()
        if roll < 0.1:
            return None
        if name in ("employees", "tech_staff", "rd_staff"):
            return rng.randrange(-50, 5000) if roll < 0.8 else Decimal(rng.randrange(-50, 5000))  # ints and decimals
        amount = Decimal(rng.randrange(-10**6, 10**9)).scaleb(-rng.randrange(0, 5))
        return amount if roll < 0.95 else str(amount)

    for _ in range(3000):
        figures = {name: value(name) for name in FIGURE_NAMES}
        previous = {name: value(name) for name in PREVIOUS_YEAR_FIGURES} if rng.random() < 0.8 else None
        assert declaration_flag_dicts(figures, previous) == [f.as_dict() for f in declaration_flags(figures, previous)]
        texts = [(d["message_zh"], d["message_en"]) for d in declaration_flag_dicts(figures, previous)]
        assert texts == [(f.message_zh, f.message_en) for f in declaration_flags(figures, previous)]


def test_jump_flags_are_what_the_first_rule_gave():
    """The year-over-year jumps, with their constants chosen by the values' kinds, against the rule as first
    written (every comparison with the Decimal minimum and the int factor)."""
    import random

    from twincity.enterprises.consistency import JUMP_CHECKED, JUMP_FACTOR, _num, declaration_flags

    def first(figures, previous_year):
        flags = []
        for name, zh, minimum in JUMP_CHECKED:
            now, before = _num(figures, name), _num(previous_year, name)
            if type(figures.get(name)) is int:
                now = figures[name]
            if type(previous_year.get(name)) is int:
                before = previous_year[name]
            if now is None or before is None or now < 0 or before < 0 or abs(now - before) < minimum:
                continue
            if now > before * JUMP_FACTOR or before > now * JUMP_FACTOR:
                flags.append((name, f"{zh}较上年变化超过{JUMP_FACTOR}倍（上年 {before}，本年 {now}）",
                              f"{name} changed more than {JUMP_FACTOR}-fold from the year before ({before} → {now})"))
        return flags

    rng = random.Random(3)
    names = [name for name, _zh, _minimum in JUMP_CHECKED]

    def value():
        kind = rng.randrange(4)
        number = rng.choice([0, 1, 99, 100, 101, 999, 1000, 1001, 10**6, rng.randrange(0, 10**7)])
        return [number, Decimal(number), Decimal(number).scaleb(-rng.randrange(0, 4)), None][kind]

    for _ in range(5000):
        figures, previous = {n: value() for n in names}, {n: value() for n in names}
        got = [(f.fields[0], f.message_zh, f.message_en) for f in declaration_flags(figures, previous)
               if f.code == "year_over_year_jump"]
        assert got == first(figures, previous), (figures, previous)
