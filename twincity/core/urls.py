from django.urls import path

from twincity.core import views

app_name = "core"
urlpatterns = [
    path("healthz", views.health_view, name="health"),
    path("metrics", views.metrics_view, name="metrics"),
    path("verify/<str:token>/", views.verify_view, name="verify"),
]
