"""The import page (filled in by the import work)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def import_view(request):
    return render(request, "enterprises/import.html", {})
