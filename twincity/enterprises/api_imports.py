"""Import endpoints (filled in by the import work)."""

from ninja import Router

router = Router(tags=["imports 导入"])
