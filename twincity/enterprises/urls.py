from django.urls import path, re_path

from twincity.enterprises import views, views_import

app_name = "enterprises"
urlpatterns = [
    path("", views.enterprise_list_view, name="list"),
    path("mine/", views.my_enterprise_view, name="mine"),
    path("new/", views.enterprise_create_view, name="create"),
    path("import/", views_import.import_view, name="import"),
    path("import/jobs/<int:job_id>/", views_import.import_job_view, name="import-job"),
    re_path(r"^import/template/(?P<kind>enterprises|declarations)\.(?P<fmt>csv|xlsx)$",
            views_import.import_template_view, name="import-template"),
    path("<str:credit_code>/", views.enterprise_detail_view, name="detail"),
    path("<str:credit_code>/edit/", views.enterprise_edit_view, name="edit"),
    path("<str:credit_code>/qualifications/<int:qualification_id>/delete", views.qualification_delete_view,
         name="qualification-delete"),
]
