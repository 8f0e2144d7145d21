from django.urls import path

from twincity.instruments import views

app_name = "instruments"
urlpatterns = [
    path("", views.catalogue_view, name="catalogue"),
    path("import/", views.catalogue_import_view, name="catalogue-import"),
    path("bookings/", views.my_bookings_view, name="my-bookings"),
    path("approvals/", views.approvals_view, name="approvals"),
    path("bookings/<uuid:public_id>/cancel", views.booking_cancel_view, name="booking-cancel"),
    path("bookings/<uuid:public_id>/approve", views.booking_approve_view, name="booking-approve"),
    path("bookings/<uuid:public_id>/refuse", views.booking_refuse_view, name="booking-refuse"),
    path("calendar-token", views.calendar_token_view, name="calendar-token"),
    path("feeds/instruments/<uuid:public_id>.ics", views.instrument_feed_view, name="feed-instrument"),
    path("feeds/<str:token>/bookings.ics", views.token_bookings_feed_view, name="feed-bookings"),
    path("feeds/<str:token>/instruments/<uuid:public_id>.ics", views.token_instrument_feed_view,
         name="feed-token-instrument"),
    path("<uuid:public_id>/", views.instrument_view, name="instrument"),
    path("<uuid:public_id>/book", views.booking_create_view, name="book"),
    path("<uuid:public_id>/series", views.series_create_view, name="book-series"),
]

# Usage, statements, sample jobs and the sharing evaluation (twincity.instruments.views_usage).
from twincity.instruments import views_usage as u  # noqa: E402

urlpatterns += [
    path("usage/", u.usage_view, name="usage"),
    path("usage/mine/", u.my_usage_view, name="my-usage"),
    path("usage/sessions/<uuid:public_id>/rate", u.rate_view, name="session-rate"),
    path("usage/sessions/<uuid:public_id>/stop", u.session_stop_view, name="session-stop"),
    path("usage/tokens/<int:pk>/revoke", u.agent_token_revoke_view, name="agent-token-revoke"),
    path("bookings/<uuid:public_id>/check-in", u.check_in_view, name="booking-check-in"),
    path("bookings/<uuid:public_id>/check-out", u.check_out_view, name="booking-check-out"),
    path("bookings/<uuid:public_id>/settle", u.settle_view, name="booking-settle"),
    path("<uuid:public_id>/sessions", u.session_record_view, name="session-record"),
    path("<uuid:public_id>/agent-tokens", u.agent_token_create_view, name="agent-token-create"),
    path("statements/", u.statements_view, name="statements"),
    path("statements/generate", u.statement_generate_view, name="statement-generate"),
    path("statements/<uuid:public_id>/", u.statement_view, name="statement"),
    path("statements/<uuid:public_id>/xlsx", u.statement_xlsx_view, name="statement-xlsx"),
    path("statements/<uuid:public_id>/issue", u.statement_issue_view, name="statement-issue"),
    path("jobs/", u.jobs_view, name="jobs"),
    path("jobs/request", u.job_request_view, name="job-request"),
    path("jobs/<uuid:public_id>/", u.job_view, name="job"),
    path("jobs/<uuid:public_id>/report", u.job_report_view, name="job-report"),
    path("jobs/<uuid:public_id>/<slug:action>", u.job_act_view, name="job-act"),
    path("evaluation/", u.evaluation_view, name="evaluation"),
    path("evaluation/xlsx", u.evaluation_xlsx_view, name="evaluation-xlsx"),
]
