from django.contrib.auth import views as auth_views
from django.urls import path

from twincity.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.token_list_view, name="tokens"),
    path("tokens/<int:token_id>/revoke", views.token_revoke_view, name="token_revoke"),
    path("organisations/", views.organisation_list_view, name="organisations"),
    path("organisations/<int:organisation_id>/", views.organisation_detail_view, name="organisation"),
    path("organisations/<int:organisation_id>/delete", views.organisation_delete_view, name="organisation_delete"),
    path("users/", views.user_list_view, name="users"),
    path("users/<str:username>/", views.user_detail_view, name="user"),
]
