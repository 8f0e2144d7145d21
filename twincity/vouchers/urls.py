from django.urls import path

from twincity.vouchers import views

app_name = "vouchers"
urlpatterns = [
    path("", views.my_vouchers_view, name="mine"),
    path("batches/", views.batches_view, name="batches"),
    path("batches/<uuid:public_id>/", views.batch_view, name="batch"),
    path("batches/<uuid:public_id>/issue", views.issue_view, name="issue"),
    path("batches/<uuid:public_id>/export.xlsx", views.export_xlsx_view, name="export-xlsx"),
    path("batches/<uuid:public_id>/export.zip", views.export_zip_view, name="export-zip"),
    path("redemptions/", views.provider_view, name="provider"),
    path("redemptions/<uuid:public_id>/", views.redemption_view, name="redemption"),
    path("redemptions/<uuid:public_id>/evidence", views.evidence_view, name="evidence"),
    path("redemptions/<uuid:public_id>/claim", views.claim_view, name="claim"),
    path("redemptions/<uuid:public_id>/decide", views.decide_view, name="decide"),
    path("evidence/<int:evidence_id>", views.evidence_download_view, name="evidence-file"),
]
