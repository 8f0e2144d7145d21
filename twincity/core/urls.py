from django.urls import path

from twincity.core import views

app_name = "core"
urlpatterns = [
    path("", views.home_view, name="home"),
    path("audit/", views.audit_list_view, name="audit"),
    path("healthz", views.health_view, name="health"),
]
