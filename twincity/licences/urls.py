from django.urls import path

from twincity.licences import views

app_name = "licences"
urlpatterns = [
    path("", views.packages, name="packages"),
    path("packages/<int:pk>/", views.package_detail, name="package"),
    path("packages/<int:pk>/new-version/", views.package_new_version, name="package-new-version"),
    path("packages.xlsx", views.packages_export, name="export"),
    path("packages/import/", views.packages_import, name="import"),
    path("mine/", views.mine, name="mine"),
    path("hall/", views.hall, name="hall"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("applications/<int:pk>/submit/", views.application_submit, name="submit"),
    path("applications/<int:pk>/inspect/", views.application_inspect, name="inspect"),
    path("applications/<int:pk>/issue/", views.licence_issue, name="issue"),
    path("licence/<int:pk>/", views.licence_detail, name="licence"),
    path("licence/<int:pk>/disclosure/", views.licence_disclosure, name="licence-disclosure"),
    path("components/<int:pk>/change/", views.component_change, name="component-change"),
]
