"""Every page works on a closed network: scripts and styles come from our own static files."""

import re

from django.contrib.staticfiles import finders


def test_api_docs_load_swagger_from_our_static_files(client):
    page = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert not re.search(r'(src|href)="https?://', page)


def test_base_page_assets_exist_and_are_local(client, cast):
    client.force_login(cast.olivia)
    page = client.get("/").content.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert "/static/vendor/htmx-2.0.11.min.js" in assets
    assert "/static/css/twincity.css" in assets
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset
    assert not re.search(r'(src|href)="https?://', page)
