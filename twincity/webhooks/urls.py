from django.urls import path

from twincity.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.endpoints_view, name="endpoints"),
    path("endpoints/<uuid:public_id>/", views.endpoint_detail_view, name="endpoint"),
    path("endpoints/<uuid:public_id>/rotate", views.endpoint_rotate_view, name="endpoint-rotate"),
    path("endpoints/<uuid:public_id>/active", views.endpoint_active_view, name="endpoint-active"),
    path("deliveries/<uuid:public_id>/", views.delivery_detail_view, name="delivery"),
    path("deliveries/<uuid:public_id>/resend", views.delivery_resend_view, name="delivery-resend"),
]
