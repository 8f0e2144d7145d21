from django.urls import path

from twincity.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox_view, name="inbox"),
    path("<int:notification_id>/open", views.notification_open_view, name="open"),
    path("<int:notification_id>/read", views.notification_read_view, name="read"),
    path("read-all", views.read_all_view, name="read_all"),
    path("channels", views.channels_view, name="channels"),
]
