"""Pages of public services (filled in below the core commit)."""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("政务服务")


catalogue = item_detail = item_new_version = catalogue_export = catalogue_import = my_cases = queue = _todo
case_detail = case_step = dashboard = _todo
