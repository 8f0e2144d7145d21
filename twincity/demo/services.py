"""Loading the demo data into the database: the organisations and persona users, then the generated registry.

Seeding is not a user action, so it leaves no audit entries. The rows were validated by the generator
(through the registry's one validation and merge); they are written with the kernel's bulk insert.
"""

import gc
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from twincity.accounts.models import Organisation, User
from twincity.core.bulk import bulk_insert
from twincity.demo.finance import demo_cases_load, demo_cases_reset, demo_equity_load, demo_products_load
from twincity.demo.generator import (
    DECLARATION_COLUMNS,
    DEFAULT_ENTERPRISES,
    DEFAULT_SEED,
    ENTERPRISE_COLUMNS,
    QUALIFICATION_COLUMNS,
    iter_chunks,
    rows_of,
)
from twincity.demo.govservices import CASES as GOV_CASES
from twincity.demo.govservices import demo_govservices_load, demo_govservices_reset
from twincity.demo.instruments import demo_instruments_load
from twincity.demo.licences import demo_licences_load, demo_licences_reset
from twincity.demo.personas import ALICE_CODE, BOB_CODE, DEMO_PASSWORD, ORGANISATIONS, PERSONA_USERNAMES, PERSONAS
from twincity.demo.riskpool import demo_riskpool_load, demo_riskpool_reset
from twincity.demo.talent import demo_talent_load
from twincity.demo.vouchers import demo_vouchers_load
from twincity.enterprises.models import AnnualDeclaration, Enterprise, Qualification
from twincity.points.models import EvaluationInput, ScoreResult


@dataclass
class SeedResult:
    seeded: bool
    enterprises: int = 0
    declarations: int = 0
    flagged: int = 0
    qualifications: int = 0
    organisations: int = 0
    products: int = 0
    cases: int = 0  # financing demands and applications (twincity.demo.finance.demo_cases_load)
    guarantees: int = 0
    instruments: int = 0
    vouchers: int = 0
    talent_cards: int = 0
    service_cases: int = 0  # public-service cases (twincity.demo.govservices)
    users: int = 0
    seconds: float = 0.0
    reason: str = ""
    by_city: dict[str, int] = field(default_factory=dict)


def already_seeded() -> str:
    """Why seeding would be skipped ("" when the database has no registry data and no persona users)."""
    if Enterprise.objects.exists():
        return f"{Enterprise.objects.count()} enterprises already in the registry"
    if User.objects.filter(username__in=PERSONA_USERNAMES).exists():
        return "the demo users already exist"
    return ""


def reset() -> None:
    """Delete the registry (enterprises, declarations, qualifications) and the scoring results that name it.
    Organisations and users are kept. The demo's guarantees and risk pool go first, then its financing cases."""
    demo_licences_reset()  # 一业一证 applications name their enterprise (protected)
    demo_riskpool_reset()  # guarantees name their financing case (protected)
    demo_cases_reset()  # financing cases name their enterprise (protected)
    demo_govservices_reset()  # seeded again with the registry
    ScoreResult.objects.all().delete()
    EvaluationInput.objects.all().delete()
    Qualification.objects.all().delete()
    AnnualDeclaration.objects.all().delete()
    Enterprise.objects.all().delete()


# Above this many enterprises the rows are generated in a second process while this one writes.
BACKGROUND_THRESHOLD = 20_000


def _row_chunks(n: int, seed: int, chunk_size: int, background: bool) -> Iterator[tuple[list, list, list]]:
    if not background:
        for chunk in iter_chunks(n, seed, chunk_size):
            yield rows_of(chunk)
        return
    # A plain child interpreter (`python -m twincity.demo.generator`): nothing of this process (its database
    # connection, its __main__) is inherited or re-imported, unlike multiprocessing's fork or spawn.
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "twincity.demo.generator", str(n), str(seed), str(chunk_size)],
        cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        while True:
            try:
                item = pickle.load(process.stdout)
            except EOFError:
                process.wait()
                raise RuntimeError(
                    f"the demo data generator process failed (exit code {process.returncode})") from None
            if item is None:
                break
            yield item
    finally:
        process.stdout.close()
        if process.poll() is None:
            process.kill()
        process.wait()


# The facts of the persona companies that the registry cannot derive, as a reviewer recorded them: the 2026 专精特新
# rules need a development score and a market-position judgement.
PERSONA_INPUTS = {
    ALICE_CODE: [("quality_score", 2026, "63.5", "国家优质中小企业梯度培育平台"), ("quality_score", 2025, "58", "国家优质中小企业梯度培育平台"),
                 ("market_position_ok", 0, True, "现场核查 2026-06")],
    BOB_CODE: [("quality_score", 2026, "71", "国家优质中小企业梯度培育平台"), ("market_position_ok", 0, True, "现场核查 2026-05")],
}


def _persona_inputs(*, recorded_by: int | None) -> None:
    companies = dict(Enterprise.objects.filter(credit_code__in=PERSONA_INPUTS).values_list("credit_code", "pk"))
    EvaluationInput.objects.bulk_create([
        EvaluationInput(enterprise_id=companies[code], fact=fact, year=year, value=value, source=source,
                        recorded_by_id=recorded_by)
        for code, inputs in PERSONA_INPUTS.items() if code in companies
        for fact, year, value, source in inputs
    ])


def seed(*, enterprises: int = DEFAULT_ENTERPRISES, seed: int = DEFAULT_SEED, force_reset: bool = False,
         batch_size: int = 5_000, background: bool | None = None) -> SeedResult:
    """Load the demo data unless the database already has some (or `force_reset`: replace the registry).

    Organisations and persona users are created or updated by name; the registry is generated and inserted
    in pieces of `batch_size` enterprises (memory stays flat) inside one transaction, so a failed run leaves
    nothing half-done. `background` (default: above BACKGROUND_THRESHOLD enterprises) generates in a second
    process while this one writes; the data is the same either way.
    """
    started = time.perf_counter()
    if not force_reset:
        reason = already_seeded()
        if reason:
            return SeedResult(seeded=False, reason=reason)
    if enterprises < 2:
        raise ValueError("at least 2 enterprises (the persona companies)")
    if background is None:
        background = enterprises > BACKGROUND_THRESHOLD

    result = SeedResult(seeded=True)
    now = timezone.now()
    timestamps = {"created_at": now, "updated_at": now}
    city_at = ENTERPRISE_COLUMNS.index("city")
    flags_at = 1 + DECLARATION_COLUMNS.index("flags")
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of small, acyclic containers: the cyclic collector would only rescan them
    try:
        with transaction.atomic():
            if force_reset:
                reset()
            orgs: dict[str, Organisation] = {}
            for spec in ORGANISATIONS:  # parents come before their branches
                org, _created = Organisation.objects.update_or_create(
                    kind=spec.kind, name=spec.name,
                    defaults={"city": spec.city, "parent": orgs[spec.parent] if spec.parent else None},
                )
                orgs[spec.key] = org
            password = make_password(DEMO_PASSWORD)  # hashed once: the hasher is deliberately slow
            user_ids: dict[str, int | None] = {"": None}
            for persona in PERSONAS:
                user, _created = User.objects.update_or_create(
                    username=persona.username,
                    defaults={"role": persona.role, "organisation": orgs.get(persona.organisation),
                              "display_name": persona.display_name, "password": password, "is_staff": False,
                              "is_superuser": False, "is_active": True},
                )
                user_ids[persona.username] = user.pk
            persona_org = {"": None, "alice": orgs["alice_org"].pk, "bob": orgs["bob_org"].pk}
            result.organisations, result.users = len(orgs), len(PERSONAS)

            for enterprise_rows, declaration_rows, qualification_rows in _row_chunks(
                enterprises, seed, batch_size, background
            ):
                bulk_insert(
                    Enterprise,
                    [(*row[:-1], persona_org[row[-1]]) for row in enterprise_rows],
                    (*ENTERPRISE_COLUMNS, "organisation_id"), constants=timestamps, batch_size=batch_size,
                )
                codes = [row[0] for row in enterprise_rows]
                ids = dict(Enterprise.objects.filter(credit_code__in=codes).values_list("credit_code", "pk"))
                enterprise_ids = [ids[code] for code in codes]
                result.declarations += bulk_insert(
                    AnnualDeclaration,
                    [(enterprise_ids[row[0]], *row[1:-1], user_ids[row[-1]]) for row in declaration_rows],
                    ("enterprise_id", *DECLARATION_COLUMNS, "submitted_by_id"), constants=timestamps,
                    batch_size=batch_size,
                )
                result.qualifications += bulk_insert(
                    Qualification,
                    [(enterprise_ids[row[0]], *row[1:]) for row in qualification_rows],
                    ("enterprise_id", *QUALIFICATION_COLUMNS), constants=timestamps, batch_size=batch_size,
                )
                result.enterprises += len(codes)
                result.flagged += sum(1 for row in declaration_rows if row[flags_at])
                for row in enterprise_rows:
                    result.by_city[row[city_at]] = result.by_city.get(row[city_at], 0) + 1
            _persona_inputs(recorded_by=user_ids["olivia"])
            result.products = demo_products_load(orgs)
            result.products += demo_equity_load(orgs)
            result.cases = demo_cases_load(orgs)
            result.guarantees = demo_riskpool_load(orgs)
            result.instruments = demo_instruments_load(orgs)
            result.vouchers = demo_vouchers_load(orgs)
            result.talent_cards = demo_talent_load()
            # Cases go through the services (one write path, ~0.1 s each): a small registry gets a few.
            result.service_cases = demo_govservices_load(orgs, cases=min(GOV_CASES, max(12, enterprises // 10)))
            demo_licences_load()  # after govservices: its halls and departments are reused by name
    finally:
        if gc_was_enabled:
            gc.enable()
    result.seconds = time.perf_counter() - started
    return result
