"""Alice's product list (金融产品, /finance/products/) with a large registry and many products loaded.

    .venv/bin/python benchmarks/registry_bench.py --enterprises 100000 --seed-only      # once: prints the file
    .venv/bin/python benchmarks/finance_pages_bench.py --from /tmp/…/registry.sqlite3 --products 200 --requests 200
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/twincity_x .venv/bin/python benchmarks/finance_pages_bench.py \
        --from SEEDED_DATABASE_NAME ...

The database is new for every run, as benchmarks/registry_bench.py makes it: a copy of a seeded SQLite file
(`--from PATH`), or, with DATABASE_URL, a PostgreSQL database created from a seeded one as its template (`--from
NAME`) and dropped at the end; without `--from`, `seed_demo` for `--enterprises` first (minutes). Then, timed apart
from the requests: the built-in standards, a scoring run of scp-v1 over the whole registry (the standard the
products read, so alice has her points and grade; `--no-scoring` skips it), and `--products` products published
beside the demo's (the matching benchmark's generated products, benchmarks/matching_bench.py, spread over the
demo banks: points or grade, clusters, cities, qualifications, years, revenue, compliance).

The page is requested through Django's test client (the whole middleware stack, DEBUG off, no HTTP server), as
alice, `--requests` times after one warm-up request, and the same with an amount and term asked (the net cost of
every product). The server time is the wall time of each request in this process; CPU ms per request is this
process's (the database's own CPU is not in it on PostgreSQL). The third row asks for the list with every cached
figure computed anew (fresh cache keys per request): the cost of a cache miss. The last line is one JSON object: enterprises,
products (published), requests, and per page p50_ms, p95_ms, max_ms, cpu_ms (median), queries (one request);
with the load average and the database. Then (`--whitelist-consents`, default 5,000) bella's whitelist of her
branch's points loan: random enterprises consent to her bank, and the page is timed cold (the whole registry matched
in one batch) and warm (`--whitelist-requests`), and its CSV export once (`whitelist` in the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

import matching_bench  # noqa: E402
from registry_bench import _admin, _pg  # noqa: E402

# (name, path, cached): the uncached row renders the offers on every request (a cache miss: the first request
# after an audited write or a finished run), as the page did before it kept them per registry version.
PAGES = (("/finance/products/", "/finance/products/", True),
         ("/finance/products/?amount=&term_months=", "/finance/products/?amount=1000000&term_months=12", True),
         ("/finance/products/ (uncached)", "/finance/products/", False))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def publish_products(count: int, seed: int) -> int:
    from twincity.accounts.models import Organisation
    from twincity.finance.models import FinancialProduct
    from twincity.finance.services import product_version_build

    banks = list(Organisation.objects.filter(kind=Organisation.Kind.BANK, parent__isnull=False).order_by("pk"))
    made = []
    for j, definition in enumerate(matching_bench.products(count, seed)):
        product_id = f"bench-{definition['id']}"
        made.append(product_version_build(institution=banks[j % len(banks)], product_id=product_id, version=1,
                                          definition={**definition, "id": product_id}))
    FinancialProduct.objects.bulk_create(made, batch_size=500)
    return FinancialProduct.objects.filter(status=FinancialProduct.Status.PUBLISHED).count()


def measure(requests: int) -> dict[str, dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from twincity.accounts.models import User

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.get(username="alice"))
    figures: dict[str, dict] = {}
    import uuid

    from twincity.core import caching

    prefix = caching.PREFIX
    for name, path, keep in PAGES:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")
        offers = response.content.decode().count('class="card offer"')
        if not keep:
            caching.PREFIX = f"{prefix}:bench-{uuid.uuid4().hex}"
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        queries = len(captured)
        times, cpus = [], []
        for _ in range(requests):
            if not keep:  # keys no request has used: every figure is computed again
                caching.PREFIX = f"{prefix}:bench-{uuid.uuid4().hex}"
            cpu, started = cpu_seconds(), time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            cpus.append((cpu_seconds() - cpu) * 1000)
        caching.PREFIX = prefix
        figures[name] = {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 95), 1),
                         "max_ms": round(max(times), 1), "cpu_ms": round(statistics.median(cpus), 1),
                         "queries": queries, "offers": offers}
        print(f"{name}: {figures[name]}", file=sys.stderr, flush=True)
    return figures


def measure_whitelist(requests: int, consents: int, seed: int) -> dict:
    """bella's whitelist of her branch's points loan: `consents` random enterprises consent to her bank (bulk rows,
    as a load would hold them); the first request matches the whole registry (cold), the next ones read the
    qualifying set from the cache; and the CSV export of every member. Each request logs its members."""
    import random
    from datetime import timedelta

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from twincity.accounts.models import User
    from twincity.enterprises.models import Enterprise
    from twincity.finance.models import AccessLog, Consent

    bella = User.objects.get(username="bella")
    pks = list(Enterprise.objects.values_list("pk", flat=True))
    chosen = random.Random(seed).sample(pks, min(consents, len(pks)))
    now = timezone.now()
    Consent.objects.bulk_create([Consent(enterprise_id=pk, institution=bella.organisation.parent or bella.organisation,
                                         purpose="credit_assessment", valid_from=now - timedelta(days=1),
                                         valid_until=now + timedelta(days=30)) for pk in chosen], batch_size=2000)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(bella)
    path = "/finance/products/crcb-points-loan/whitelist/"
    started, cpu = time.perf_counter(), cpu_seconds()
    response = client.get(path)
    cold_ms, cold_cpu_ms = (time.perf_counter() - started) * 1000, (cpu_seconds() - cpu) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    members = int(response.content.decode().split('data-count="members">', 1)[1].split("<", 1)[0])
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    queries = len(captured)  # now: later requests rotate the connection's log
    times, cpus = [], []
    for _ in range(requests):
        cpu, started = cpu_seconds(), time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        cpus.append((cpu_seconds() - cpu) * 1000)
    started = time.perf_counter()
    csv = b"".join(client.get("/finance/products/crcb-points-loan/whitelist.csv").streaming_content)
    export_ms = (time.perf_counter() - started) * 1000
    figures = {"consents": len(chosen), "members": members, "cold_ms": round(cold_ms, 1),
               "cold_cpu_ms": round(cold_cpu_ms, 1), "p50_ms": round(statistics.median(times), 1),
               "p95_ms": round(percentile(times, 95), 1), "cpu_ms": round(statistics.median(cpus), 1),
               "queries": queries, "requests": requests, "csv_export_ms": round(export_ms, 1),
               "csv_rows": csv.count(b"\r\n") - 1, "access_log_rows": AccessLog.objects.count()}
    print(f"whitelist: {figures}", file=sys.stderr, flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=100_000, help="seeded when there is no --from")
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--from", dest="template", default="",
                        help="a database registry_bench.py --seed-only kept (SQLite file path or PostgreSQL name)")
    parser.add_argument("--no-scoring", dest="score", action="store_false")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--whitelist-consents", type=int, default=5000,
                        help="also time bella's whitelist with this many consents (0: skip)")
    parser.add_argument("--whitelist-requests", type=int, default=50)
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="twincity-finance-bench-"))
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "0", "SECURE_SSL_REDIRECT": "0",
                       "SECURE_COOKIES": "0", "SECURE_HSTS_SECONDS": "0", "ALLOWED_HOSTS": "testserver",
                       "ACCESS_LOG_LEVEL": "WARNING"})
    base_url = os.environ.get("DATABASE_URL", "")
    pg_database = admin_url = ""
    if base_url:
        import urllib.parse

        admin_url, name = _admin(base_url)
        pg_database = f"{name}_finance_{os.getpid()}"
        template = f' TEMPLATE "{args.template}"' if args.template else ""
        _pg(admin_url, f'CREATE DATABASE "{pg_database}"{template}')
        os.environ["DATABASE_URL"] = urllib.parse.urlunsplit(
            urllib.parse.urlsplit(base_url)._replace(path=f"/{pg_database}"))
    else:
        os.environ["SQLITE_NAME"] = str(workdir / "finance.sqlite3")
        if args.template:
            shutil.copyfile(args.template, workdir / "finance.sqlite3")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from twincity.demo import services as demo
    from twincity.enterprises.models import Enterprise
    from twincity.points import selectors, services

    try:
        call_command("migrate", verbosity=0)
        vendor = connection.vendor
        if not args.template:
            demo.seed(enterprises=args.enterprises, seed=args.seed)
        enterprises = Enterprise.objects.count()
        print(f"database: {vendor}, {enterprises} enterprises", file=sys.stderr, flush=True)
        services.standards_builtin_sync()
        if args.score:
            started = time.perf_counter()
            run = services.scoring_run_create(actor=None, standard=selectors.standard_latest(standard_id="scp-v1"),
                                              evaluation_date=timezone.localdate(), system=True)
            services.scoring_run_execute(run_id=run.pk)
            print(f"scored scp-v1: {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
        products = publish_products(args.products, args.seed)
        print(f"published products: {products}", file=sys.stderr, flush=True)
        load_before = os.getloadavg()[0]
        started, cpu = time.perf_counter(), cpu_seconds()
        pages = measure(args.requests)
        whitelist = (measure_whitelist(args.whitelist_requests, args.whitelist_consents, args.seed)
                     if args.whitelist_consents else None)
        report = {
            "enterprises": enterprises, "products": products, "requests": args.requests, "database": vendor,
            "client": "django.test.Client in process (DEBUG off, whole middleware stack, no HTTP server)",
            "seconds": round(time.perf_counter() - started, 1), "cpu_seconds": round(cpu_seconds() - cpu, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(), "pages": pages, "whitelist": whitelist,
        }
    finally:
        connection.close()
        if args.keep:
            print(f"kept: {pg_database or workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            if pg_database:
                _pg(admin_url, f'DROP DATABASE IF EXISTS "{pg_database}"')
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
