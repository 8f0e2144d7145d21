from django.urls import path

from twincity.enterprises import views

app_name = "enterprises"
urlpatterns = [
    path("", views.enterprise_list_view, name="list"),
    path("mine/", views.my_enterprise_view, name="mine"),
    path("import/", views.import_view, name="import"),
    path("<str:credit_code>/", views.enterprise_detail_view, name="detail"),
]
