from django.urls import path

from twincity.instruments import views

app_name = "instruments"
urlpatterns = [
    path("", views.catalogue_view, name="catalogue"),
    path("bookings/", views.my_bookings_view, name="my-bookings"),
    path("approvals/", views.approvals_view, name="approvals"),
    path("bookings/<uuid:public_id>/cancel", views.booking_cancel_view, name="booking-cancel"),
    path("bookings/<uuid:public_id>/approve", views.booking_approve_view, name="booking-approve"),
    path("bookings/<uuid:public_id>/refuse", views.booking_refuse_view, name="booking-refuse"),
    path("calendar-token", views.calendar_token_view, name="calendar-token"),
    path("feeds/instruments/<uuid:public_id>.ics", views.instrument_feed_view, name="feed-instrument"),
    path("feeds/<str:token>/bookings.ics", views.token_bookings_feed_view, name="feed-bookings"),
    path("feeds/<str:token>/instruments/<uuid:public_id>.ics", views.token_instrument_feed_view,
         name="feed-token-instrument"),
    path("<uuid:public_id>/", views.instrument_view, name="instrument"),
    path("<uuid:public_id>/book", views.booking_create_view, name="book"),
]
