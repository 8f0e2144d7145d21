from django.urls import path

from twincity.finance import views

app_name = "finance"
urlpatterns = [
    path("products/", views.products_view, name="products"),
    path("products/<str:product_id>/", views.product_view, name="product"),
    path("products/<str:product_id>/withdraw", views.product_withdraw_view, name="product-withdraw"),
    path("consents/", views.consents_view, name="consents"),
    path("consents/<int:consent_id>/revoke", views.consent_revoke_view, name="consent-revoke"),
    path("cases/", views.cases_view, name="cases"),
    path("cases/<int:case_id>/", views.case_view, name="case"),
    path("cases/<int:case_id>/<str:action>", views.case_action_view, name="case-action"),
    path("queue/", views.queue_view, name="queue"),
    path("overdue/", views.overdue_view, name="overdue"),
]
