from django.conf import settings
from django.conf.urls.i18n import i18n_patterns  # noqa: F401  (language is chosen by cookie, not URL)
from django.urls import include, path

from config.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("accounts/", include("twincity.accounts.urls")),
    path("enterprises/", include("twincity.enterprises.urls")),
    path("points/", include("twincity.points.urls")),
    path("", include("twincity.core.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
