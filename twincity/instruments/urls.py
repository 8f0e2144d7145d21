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
    path("<uuid:public_id>/", views.instrument_view, name="instrument"),
    path("<uuid:public_id>/book", views.booking_create_view, name="book"),
    path("<uuid:public_id>/series", views.series_create_view, name="book-series"),
]
