from django.urls import reverse
from django.utils.translation import gettext as _

from twincity.core.navigation import navigation_for


def navigation(request):
    return {"navigation": navigation_for(request.user, request.path)}
