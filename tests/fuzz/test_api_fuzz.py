"""Schema-driven fuzzing of the whole JSON API: no operation answers 5xx, whatever it is sent.

Schemathesis turns every operation of `config.api.api`'s OpenAPI document into a Hypothesis strategy; the
cases are sent in-process to the WSGI application (so they hit the pytest-django test database inside the
test's transaction) as olivia, the administrator, through an API token, so every endpoint is reachable.
New endpoints are fuzzed automatically: the operations are read from the schema, not listed here.
"""

from datetime import date

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from config.api import api
from twincity.accounts.models import ApiToken
from twincity.accounts.services import api_token_create
from twincity.enterprises.services import declaration_upsert
from twincity.testing import ALICE_CODE

SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
EXAMPLES_PER_OPERATION = 15


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def keep_test_connection():
    """Requests must not close the database connection that holds the test's transaction.

    Django's own test client does the same; the plain WSGI handler would close it on PostgreSQL.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _pin_known_ids(case, pin: bool):
    """Half the cases address real objects (alice's company, a filed year), so handlers run past the lookup."""
    if pin and case.path_parameters:
        if "credit_code" in case.path_parameters:
            case.path_parameters["credit_code"] = ALICE_CODE
        if "fiscal_year" in case.path_parameters:
            case.path_parameters["fiscal_year"] = date.today().year - 1
    return case


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_no_operation_answers_a_server_error(operation, cast, keep_test_connection):
    token, key = api_token_create(actor=cast.olivia, user=cast.olivia, name="fuzz")
    declaration_upsert(actor=cast.olivia, enterprise=cast.alice_co, fiscal_year=date.today().year - 1,
                       figures={"employees": 40, "rd_staff": 12, "sales": "1000"})
    headers = {"Authorization": f"Bearer {key}"}
    # A fresh handler, so its middleware sees the test settings (plain HTTP; see conftest.py).
    application = WSGIHandler()

    @given(case=operation.as_strategy(), pin=st.booleans())
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case, pin):
        case = _pin_known_ids(case, pin)
        # A fuzzed DELETE /api/accounts/tokens/{id} may revoke the fuzzer's own token; keep it usable.
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=None)
        response = case.call(app=application, headers=headers)
        case.validate_response(response, checks=[not_a_server_error], headers=headers)
        # Every case reached the API as olivia: no HTTPS redirect, no authentication failure.
        assert response.status_code not in (301, 302, 401), (case.path, response.status_code)

    run()
