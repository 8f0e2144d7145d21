"""The heavy paths write exactly what they wrote before they were made fast: an import of enterprises and of
declarations (creates, updates, a year-over-year jump, provenance), and a scoring run, compared row by row and
audit entry by audit entry with a golden record taken from the straightforward implementation.

Regenerate the record (only when a change of behaviour is intended) with
`GOLDEN_WRITE=1 scripts/test tests/test_bulk_paths_golden.py`.
"""

import csv
import json
import os
import random
from datetime import date
from pathlib import Path

import pytest

from twincity.core.models import AuditEntry
from twincity.enterprises.imports import import_apply
from twincity.enterprises.models import AnnualDeclaration, Enterprise
from twincity.enterprises.validation import uscc_check
from twincity.points.models import ScoreResult
from twincity.points.tests import scenario

GOLDEN = Path(__file__).parent / "golden" / "bulk_paths.json"
VOLATILE = {"id", "created_at", "updated_at", "enterprise_id", "submitted_by_id", "organisation_id"}


@pytest.fixture(autouse=True)
def _runs_inline(settings):
    settings.POINTS_RUN_INLINE = True


def _codes(n: int) -> list[str]:
    rng = random.Random(7)
    codes = []
    while len(codes) < n:
        body = "91500107" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        code = body + uscc_check(body)
        if code not in codes:
            codes.append(code)
    return codes


def _write(path: Path, rows: list[list]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _files(tmp_path: Path) -> list[tuple[str, Path]]:
    codes = _codes(40)
    rng = random.Random(11)
    enterprises = [["credit_code", "name", "city", "district", "registered_on", "industry_cluster", "size_class",
                    "ip_I_self", "sei", "contact_person"]]
    for i, code in enumerate(codes):
        enterprises.append([code, f"测试企业{i:03d}有限公司", rng.choice(["重庆", "chengdu"]), "高新区",
                            f"20{10 + i % 12:02d}-0{1 + i % 9}-1{i % 9}", rng.choice(["ic", "集成电路", "ev", ""]),
                            rng.choice(["small", "中型", ""]), rng.choice(["3", "", "12"]), rng.choice(["Y", "否", ""]),
                            rng.choice(["张三", ""])])
    figures = ["employees", "rd_staff", "sales", "oprev", "rd", "cost", "assets", "liab", "na"]
    first = [["credit_code", "fiscal_year", *figures, "sales__source", "sales__verified"]]
    for code in codes:
        for year in (2024, 2025):
            employees = rng.randint(5, 400)
            sales = rng.randint(100, 90000) / 10
            assets = rng.randint(100, 90000) / 10
            liab = round(assets * rng.random(), 1)
            first.append([code, year, employees, employees // 4, sales, f"{sales:,.1f}", round(sales * 0.05, 2),
                          round(sales * 0.9, 1), assets, liab, round(assets - liab, 1), rng.choice(["tax", ""]),
                          rng.choice(["Y", ""])])
    second = [["credit_code", "fiscal_year", "employees", "rd", "tax", "sales__source"]]
    for i, code in enumerate(codes[:20]):
        second.append([code, 2025, 999999 if i % 5 == 0 else rng.randint(5, 400), rng.choice(["", "清空", "12.5"]),
                       rng.choice(["", "3.2"]), rng.choice(["", "audit_report"])])
    return [("enterprises", _write(tmp_path / "e.csv", enterprises)),
            ("declarations", _write(tmp_path / "d1.csv", first)),
            ("declarations", _write(tmp_path / "d2.csv", second))]


def _plain(row: dict) -> dict:
    return {k: (str(v) if not isinstance(v, (int, float, bool, type(None), dict, list, str)) else v)
            for k, v in sorted(row.items()) if k not in VOLATILE}


def _record() -> dict:
    return {
        "enterprises": [_plain(r) for r in Enterprise.objects.order_by("credit_code").values()],
        "declarations": [
            {"credit_code": r.pop("enterprise__credit_code"), **_plain(r)}
            for r in AnnualDeclaration.objects.order_by("enterprise__credit_code", "fiscal_year")
            .values("enterprise__credit_code", *[f.attname for f in AnnualDeclaration._meta.concrete_fields])
        ],
        "audit": [
            {"action": e.action, "object_type": e.object_type, "object_repr": e.object_repr, "context": e.context,
             "changes": {k: v for k, v in e.changes.items() if k not in VOLATILE},
             "subject_is_enterprise": e.subject.startswith("enterprises.enterprise:")}
            for e in AuditEntry.objects.order_by("object_type", "object_repr", "action", "id")
        ],
        "results": [
            {"credit_code": r.enterprise.credit_code, "verdict": r.verdict, "route": r.route,
             "score_min": str(r.score_min), "score_max": str(r.score_max), "grade": r.grade, "points": r.points,
             "bands": r.bands, "reasons": r.reasons, "facts": r.facts, "stage": r.stage, "peer_group": r.peer_group}
            for r in ScoreResult.objects.select_related("enterprise").order_by("run__standard__standard_id",
                                                                              "enterprise__credit_code")
        ],
    }


def test_imports_and_a_scoring_run_write_what_they_always_wrote(cast, tmp_path):
    for kind, path in _files(tmp_path):
        import_apply(actor=cast.olivia, kind=kind, path=path, filename=path.name)
    scenario.run(cast, "scp-v1", evaluation_date=date(2026, 6, 30))
    scenario.run(cast, "tsme-2017", evaluation_date=date(2026, 6, 30))
    record = json.loads(json.dumps(_record(), ensure_ascii=False, sort_keys=True))
    if os.environ.get("GOLDEN_WRITE"):
        GOLDEN.write_text(json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for part in ("enterprises", "declarations", "audit", "results"):
        assert record[part] == golden[part], part


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pipeline", [False, True], ids=["planned-then-written", "written-while-planned"])
def test_imports_planned_by_worker_processes_write_what_they_always_wrote(cast, tmp_path, settings, monkeypatch,
                                                                          pipeline):
    """The same imports with the declarations files planned by two worker processes in chunks of 7 rows (pass 1
    of a large file), written after the whole file is planned or each chunk while the workers plan the next (the
    default on PostgreSQL): the same rows and audit entries as the golden record. Transactional: the workers are
    other processes and see only committed rows."""
    from twincity.enterprises.imports import service as import_service

    settings.IMPORT_PLANNERS = 2
    settings.IMPORT_PARALLEL_ROWS = 1
    settings.IMPORT_PIPELINE = pipeline
    monkeypatch.setattr(import_service, "CHUNK", 7)
    used: list[bool] = []
    original = import_service._walk_parallel

    def spy(**kwargs):
        walk = original(**kwargs)
        used.append(walk is not None and (kwargs.get("sink") is not None) == pipeline)
        return walk

    monkeypatch.setattr(import_service, "_walk_parallel", spy)
    for kind, path in _files(tmp_path):
        import_apply(actor=cast.olivia, kind=kind, path=path, filename=path.name)
    assert used == [True, True]  # both declarations files, the way asked
    record = json.loads(json.dumps(_record(), ensure_ascii=False, sort_keys=True))
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for part in (record, golden):  # the imports' entries (a transactional test may see other set-up's too)
        part["audit"] = [entry for entry in part["audit"] if entry["object_type"].startswith("enterprises.")]
    for part in ("enterprises", "declarations", "audit"):
        assert record[part] == golden[part], part
