from django.urls import path

from twincity.riskpool import views

app_name = "riskpool"
urlpatterns = [
    path("", views.index_view, name="index"),
    path("pools/<int:pool_id>/", views.pool_view, name="pool"),
    path("pools/<int:pool_id>/contribute", views.pool_contribute_view, name="contribute"),
    path("pools/<int:pool_id>/resume", views.pool_resume_view, name="resume"),
    path("guarantees/", views.guarantee_attach_view, name="attach"),
    path("guarantees/<int:guarantee_id>/", views.guarantee_view, name="guarantee"),
    path("guarantees/<int:guarantee_id>/claims", views.claim_file_view, name="claim-file"),
    path("claims/", views.claims_view, name="claims"),
    path("claims/<int:claim_id>/recoveries", views.recovery_view, name="recovery"),
    path("claims/<int:claim_id>/<str:action>", views.claim_action_view, name="claim-action"),
]
