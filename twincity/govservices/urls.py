from django.urls import path

from twincity.govservices import views

app_name = "govservices"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items/<int:pk>/new-version/", views.item_new_version, name="item-new-version"),
    path("catalogue.xlsx", views.catalogue_export, name="catalogue-export"),
    path("catalogue/import/", views.catalogue_import, name="catalogue-import"),
    path("cases/mine/", views.my_cases, name="my-cases"),
    path("queue/", views.queue, name="queue"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/step/", views.case_step, name="case-step"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
