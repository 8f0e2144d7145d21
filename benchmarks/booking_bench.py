"""Instrument sharing at scale (issue #9): availability search over many instruments and bookings, then many
clients booking overlapping slots at once.

    .venv/bin/python benchmarks/booking_bench.py --instruments 10000 --bookings 1000000 --clients 50 --seconds 20
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/twincity_instfeeds_bench \
        .venv/bin/python benchmarks/booking_bench.py --instruments 10000 --bookings 1000000 --clients 50 --seconds 20

The database is new: a SQLite file in a temporary directory, or, with DATABASE_URL, the PostgreSQL database it
names, created (dropped first if it exists) and dropped at the end (`--keep` keeps either; its location is
printed). Migrated, then seeded in bulk (not through the service: this is a load fixture, not demo data):
`--instruments` instruments of 20 owner institutes in both cities with a service item and three prices each, and
`--bookings` bookings spread evenly over them across a year around now (none overlapping on its instrument;
past ones mostly completed, future ones mostly confirmed, some pending, some cancelled), then ANALYZE.

1. **Search** (`--searches`, default 300, after 10 warm-up searches): the catalogue search with availability as the
   API and the page run it (`selectors.catalogue_search` with a window, the first keyset page of 20, the page's
   prices), for random windows of 1–8 hours in the next 30 days; a fifth of them also filter by city, a fifth
   by a word of the name. Times are wall times in this process, p50/p95 by nearest rank; the queries of one
   search are counted (they must not grow with the data). The query plan of one search is printed (stderr).
2. **Concurrent booking**: `--clients` threads, each with its own database connection and its own user (an
   enterprise user of its own company), book 1–2 hour slots at random on the `--hot` instruments (default 16,
   rules: open round the clock, 60 days ahead) through the service layer (`services.booking_create`: the row
   lock, the rule check, the exclusion constraint on PostgreSQL, the audit entry), all starting together, for
   `--seconds` seconds or until `--attempts` attempts in all. Slots are drawn from 60-minute starts over the next
   55 days, so attempts collide; `hot_occupancy` is the share of that time held at the end (4 hot instruments
   hold ~3,500 bookings: at ~200 bookings/s they are full within 20 s, and a run near 1 measures the exhausted
   slots more than the platform; 16 keep a quarter to a half held and a quarter of the attempts conflicting).
   A conflict (409) is an expected answer; any other error is counted as an error.
   `bookings_per_second` = bookings made / the wall time from the start signal to the last client's end.
   Then a SQL self-join counts pairs of slot-holding bookings of the same instrument whose held periods overlap
   (`overlaps`, must be 0) over the hot instruments (`--full-check`: all instruments).

`--processes` runs the clients as forked processes instead of threads (threads share one Python lock, so their
Python work uses one core); `--pools W` runs them as threads spread over W forked processes, the shape of the
production server (granian's worker processes × threads, scripts/serve --production); `--no-version-bump` is a diagnosis: it skips the cache-version bump that every audited
write makes after its commit (twincity.core.caching: one row every writer of the platform updates), to measure what
that shared row costs the booking rate.

CPU seconds: this process's (the clients and the search), and on PostgreSQL on this machine the database
backends' (read from /proc for each client's backend). The last line is one JSON object: instruments, bookings,
search_p50_ms, search_p95_ms, search_queries, clients, attempts, made, conflicts, errors, bookings_per_second,
overlaps, database, and the timings, CPU and load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NAMES = (
    "场发射扫描电子显微镜",
    "透射电子显微镜",
    "X射线衍射仪",
    "X射线光电子能谱仪",
    "核磁共振波谱仪",
    "热重分析仪",
    "紫外可见分光光度计",
    "流式细胞仪",
    "激光共聚焦显微镜",
    "液相色谱质谱联用仪",
    "电子束光刻系统",
    "等离子体刻蚀机",
    "原子层沉积系统",
    "半导体参数分析仪",
    "矢量网络分析仪",
    "探针台",
    "电感耦合等离子体质谱仪",
    "气相色谱质谱联用仪",
    "超高效液相色谱仪",
    "红外光谱仪",
    "原子力显微镜",
    "拉曼光谱仪",
    "差示扫描量热仪",
    "比表面积分析仪",
    "单晶衍射仪",
    "工业CT",
    "三坐标测量机",
    "高性能计算集群",
    "万能试验机",
    "小动物活体成像系统",
)
MAKERS = ("ZEISS", "JEOL", "Bruker", "Thermo Fisher", "Agilent", "Shimadzu", "Waters", "Keysight", "HORIBA")
CATEGORIES = ("0101", "0102", "0103", "0104", "0105", "0106", "0108", "0109", "0110", "0401", "1001")
OWNERS = 20
HOT_RULES = {
    "slot_minutes": 30,
    "open_from": "00:00",
    "open_until": "24:00",
    "weekdays": [1, 2, 3, 4, 5, 6, 7],
    "min_minutes": 30,
    "max_minutes": 240,
    "advance_days": 60,
}
PAGE = 20


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def _admin(url: str) -> tuple[str, str]:
    """(maintenance database URL, the named database) of a PostgreSQL URL."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def _pg(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)


def backend_cpu() -> float | None:
    """CPU seconds of this thread's PostgreSQL backend so far (a server on this machine), else None."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- seeding ------------------------------------------------------------------------------------------------------


def seed(*, instruments: int, bookings: int, hot: int, clients: int, now: datetime, rng: random.Random) -> dict:
    from django.db import connection, transaction

    from twincity.accounts.models import Organisation, User
    from twincity.core.bulk import bulk_insert_encoded, bulk_writes
    from twincity.instruments.models import Booking, Instrument, InstrumentCategory, Price, RateClass, ServiceItem
    from twincity.instruments.services import categories_sync

    categories_sync()
    categories = {c.code: c for c in InstrumentCategory.objects.filter(code__in=CATEGORIES)}
    owners = Organisation.objects.bulk_create(
        Organisation(
            kind=Organisation.Kind.INSTITUTE, name=f"基准测试研究院{i:02d}", city="chongqing" if i % 2 else "chengdu"
        )
        for i in range(OWNERS)
    )
    companies = Organisation.objects.bulk_create(
        Organisation(kind=Organisation.Kind.ENTERPRISE, name=f"基准测试企业{i:03d}", city="chongqing")
        for i in range(max(clients, 1))
    )
    users = User.objects.bulk_create(
        User(username=f"bench{i:03d}", role=User.Role.ENTERPRISE_USER, organisation=companies[i])
        for i in range(max(clients, 1))
    )
    made = Instrument.objects.bulk_create(
        (
            Instrument(
                owner=owners[i % OWNERS],
                name_zh=f"{NAMES[i % len(NAMES)]} {i:05d}",
                model=f"M-{rng.randrange(100, 999)}",
                maker=MAKERS[i % len(MAKERS)],
                category=categories[CATEGORIES[i % len(CATEGORIES)]],
                original_value=Decimal(rng.randrange(500_000, 30_000_000)),
                city=owners[i % OWNERS].city,
                rules=HOT_RULES if i < hot else {},
            )
            for i in range(instruments)
        ),
        batch_size=2000,
    )
    items = ServiceItem.objects.bulk_create(
        (ServiceItem(instrument=instrument, code="machine-time", name_zh="机时") for instrument in made),
        batch_size=2000,
    )
    Price.objects.bulk_create(
        (
            Price(
                service_item=item, rate_class=rc, amount=Decimal(rng.randrange(100, 3000)), valid_from=date(2026, 1, 1)
            )
            for item in items
            for rc in RateClass.values
        ),
        batch_size=5000,
    )

    columns = [
        "public_id",
        "instrument_id",
        "user_id",
        "organisation_id",
        "starts_at",
        "ends_at",
        "blocked_from",
        "blocked_until",
        "status",
        "hold_expires_at",
        "purpose",
        "service_item_id",
        "rate_class",
        "unit_price",
        "amount",
        "rules_version",
        "decision_note",
        "cancellation_fee",
        "fee_waived_reason",
        "overridden_rules",
        "override_reason",
        "sequence",
        "created_at",
        "updated_at",
        "cash_amount",
    ]
    # The fields later slices added, the same for every seeded booking (exclusive: capacity 1; no voucher part).
    constants = {"exclusive": True, "no_show_fee": Decimal(0), "fee_assessed": Decimal(0), "voucher_amount": Decimal(0)}
    per = [bookings // instruments + (1 if i < bookings % instruments else 0) for i in range(instruments)]
    year = timedelta(days=365)
    first = now - timedelta(days=180)
    total = 0
    rows: list[tuple] = []

    def flush() -> None:
        nonlocal total
        with transaction.atomic():
            bulk_writes()
            total += bulk_insert_encoded(Booking, rows, columns, constants=constants)
        rows.clear()

    for i, instrument in enumerate(made):
        k = per[i]
        if not k:
            continue
        spacing = year / k
        item = items[i]
        for j in range(k):
            slot = first + spacing * j
            hours = rng.choice((1, 1, 2, 2, 3, 4))
            # Whole half-hours that leave the next slot free even after rounding the start up (no overlap).
            room = max(int((spacing - timedelta(hours=hours, minutes=30)) / timedelta(minutes=30)), 0)
            start = (slot + timedelta(minutes=30 * rng.randrange(room + 1))).replace(second=0, microsecond=0)
            start = start.replace(minute=0 if start.minute < 30 else 30)
            if start < slot:
                start += timedelta(minutes=30)
            end = start + timedelta(hours=hours)
            u = rng.random()
            if end <= now:
                status = "completed" if u < 0.8 else "cancelled" if u < 0.95 else "confirmed"
            else:
                status = "confirmed" if u < 0.8 else "pending" if u < 0.9 else "cancelled"
            hold = now + timedelta(hours=rng.randrange(1, 48)) if status == "pending" else None
            user = users[(i + j) % len(users)]
            rows.append(
                (
                    uuid.UUID(int=rng.getrandbits(128), version=4).hex,
                    instrument.pk,
                    user.pk,
                    user.organisation_id,
                    start,
                    end,
                    start,
                    end,
                    status,
                    hold,
                    "",
                    item.pk,
                    "industry",
                    "600.00",
                    str(600 * hours) + ".00",
                    1,
                    "",
                    "0.00",
                    "",
                    "[]",
                    "",
                    0,
                    start - timedelta(days=3),
                    start - timedelta(days=3),
                    str(600 * hours) + ".00",
                )
            )
        if len(rows) >= 50_000:
            flush()
            print(f"  {total:,} bookings", file=sys.stderr, flush=True)
    if rows:
        flush()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "instruments": [m.pk for m in made],
        "hot": [m.pk for m in made[:hot]],
        "users": [u.pk for u in users],
        "bookings": total,
    }


# --- search ---------------------------------------------------------------------------------------------------------


def search_once(*, free_from: datetime, free_until: datetime, city: str = "", text: str = "") -> int:
    from django.utils import timezone

    from twincity.core.keyset import keyset_page
    from twincity.instruments import selectors
    from twincity.instruments.models import RateClass

    today = timezone.localdate()
    qs = selectors.catalogue_search(
        text=text,
        city=city,
        rate_class=RateClass.INDUSTRY,
        on=today,
        free_from=free_from,
        free_until=free_until,
        now=timezone.now(),
    )
    page = keyset_page(qs, ["name_zh"], size=PAGE)
    selectors.prices_from(instruments=page.object_list, rate_class=RateClass.INDUSTRY, on=today)
    return len(page.object_list)


def windows(count: int, now: datetime, rng: random.Random) -> list[dict]:
    out = []
    base = now.replace(minute=0, second=0, microsecond=0)
    for _ in range(count):
        start = base + timedelta(minutes=30 * rng.randrange(1, 30 * 48))
        filters: dict = {"free_from": start, "free_until": start + timedelta(minutes=30 * rng.randrange(2, 17))}
        u = rng.random()
        if u < 0.2:
            filters["city"] = rng.choice(("chongqing", "chengdu"))
        elif u < 0.4:
            filters["text"] = rng.choice(NAMES)[:3]
        out.append(filters)
    return out


def measure_search(count: int, now: datetime, rng: random.Random) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from twincity.instruments import selectors

    for filters in windows(10, now, rng):  # warm-up
        search_once(**filters)
    sample = windows(1, now, rng)[0]
    with CaptureQueriesContext(connection) as captured:
        found = search_once(**sample)
    queries = len(captured)
    qs = selectors.catalogue_search(free_from=sample["free_from"], free_until=sample["free_until"], now=now)
    explain = {"analyze": True} if connection.vendor == "postgresql" else {}
    print("plan of the search query:\n" + qs.order_by("name_zh", "pk")[: PAGE + 1].explain(**explain), file=sys.stderr)
    times = []
    empty = 0
    cpu0 = cpu_seconds()
    for filters in windows(count, now, rng):
        started = time.perf_counter()
        found = search_once(**filters)
        times.append((time.perf_counter() - started) * 1000)
        empty += found == 0
    return {
        "search_p50_ms": round(statistics.median(times), 2),
        "search_p95_ms": round(percentile(times, 95), 2),
        "search_max_ms": round(max(times), 2),
        "search_cpu_ms": round((cpu_seconds() - cpu0) * 1000 / count, 2),
        "search_queries": queries,
        "searches": count,
        "searches_empty": empty,
        "first_page_rows": found,
    }


# --- concurrent booking ---------------------------------------------------------------------------------------------


def _client(
    n: int, *, hot: list[int], users: list[int], starts: list[datetime], seed_: int, barrier, budget, deadline, results
) -> None:
    """One client: its own connection and user, booking random slots on the hot instruments until the deadline or
    the shared attempt budget runs out; its counts, end time and database backend CPU go to `results`."""
    from django.db import OperationalError, connection

    from twincity.accounts.models import User
    from twincity.core.errors import ApplicationError
    from twincity.instruments import services
    from twincity.instruments.errors import BookingConflict, BookingRefused
    from twincity.instruments.models import Instrument

    rng = random.Random(seed_ * 1000 + n)
    mine = {"attempts": 0, "made": 0, "conflicts": 0, "refused": 0, "errors": 0}
    errors: list[str] = []
    try:
        user = User.objects.select_related("organisation").get(pk=users[n % len(users)])
        instruments = list(Instrument.objects.select_related("owner").filter(pk__in=hot))
        cpu0 = backend_cpu()
    finally:
        barrier.wait()
    try:
        while time.perf_counter() < deadline.value:
            with budget.get_lock():
                if budget.value <= 0:
                    break
                budget.value -= 1
            start = rng.choice(starts)
            mine["attempts"] += 1
            try:
                services.booking_create(
                    actor=user,
                    instrument=rng.choice(instruments),
                    starts_at=start,
                    ends_at=start + timedelta(hours=rng.choice((1, 2))),
                    purpose="并发基准",
                )
                mine["made"] += 1
            except BookingConflict:
                mine["conflicts"] += 1
            except BookingRefused:
                mine["refused"] += 1
            except (ApplicationError, OperationalError) as exc:
                mine["errors"] += 1
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
    finally:
        end = time.perf_counter()
        cpu1 = backend_cpu()
        server = cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else 0.0
        results.put((mine, end, server, errors[:3], cpu_seconds()))
        connection.close()


def _pool(ns: list[int], **shared) -> None:
    """One forked process running the clients `ns` as threads (each with its own connection)."""
    threads = [threading.Thread(target=_client, args=(n,), kwargs=shared) for n in ns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def measure_booking(
    *,
    clients: int,
    seconds: float,
    attempts: int,
    hot: list[int],
    users: list[int],
    now: datetime,
    seed_: int,
    processes: bool,
    pools: int = 0,
) -> dict:
    """`clients` threads (one process: Python's lock serialises their Python work) or, with `processes`, forked
    processes (the Python work on every core), or, with `pools` W, threads spread over W forked processes (the
    production server's shape: worker processes × threads); each client has its own database connection."""
    import multiprocessing
    import queue as queue_module

    from django.db import connections

    first = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    starts = [first + timedelta(hours=h) for h in range(24 * 55)]
    if pools:
        context = multiprocessing.get_context("fork")
        barrier, results = context.Barrier(clients + 1), context.Queue()
        budget, deadline = context.Value("q", attempts if attempts > 0 else 10**12), context.Value("d", 0.0)
        connections.close_all()  # each thread of each child opens its own
        shared = dict(hot=hot, users=users, starts=starts, seed_=seed_, barrier=barrier, budget=budget,
                      deadline=deadline, results=results)
        workers = [
            context.Process(target=_pool, args=(list(range(w, clients, pools)),), kwargs=shared, daemon=True)
            for w in range(pools)
        ]
    elif processes:
        context = multiprocessing.get_context("fork")
        barrier, results = context.Barrier(clients + 1), context.Queue()
        budget, deadline = context.Value("q", attempts if attempts > 0 else 10**12), context.Value("d", 0.0)
        connections.close_all()  # each child opens its own
        workers = [
            context.Process(
                target=_client,
                args=(n,),
                kwargs=dict(
                    hot=hot,
                    users=users,
                    starts=starts,
                    seed_=seed_,
                    barrier=barrier,
                    budget=budget,
                    deadline=deadline,
                    results=results,
                ),
                daemon=True,
            )
            for n in range(clients)
        ]
    else:
        barrier, results = threading.Barrier(clients + 1), queue_module.Queue()
        budget, deadline = (
            multiprocessing.Value("q", attempts if attempts > 0 else 10**12),
            multiprocessing.Value("d", 0.0),
        )
        workers = [
            threading.Thread(
                target=_client,
                args=(n,),
                kwargs=dict(
                    hot=hot,
                    users=users,
                    starts=starts,
                    seed_=seed_,
                    barrier=barrier,
                    budget=budget,
                    deadline=deadline,
                    results=results,
                ),
                daemon=True,
            )
            for n in range(clients)
        ]
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    for worker in workers:
        worker.start()
    cpu0 = cpu_seconds()
    deadline.value = time.perf_counter() + seconds
    started = time.perf_counter()
    barrier.wait()
    counts = {"attempts": 0, "made": 0, "conflicts": 0, "refused": 0, "errors": 0}
    ends, errors, server, child_cpu = [], [], 0.0, 0.0
    for _ in range(clients):
        mine, end, backend, errs, cpu = results.get()
        for key, value in mine.items():
            counts[key] += value
        ends.append(end)
        server += backend
        errors.extend(errs)
        child_cpu += cpu
    for worker in workers:
        worker.join()
    elapsed = max(ends) - started
    occupancy = _occupancy(hot, first, first + timedelta(hours=len(starts)))
    if errors:
        print(f"{counts['errors']} errors, e.g. {errors[:3]}", file=sys.stderr)
    if pools:
        children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        client_cpu = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    else:
        client_cpu = child_cpu if processes else cpu_seconds() - cpu0
    return {
        **counts,
        "clients": clients,
        "client_mode": f"threads in {pools} processes" if pools else "processes" if processes else "threads",
        "booking_seconds": round(elapsed, 2),
        "bookings_per_second": round(counts["made"] / elapsed, 1),
        "attempts_per_second": round(counts["attempts"] / elapsed, 1),
        "booking_cpu_seconds": round(client_cpu, 1),
        "booking_db_server_cpu_seconds": round(server, 1) if server else None,
        "hot": len(hot),
        "hot_occupancy": occupancy,
    }


def _occupancy(hot: list[int], first: datetime, last: datetime) -> float:
    """The share of the hot instruments' time the clients draw from that slot-holding bookings hold at the end:
    near 1, most attempts can only conflict, and the rate measures the exhausted slots, not the platform."""
    from twincity.instruments.models import Booking

    held = timedelta(0)
    for start, end in Booking.objects.filter(
        instrument_id__in=hot, status__in=("pending", "confirmed"), starts_at__lt=last, ends_at__gt=first
    ).values_list("starts_at", "ends_at"):
        held += min(end, last) - max(start, first)
    return round(held / ((last - first) * len(hot)), 3)


def overlaps(instrument_ids: list[int] | None) -> int:
    """Pairs of slot-holding bookings of one instrument whose held periods overlap (half-open)."""
    from django.db import connection

    where = ""
    params: list = []
    if instrument_ids is not None:
        where = f"AND a.instrument_id IN ({', '.join(['%s'] * len(instrument_ids))})"
        params = list(instrument_ids)
    sql = f"""
        SELECT COUNT(*) FROM instruments_booking a JOIN instruments_booking b
          ON b.instrument_id = a.instrument_id AND b.id > a.id
         AND b.blocked_from < a.blocked_until AND a.blocked_from < b.blocked_until
         AND b.status IN ('pending', 'confirmed')
         WHERE a.status IN ('pending', 'confirmed') {where}"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


# --- main -------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=10_000)
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--attempts", type=int, default=0, help="stop after this many attempts in all (0: no limit)")
    parser.add_argument(
        "--processes", action="store_true", help="clients are forked processes (default: threads of this process)"
    )
    parser.add_argument(
        "--no-version-bump",
        action="store_true",
        help="diagnosis only: skip the cache-version bump every audited write makes after commit (one "
        "row of core_cacheversion that every writer updates), to measure what it costs",
    )
    parser.add_argument(
        "--pools",
        type=int,
        default=0,
        help="the clients are threads spread over this many forked processes (the production server's worker "
        "processes × threads)",
    )
    parser.add_argument("--hot", type=int, default=16, help="instruments the clients book on")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--full-check", action="store_true", help="check every instrument for overlaps")
    parser.add_argument("--keep", action="store_true", help="keep the database (its location is printed)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="twincity-booking-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.pop("DEBUG", None)
    base_url = os.environ.get("DATABASE_URL", "")
    admin_url = pg_database = ""
    if base_url:
        admin_url, pg_database = _admin(base_url)
        _pg(admin_url, f'DROP DATABASE IF EXISTS "{pg_database}" WITH (FORCE)')
        _pg(admin_url, f'CREATE DATABASE "{pg_database}"')
        os.environ["DB_CONN_MAX_AGE"] = "0"
    else:
        os.environ["SQLITE_NAME"] = str(workdir / "booking.sqlite3")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.utils import timezone

    rng = random.Random(args.seed)
    result: dict = {}
    try:
        load_before = os.getloadavg()[0]
        call_command("migrate", verbosity=0)
        database = f"{connection.vendor} {connection.settings_dict['NAME']}"
        print(f"database: {database}", file=sys.stderr, flush=True)
        now = timezone.now().replace(microsecond=0)
        t0, c0 = time.perf_counter(), cpu_seconds()
        seeded = seed(
            instruments=args.instruments,
            bookings=args.bookings,
            hot=min(args.hot, args.instruments),
            clients=args.clients,
            now=now,
            rng=rng,
        )
        seed_seconds, seed_cpu = time.perf_counter() - t0, cpu_seconds() - c0
        print(
            f"seeded {args.instruments:,} instruments, {seeded['bookings']:,} bookings in {seed_seconds:.1f} s "
            f"(CPU {seed_cpu:.1f} s)",
            file=sys.stderr,
            flush=True,
        )
        search = measure_search(args.searches, now, rng)
        print(f"search: {search}", file=sys.stderr, flush=True)
        connection.close()
        if args.no_version_bump:
            import twincity.core.audit

            twincity.core.audit.version_bump = lambda name="registry": None
        booking = measure_booking(
            clients=args.clients,
            seconds=args.seconds,
            attempts=args.attempts,
            hot=seeded["hot"],
            users=seeded["users"],
            now=timezone.now(),
            seed_=args.seed,
            processes=args.processes,
            pools=args.pools,
        )
        print(f"booking: {booking}", file=sys.stderr, flush=True)
        found = overlaps(None if args.full_check else seeded["hot"])
        result = {
            "instruments": args.instruments,
            "bookings": seeded["bookings"],
            **search,
            **booking,
            "overlaps": found,
            "overlaps_checked": "all" if args.full_check else f"{len(seeded['hot'])} hot",
            "database": connection.vendor,
            "version_bump": not args.no_version_bump,
            "seed_seconds": round(seed_seconds, 1),
            "seed_cpu_seconds": round(seed_cpu, 1),
            "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
        }
    finally:
        connections.close_all()
        if args.keep:
            print(f"kept: {pg_database or workdir / 'booking.sqlite3'}", file=sys.stderr)
        else:
            if pg_database:
                _pg(admin_url, f'DROP DATABASE IF EXISTS "{pg_database}" WITH (FORCE)')
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result.get("overlaps") == 0 and not result.get("errors") else 1


if __name__ == "__main__":
    raise SystemExit(main())
