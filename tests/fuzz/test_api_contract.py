"""The OpenAPI document states every error status in the one error shape, the real constraints of the path
parameters, and the media types of the file exports (the fuzz, test_api_fuzz.py, holds the API to it)."""

import pytest

from config.api import api
from twincity.core.api import ANY_OPERATION
from twincity.enterprises.fields import CREDIT_CODE_PATTERN, FISCAL_YEAR_MIN
from twincity.enterprises.services import fiscal_year_max

SCHEMA = api.get_openapi_schema()
OPERATIONS = [(f"{method.upper()} {path}", operation) for path, item in SCHEMA["paths"].items()
              for method, operation in item.items()]
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize(("label", "operation"), OPERATIONS, ids=[label for label, _ in OPERATIONS])
def test_every_operation_documents_its_errors_in_the_one_shape(label, operation):
    responses = operation["responses"]
    statuses = set(responses)
    assert all(isinstance(status, int) for status in statuses), label  # one key per status in the JSON
    assert set(ANY_OPERATION) <= statuses
    if not label.startswith("GET "):
        assert 403 in statuses  # a browser session without its CSRF token
    if "requestBody" in operation:
        assert 400 in statuses  # a body that is not JSON
    for status in statuses - set(range(200, 300)):
        assert responses[status]["content"] == ERROR, (label, status)
    assert responses[503]["headers"]["Retry-After"]["required"] is True


def _parameter(path: str, method: str, name: str) -> dict:
    return next(p for p in SCHEMA["paths"][path][method]["parameters"] if p["name"] == name)["schema"]


def test_path_parameters_carry_the_registry_constraints():
    path = "/api/enterprises/{credit_code}/declarations/{fiscal_year}"
    assert _parameter(path, "get", "credit_code")["pattern"] == CREDIT_CODE_PATTERN
    year = _parameter(path, "get", "fiscal_year")
    assert (year["minimum"], year["maximum"]) == (FISCAL_YEAR_MIN, fiscal_year_max())


def test_file_exports_declare_their_media_types():
    whitelist = SCHEMA["paths"]["/api/points/runs/{public_id}/whitelist"]["get"]["responses"][200]["content"]
    assert set(whitelist) == {"application/json", "text/csv", XLSX}
    assert whitelist["application/json"]["schema"] == {"$ref": "#/components/schemas/WhitelistPageOut"}
    template = SCHEMA["paths"]["/api/imports/template/{kind}"]["get"]["responses"][200]["content"]
    assert set(template) == {"text/csv"}
