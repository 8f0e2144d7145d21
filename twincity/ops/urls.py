from django.urls import path

from twincity.ops import views

app_name = "ops"
urlpatterns = [
    path("schedules/", views.schedules_view, name="schedules"),
]
