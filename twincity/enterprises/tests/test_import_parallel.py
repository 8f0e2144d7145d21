"""Pass 1 of a large declarations import planned by worker processes (`imports.service._walk_parallel`) plans
exactly what pass 1 in the importing process plans, chunk for chunk; a file with an error is rejected with
exactly the errors it always gave; and the import stores and audits what it always did.

Transactional: the workers are other processes, which see only committed rows."""

import csv
import io
import pickle
import random
import tempfile

import pytest

from twincity.core.models import AuditEntry
from twincity.enterprises.imports import ImportRejected, import_apply
from twincity.enterprises.imports import service as import_service
from twincity.enterprises.models import AnnualDeclaration, Enterprise
from twincity.enterprises.validation import uscc_check
from twincity.testing import Cast

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(n: int) -> list[str]:
    rng = random.Random(5)
    codes: list[str] = []
    while len(codes) < n:
        body = "91510100" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        if body + uscc_check(body) not in codes:
            codes.append(body + uscc_check(body))
    return codes


def _write(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.fixture
def registry(tmp_path, settings, monkeypatch):
    """30 companies with 2024 declarations (some flagged, some with provenance); then 2025 rows for all, and
    2024 rows changed for some (their 2025 flags follow), in chunks of 7 rows planned by two workers."""
    cast = Cast.create()
    codes = _codes(30)
    rng = random.Random(9)
    _write(tmp_path / "e.csv", [["credit_code", "name", "city"],
                                *([code, f"并行测试企业{i:02d}", "chengdu"] for i, code in enumerate(codes))])
    import_apply(actor=None, kind="enterprises", path=tmp_path / "e.csv", filename="e.csv")
    header = ["credit_code", "fiscal_year", "employees", "rd_staff", "sales", "rd", "cost", "assets", "liab", "na",
              "sales__source", "sales__verified"]
    first = [header]
    for code in codes:
        employees, sales, assets = rng.randint(5, 400), rng.randint(100, 90000) / 10, rng.randint(100, 90000) / 10
        liab = round(assets * rng.random(), 1)
        first.append([code, 2024, employees, employees // rng.choice([4, 1]), sales, round(sales * 0.05, 2),
                      round(sales * 0.9, 1), assets, liab, round(assets - liab, 1) + rng.choice([0, 0, 3]),
                      rng.choice(["tax", ""]), rng.choice(["Y", ""])])
    import_apply(actor=None, kind="declarations", path=_write(tmp_path / "d2024.csv", first), filename="d2024.csv")
    second = [header]
    for i, code in enumerate(codes):
        employees, sales = rng.randint(5, 400), rng.randint(100, 90000) / 10
        second.append([code, 2025, employees * (20 if i % 6 == 0 else 1), "", sales, "", "", "", "", "",
                       rng.choice(["audit_report", ""]), ""])
        if i % 4 == 0:
            second.append([code, 2024, rng.randint(5, 400), "", f"{sales:,.1f}", "清空", "", "", "", "", "", ""])
    settings.IMPORT_PLANNERS = 2
    settings.IMPORT_PARALLEL_ROWS = 1
    monkeypatch.setattr(import_service, "CHUNK", 7)
    return cast, codes, _write(tmp_path / "d.csv", second), len(second) - 1


def _spool_entries(spool) -> list:
    spool.seek(0)
    return list(import_service._spooled(spool))


def test_workers_plan_every_chunk_as_the_importing_process_does(registry):
    cast, _codes_, path, rows = registry
    for actor in (None, cast.olivia):
        with tempfile.TemporaryFile() as here, tempfile.TemporaryFile() as there:
            walked = import_service._walk(actor=actor, kind="declarations", path=path, filename="d.csv",
                                          dry_run=False, write=False, on_progress=None, offset=0, total=2 * rows,
                                          spool=here)
            progress: list[tuple[int, int]] = []
            parallel = import_service._walk_parallel(actor=actor, kind="declarations", path=path, filename="d.csv",
                                                     on_progress=lambda done, total, seen=progress: seen.append(
                                                         (done, total)),
                                                     total=2 * rows, spool=there)
            assert parallel is not None  # the workers planned it
            assert parallel.result == walked.result
            assert (parallel.result.rows, parallel.result.created, parallel.result.updated) == (rows, 30, 8)
            assert parallel.result.flagged > 0
            planned_here, planned_there = _spool_entries(here), _spool_entries(there)
            assert len(planned_there) == len(planned_here) == -(-rows // 7)
            assert all(isinstance(entry, import_service.PlannedChunk) for entry in planned_there)
            assert planned_there == planned_here
            assert progress[-1] == (rows, 2 * rows)
    assert AnnualDeclaration.objects.filter(fiscal_year=2025).count() == 0  # pass 1 writes nothing


@pytest.mark.parametrize("pipeline", [False, True], ids=["planned-then-written", "written-while-planned"])
def test_an_import_planned_by_workers_stores_and_audits_as_before(registry, monkeypatch, settings, pipeline):
    """Both ways of writing (after the whole file is planned, or each chunk while the workers plan the next, in
    the one transaction): the same counts, rows and audit entries. The file has a company's 2024 row in the chunk
    after its 2025 row: that chunk's plan no longer holds once the chunk before is written, and is planned again."""
    settings.IMPORT_PIPELINE = pipeline
    cast, codes, path, rows = registry
    used = []
    taken: list[int] = []
    original_take = import_service._ChunkWriter.take

    def take(self, index, spooled):
        taken.append(index)
        return original_take(self, index, spooled)

    monkeypatch.setattr(import_service._ChunkWriter, "take", take)
    original = import_service._walk_parallel

    def spy(**kwargs):
        walk = original(**kwargs)
        used.append(walk is not None)
        return walk

    monkeypatch.setattr(import_service, "_walk_parallel", spy)
    audited = AuditEntry.objects.count()

    result = import_apply(actor=cast.olivia, kind="declarations", path=path, filename="d.csv")

    assert used == [True]
    assert taken == (list(range(-(-rows // 7))) if pipeline else [])
    assert (result.rows, result.created, result.updated, result.unchanged) == (rows, 30, 8, 0)
    assert AnnualDeclaration.objects.filter(fiscal_year=2025).count() == 30
    entries = AuditEntry.objects.filter(context="import d.csv")
    assert entries.count() == AuditEntry.objects.count() - audited == 30 + 8  # one per row written
    assert set(entries.values_list("action", flat=True)) == {"create", "update"}
    again = import_apply(actor=cast.olivia, kind="declarations", path=path, filename="d.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, rows)
    assert used == [True, True]
    assert Enterprise.objects.filter(credit_code__in=codes).count() == 30
    assert AuditEntry.objects.filter(context="import d.csv").count() == 30 + 8  # the second import wrote nothing


def test_a_pipelined_import_rolls_back_what_it_wrote_when_a_later_chunk_is_rejected(registry, settings, tmp_path,
                                                                                     monkeypatch):
    """Written while planned: chunks are stored before a later one is found wrong; the whole import is rolled
    back and rejected with exactly the errors of pass 1 in the importing process."""
    settings.IMPORT_PIPELINE = True
    written: list[int] = []
    original_take = import_service._ChunkWriter.take

    def take(self, index, spooled):
        original_take(self, index, spooled)
        written.append(self.rows)

    monkeypatch.setattr(import_service._ChunkWriter, "take", take)
    _cast, codes, path, rows = registry
    lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    lines[-2][4] = "一百"  # a cell error in the last chunk
    bad = _write(tmp_path / "late.csv", lines)
    declarations, audited = AnnualDeclaration.objects.count(), AuditEntry.objects.count()
    with pytest.raises(ImportRejected) as caught:
        import_apply(actor=None, kind="declarations", path=bad, filename="late.csv")
    assert caught.value.error_count == 1
    assert [(e.row, e.column) for e in caught.value.errors] == [(len(lines) - 1, "sales")]
    assert written and written[-1] >= 7  # chunks before it had been written (then rolled back)
    assert (AnnualDeclaration.objects.count(), AuditEntry.objects.count()) == (declarations, audited)


@pytest.mark.parametrize("pipeline", [False, True], ids=["planned-then-written", "written-while-planned"])
def test_a_file_with_errors_is_rejected_with_the_errors_it_always_gave(registry, settings, tmp_path, pipeline):
    settings.IMPORT_PIPELINE = pipeline
    _cast, codes, path, rows = registry
    lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    lines[3][4] = "一百"  # a cell error in the first chunk
    lines.append(lines[20])  # a row repeating one of another chunk
    lines.append(["91510100MA6CHKXX0X", 2025, "1", "", "", "", "", "", "", "", "", ""])  # no such company
    bad = _write(tmp_path / "bad.csv", lines)

    def rejected() -> ImportRejected:
        with pytest.raises(ImportRejected) as caught:
            import_apply(actor=None, kind="declarations", path=bad, filename="bad.csv")
        return caught.value

    with_workers = rejected()
    settings.IMPORT_PLANNERS = 1
    alone = rejected()
    assert with_workers.error_count == alone.error_count == 3
    assert [e.as_dict() for e in with_workers.errors] == [e.as_dict() for e in alone.errors]
    assert AnnualDeclaration.objects.filter(fiscal_year=2025).count() == 0
    assert pickle.dumps(with_workers.extra) == pickle.dumps(alone.extra)


def test_when_the_workers_cannot_plan_it_the_importing_process_does(registry, monkeypatch):
    """An actor that cannot be sent to a worker process (here: an attribute pickle refuses) does not fail the
    import: pass 1 runs in the importing process, as it does for a small file."""
    cast, _codes_, path, rows = registry
    used = []
    original = import_service._walk_parallel

    def spy(**kwargs):
        walk = original(**kwargs)
        used.append(walk is not None)
        return walk

    monkeypatch.setattr(import_service, "_walk_parallel", spy)
    actor = cast.olivia
    actor.not_picklable = lambda: None

    result = import_apply(actor=actor, kind="declarations", path=path, filename="d.csv")

    assert used == [False]
    assert (result.rows, result.created, result.updated) == (rows, 30, 8)
    assert AnnualDeclaration.objects.filter(fiscal_year=2025).count() == 30
