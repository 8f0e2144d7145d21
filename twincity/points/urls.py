from django.urls import path, re_path

from twincity.points import views

app_name = "points"
urlpatterns = [
    path("mine/", views.my_points_view, name="mine"),
    path("enterprises/<str:credit_code>/", views.enterprise_points_view, name="enterprise"),
    path("enterprises/<str:credit_code>/what-if", views.what_if_view, name="what-if"),
    path("enterprises/<str:credit_code>/inputs", views.evaluation_input_view, name="inputs"),
    path("enterprises/<str:credit_code>/inputs/<int:input_id>/delete", views.evaluation_input_delete_view,
         name="input-delete"),
    path("runs/", views.run_list_view, name="runs"),
    path("runs/<uuid:public_id>/", views.run_detail_view, name="run"),
    path("runs/<uuid:public_id>/status", views.run_row_view, name="run-status"),
    re_path(r"^runs/(?P<public_id>[0-9a-f-]{36})/whitelist\.(?P<fmt>csv|xlsx)$", views.whitelist_export_view,
            name="whitelist"),
    path("standards/", views.standard_list_view, name="standards"),
    path("standards/<str:standard_id>/diff", views.standard_diff_view, name="standard-diff"),
    path("standards/<str:standard_id>/<str:version>/", views.standard_detail_view, name="standard"),
]
