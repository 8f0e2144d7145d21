"""Schema-driven fuzzing of the whole JSON API with every check schemathesis has, as three kinds of caller.

Schemathesis's engine (what `st run` runs) reads `config.api.api`'s OpenAPI document and runs all its phases
against the WSGI application in-process: the documented examples, the coverage phase (boundary values, every
enum member, invalid values of every constraint, missing required parameters, undocumented methods), Hypothesis
fuzzing, and the stateful phase (links inferred between operations: create, read, delete, read again). Every
response passes every check: no 5xx, a documented status and content type, a body and headers that match their
schemas, invalid data refused and valid data accepted, a deleted resource gone, a created one there, and
authentication enforced. New endpoints are fuzzed automatically: the operations are read from the schema.

It runs as olivia (administrator), alice (enterprise user) and bella (bank officer), each through an API token.
The engine's workers are threads with their own database connections, so the data is committed
(`transaction=True`) and the tables are emptied afterwards. The run is deterministic (a fixed seed, derandomized
Hypothesis) and bounded (`MAX_EXAMPLES` per operation and phase, `STATEFUL_STEPS`).
"""

from datetime import date

import pytest
import schemathesis
from django.db import connection, connections
from django.test.testcases import LiveServerThread
from hypothesis import strategies as st
from schemathesis import engine
from schemathesis.engine import events
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER
from schemathesis.specs.openapi import unregister_string_format
from stdnum.cn import uscc

from config.api import api
from twincity.accounts.models import ApiToken
from twincity.accounts.services import api_token_create
from twincity.demo.finance import demo_products
from twincity.enterprises.fields import CREDIT_CODE_PATTERN
from twincity.enterprises.services import declaration_upsert
from twincity.finance.models import FinancialProduct
from twincity.testing import ALICE_CODE, BOB_CODE, Cast

MAX_EXAMPLES = 5
STATEFUL_STEPS = 10
SEED = 20261129
ROLES = ["olivia", "alice", "bella"]

pytestmark = pytest.mark.django_db(transaction=True)


def _config(base_url: str, key: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "base-url": base_url,
        "seed": SEED,
        # A run's body (kind or standard, a year range on its date) filters out many generated examples.
        "suppress-health-check": ["filter_too_much"],
        "workers": 1,
        # One connection per request, and an answer within a minute: a request that confuses the development
        # server's keep-alive (it reads no chunked bodies) cannot leave the next one waiting for ever; it fails,
        # naming its operation.
        "headers": {"Authorization": f"Bearer {key}", "Connection": "close"},
        "request-timeout": 60,
        "generation": {"deterministic": True, "max-examples": MAX_EXAMPLES},
        "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
        "checks": {"enabled": True},
        "operations": [
            # Where a valid request's acceptance depends on more than its schema can say, a schema-valid
            # request may rightly answer 422; every other check still runs on these operations.
            {   # the file's rows are what is validated (all or nothing, row by row), not the upload's shape
                "include-path": "/api/imports/{kind}",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {   # a derived definition must be a valid standard: the engine's validation, reported error by error
                "include-path": "/api/points/standards/{standard_id}/{version}/derive",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {   # the value's kind and range depend on the fact named in the path (a judgement is true/false,
                # a market share 0–1, a development score 0–100 with its year)
                "include-path": "/api/points/enterprises/{credit_code}/inputs/{fact}",
                "include-method": "PUT",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {   # a certificate's end may not precede its start: a comparison JSON Schema cannot state
                "include-path": "/api/enterprises/{credit_code}/qualifications",
                "include-method": "POST",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {   # the version named in the body must be of the kind of evaluation named in the path
                "include-path": "/api/points/renewal-rules/{kind}/{year}",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {   # an expert's input (x_…) must fall in a band of the standard the body names
                "include-path": "/api/points/enterprises/{credit_code}/what-if",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {   # the body names other records whose kind must fit (a bank officer's organisation is a bank, a
                # branch's head is of its kind and no branch itself; an unknown one is 422, as documented), and a
                # password must pass Django's password validators: rules over stored data and lists
                "include-path-regex": r"^/api/accounts/(organisations(/\{organisation_id\})?|users|users/\{username\}/role)$",
                "include-method": ["POST", "PUT", "PATCH"],
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {   # a product's definition must be a valid product: finance_engine's validation (its conditions
                # parsed in the rule language, its facts known), reported error by error; its institution a bank,
                # guarantor or fund
                "include-path-regex": r"^/api/finance/products(/\{product_id\}/versions)?$",
                "include-method": "POST",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {   # a consent names one institution or one kind (not both), of a bank, guarantor or fund, and ends
                # in the future: rules over two fields, stored data and the clock
                "include-path": "/api/finance/consents",
                "include-method": "POST",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {   # a window or a booking's period ends after it starts (and a window spans at most 62 days), a cursor
                # is one the search gave, a service item is the instrument's, and rules are valid booking rules
                # (twincity.instruments.rules' validation, reported error by error); a series' RRULE parses and
                # ends, its exceptions are dates or instants; a qualification names a user and ends after it
                # starts; a no-show comes after the start: comparisons, stored data and the clock
                "include-path-regex": r"^/api/instruments/(\{public_id\}/(bookings|rules|series|qualifications)"
                                      r"|bookings/\{public_id\}/(change|no-show)|series/\{public_id\}/(change|cancel)"
                                      r"|qualifications/\{qualification_id\}/revoke)?$",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
        ],
    })


def _credit_codes() -> st.SearchStrategy[str]:
    """The `uscc` format as the services check it (python-stdnum: eight digits, nine more characters of the
    pattern's alphabet, the check character); often a registered company, so handlers run past the lookup."""
    assert CREDIT_CODE_PATTERN.endswith("[0-9A-HJ-NPQRTUWXY]{10}$")
    body = st.from_regex(r"^[0-9]{8}[0-9A-HJ-NPQRTUWXY]{9}$", fullmatch=True)
    return st.one_of(st.sampled_from([ALICE_CODE, BOB_CODE]), body.map(lambda b: b + uscc.calc_check_digit(b)))


def _run(base_url: str, token: ApiToken, key: str) -> tuple[list[str], int]:
    """Every distinct failure the engine finds (the first request that showed it), and the number of checks run."""
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=_config(base_url, key))

    def before_call(context, case, kwargs):
        # A fuzzed DELETE /api/accounts/tokens/{id} may revoke the fuzzer's own token; keep it usable.
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=None)
        connection.close()  # this is the engine's thread: leave no connection open behind it

    # Schemathesis takes this hook and formats globally only: registered for this run, removed after it.
    GLOBAL_HOOK_DISPATCHER.register_hook_with_name(before_call, "before_call")
    schemathesis.openapi.format("uscc", _credit_codes())
    try:
        return _failures(schema)
    finally:
        GLOBAL_HOOK_DISPATCHER.unregister(before_call)
        unregister_string_format("uscc")


def _failures(schema) -> tuple[list[str], int]:
    failures: dict[str, str] = {}
    checks_run = 0
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    checks_run += 1
                    if node.failure_info is not None:
                        failure = node.failure_info.failure
                        summary = f"[{node.name}] {failure.operation}: {failure.title}"
                        failures.setdefault(summary, f"{failure.message}\n{node.failure_info.code_sample}")
        elif isinstance(event, events.NonFatalError):
            failures.setdefault(f"[error] {event.label}: {event.info.title}", event.info.message)
        elif isinstance(event, events.FatalError):
            raise event.exception
    return [f"{summary}\n{detail}\n" for summary, detail in sorted(failures.items())], checks_run


@pytest.fixture
def api_server():
    """The platform over HTTP on a free loopback port, started now, so its middleware sees the test settings
    (pytest-django's session-wide `live_server` may have started before them)."""
    thread = LiveServerThread("127.0.0.1", lambda handler: handler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


@pytest.mark.parametrize("role", ROLES)
def test_the_api_keeps_its_contract(role, api_server):
    cast = Cast.create()
    declaration_upsert(actor=cast.olivia, enterprise=cast.alice_co, fiscal_year=date.today().year - 1,
                       figures={"employees": 40, "rd_staff": 12, "sales": "1000"})
    # Published products of the cast's bank and guarantor, so matching answers offers with costs.
    FinancialProduct.objects.bulk_create(demo_products({"crcb_kxc": cast.bank_a_branch,
                                                        "cq_guarantee": cast.guarantor}))
    user = getattr(cast, role)
    token, key = api_token_create(actor=cast.olivia, user=user, name="fuzz")
    try:
        failures, checks_run = _run(api_server, token, key)
    finally:
        connections.close_all()
    print(f"{role}: {checks_run} checks, {len(failures)} failures")
    assert not failures, "\n".join(failures)
