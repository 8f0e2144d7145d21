from django.urls import path

from twincity.talent import views

app_name = "talent"
urlpatterns = [
    path("", views.cards_view, name="cards"),
    path("apply/", views.apply_view, name="apply"),
    path("services/", views.services_view, name="services"),
    path("review/", views.review_view, name="review"),
    path("review/<uuid:public_id>/decide", views.review_decide_view, name="review-decide"),
    path("schemes/", views.schemes_view, name="schemes"),
    path("cards/<uuid:public_id>/disclosure", views.card_disclosure_view, name="card-disclosure"),
    path("cards/<uuid:public_id>/renew", views.card_renew_view, name="card-renew"),
    path("cards/<uuid:public_id>/loss", views.card_loss_view, name="card-loss"),
    path("cards/<uuid:public_id>/change", views.card_change_view, name="card-change"),
]
