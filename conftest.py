import pytest

from twincity.testing import Cast


@pytest.fixture(autouse=True)
def _plain_http_in_tests(settings):
    # Production settings redirect to HTTPS and mark cookies secure; the test client and the
    # browser tests' live server speak plain HTTP on loopback.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # The cast logs in a lot; the production hasher's deliberate slowness only slows the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cast(db) -> Cast:
    return Cast.create()


@pytest.fixture(autouse=True)
def _builtin_standards_after_flush(request):
    """Transactional tests (threads, the browser) empty every table when they end, including the rows the
    migrations stored: the built-in scoring standards. Put them back for the transactional tests that follow."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or (marker is not None and marker.kwargs.get("transaction", False))
    )
    if transactional:
        from twincity.points.services import standards_builtin_sync

        request.getfixturevalue("transactional_db")
        standards_builtin_sync()


@pytest.fixture(autouse=True)
def _figures_cached_per_test(monkeypatch):
    """Cached figures (twincity.core.caching) are keyed by a version that each test's rollback takes back: give
    every test keys of its own, so no test reads another's figures (whatever the cache backend)."""
    import uuid

    from twincity.core import caching

    monkeypatch.setattr(caching, "PREFIX", f"{caching.PREFIX}:test-{uuid.uuid4().hex}")
