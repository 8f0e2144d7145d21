from django.shortcuts import render
from django.views.decorators.http import require_GET

from twincity.home.selectors import home_context_for


@require_GET
def home_view(request):
    return render(request, "home/home.html", home_context_for(request.user))
