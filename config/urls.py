from django.conf import settings
from django.urls import include, path

from config.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("accounts/", include("twincity.accounts.urls")),
    path("enterprises/", include("twincity.enterprises.urls")),
    path("points/", include("twincity.points.urls")),
    path("finance/", include("twincity.finance.urls")),
    path("riskpool/", include("twincity.riskpool.urls")),
    path("instruments/", include("twincity.instruments.urls")),
    path("vouchers/", include("twincity.vouchers.urls")),
    path("talent/", include("twincity.talent.urls")),
    path("govservices/", include("twincity.govservices.urls")),
    path("licences/", include("twincity.licences.urls")),
    path("audit/", include("twincity.audit.urls")),
    path("notifications/", include("twincity.notifications.urls")),
    path("webhooks/", include("twincity.webhooks.urls")),
    path("ops/", include("twincity.ops.urls")),
    path("", include("twincity.core.urls")),
    path("", include("twincity.home.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
