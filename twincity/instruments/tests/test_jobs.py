"""Sample jobs (送样检测): the whole path, the quote's expiry, the turnaround limit in working days, the operators'
capacity, illegal transitions (409 through the API), who acts, audit and notifications."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from twincity.core.errors import Forbidden, InvalidInput
from twincity.core.models import AuditEntry
from twincity.instruments import jobs
from twincity.instruments.errors import JobCapacity, JobTransition
from twincity.instruments.models import Instrument, SampleJob
from twincity.instruments.tests.conftest import SH, make_instrument
from twincity.notifications.models import Notification

# Monday 2026-09-28 10:00: received then, 10 working days run past the 国庆 holiday (10.1–10.7 off, 10.10 worked).
MON = datetime(2026, 9, 28, 10, 0, tzinfo=SH)


@pytest.fixture
def xps(cast):
    instrument = make_instrument(cast.institute, name="X射线光电子能谱仪", actor=cast.owen,
                                 rules={"sample_jobs": {"turnaround_days": 10, "capacity": 1, "quote_valid_days": 7}})
    Instrument.objects.filter(pk=instrument.pk).update(operation=Instrument.Operation.OPERATOR)
    instrument.refresh_from_db()
    return instrument


def report():
    return SimpleUploadedFile("XPS报告.pdf", b"%PDF-1.4 report", content_type="application/pdf")


def test_the_whole_path(cast, xps, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = jobs.job_request(actor=cast.alice, instrument=xps, title="薄膜表面元素价态", sample_count=3, now=MON)
    assert (job.state, job.rate_class, job.unit_price) == ("requested", "industry", Decimal("600.00"))
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["owen"]
    job = jobs.job_act(actor=cast.owen, job=job, action="quote", now=MON)  # default: 600 × 3
    assert (job.quote_amount, job.quote_expires_at) == (Decimal("1800.00"), MON + timedelta(days=7))
    job = jobs.job_act(actor=cast.alice, job=job, action="accept", now=MON + timedelta(days=1))
    job = jobs.job_act(actor=cast.owen, job=job, action="receive", now=MON)
    # 10 working days after Mon 9-28: 9-29, 9-30, 10-8, 10-9, 10-10 (Sat, worked), 10-12 … 10-16
    assert job.due_on == date(2026, 10, 16)
    job = jobs.job_act(actor=cast.owen, job=job, action="start", now=MON)
    assert not jobs.job_is_overdue(job, today=date(2026, 10, 16))
    assert jobs.job_is_overdue(job, today=date(2026, 10, 17))
    with pytest.raises(InvalidInput):
        jobs.job_act(actor=cast.owen, job=job, action="deliver", now=MON)
    job = jobs.job_act(actor=cast.owen, job=job, action="deliver", report=report(), now=MON + timedelta(days=5))
    assert job.state == "reported" and job.report.name.startswith("instrument_reports/")
    job = jobs.job_act(actor=cast.alice, job=job, action="close", now=MON + timedelta(days=6))
    assert job.state == "closed"
    steps = list(AuditEntry.objects.filter(object_type="instruments.samplejob").order_by("pk")
                 .values_list("context", flat=True))
    assert steps == ["", "quote", "accept", "receive", "start", "deliver", "close"]
    assert Notification.objects.filter(recipient=cast.alice, event="instruments.job.operator").count() == 4


def test_an_expired_quote_cannot_be_accepted(cast, xps):
    job = jobs.job_request(actor=cast.alice, instrument=xps, title="t", now=MON)
    job = jobs.job_act(actor=cast.owen, job=job, action="quote", amount=Decimal("500"), now=MON)
    with pytest.raises(JobTransition):
        jobs.job_act(actor=cast.alice, job=job, action="accept", now=MON + timedelta(days=7))
    assert jobs.job_quotes_expire(now=MON + timedelta(days=7)) == 1
    job.refresh_from_db()
    assert job.state == "expired"
    job = jobs.job_act(actor=cast.owen, job=job, action="quote", amount=Decimal("450"), now=MON + timedelta(days=8))
    assert job.state == "quoted" and job.quote_amount == Decimal("450.00")


def test_the_operators_capacity(cast, xps):
    def ready():
        job = jobs.job_request(actor=cast.alice, instrument=xps, title="t", now=MON)
        for actor, action in ((cast.owen, "quote"), (cast.alice, "accept"), (cast.owen, "receive")):
            job = jobs.job_act(actor=actor, job=job, action=action, now=MON)
        return job

    first, second = ready(), ready()
    jobs.job_act(actor=cast.owen, job=first, action="start", now=MON)
    with pytest.raises(JobCapacity) as caught:
        jobs.job_act(actor=cast.owen, job=second, action="start", now=MON)
    assert caught.value.extra == {"testing": 1, "capacity": 1}
    second.refresh_from_db()
    assert second.state == "received"


def test_who_acts(cast, xps):
    job = jobs.job_request(actor=cast.alice, instrument=xps, title="t", now=MON)
    with pytest.raises(Forbidden):
        jobs.job_act(actor=cast.alice, job=job, action="quote", now=MON)
    with pytest.raises(Forbidden):
        jobs.job_act(actor=cast.bob, job=job, action="cancel", now=MON)
    with pytest.raises(InvalidInput):  # declining needs a reason
        jobs.job_act(actor=cast.owen, job=job, action="decline", now=MON)
    with pytest.raises(InvalidInput):
        jobs.job_act(actor=cast.owen, job=job, action="expire", now=MON)
    self_run = make_instrument(cast.institute, name="自助仪器")
    Instrument.objects.filter(pk=self_run.pk).update(operation=Instrument.Operation.SELF)
    self_run.refresh_from_db()
    with pytest.raises(Forbidden):  # self-run instruments take no samples
        jobs.job_request(actor=cast.alice, instrument=self_run, title="t")


def test_an_illegal_transition_answers_409_and_changes_nothing(client, cast, xps):
    job = jobs.job_request(actor=cast.alice, instrument=xps, title="t", now=MON)
    client.force_login(cast.owen)
    r = client.post(f"/api/instrument-usage/jobs/{job.public_id}/start")
    assert r.status_code == 409
    assert r.json()["code"] == "job_transition"
    assert r.json()["extra"]["allowed"] == ["quote", "decline", "cancel"]
    job.refresh_from_db()
    assert job.state == "requested"
    r = client.post(f"/api/instrument-usage/jobs/{job.public_id}/quote", {"amount": "1200.50"})
    assert r.status_code == 200 and r.json()["state"] == "quoted" and r.json()["quote_amount"] == "1200.50"
    client.force_login(cast.bob)
    assert client.post(f"/api/instrument-usage/jobs/{job.public_id}/accept").status_code == 404


def test_requests_and_pages(client, cast, xps, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(cast.alice)
    r = client.post("/api/instrument-usage/jobs", {"instrument": str(xps.public_id), "title": "深度剖析",
                                                    "sample_count": 2}, content_type="application/json")
    assert r.status_code == 201 and r.json()["state"] == "requested"
    job = SampleJob.objects.get()
    page = client.get("/instruments/jobs/").content.decode()
    assert f'data-job="{job.public_id}"' in page
    client.force_login(cast.owen)
    r = client.post(f"/instruments/jobs/{job.public_id}/quote", {"amount": "900"})
    assert r.status_code == 302
    page = client.get(f"/instruments/jobs/{job.public_id}/").content.decode()
    assert "已报价" in page and "900.00" in page
    job.refresh_from_db()
    for actor, action in ((cast.alice, "accept"), (cast.owen, "receive"), (cast.owen, "start")):
        job = jobs.job_act(actor=actor, job=job, action=action)
    r = client.post(f"/instruments/jobs/{job.public_id}/deliver", {"report": report()})
    assert r.status_code == 302
    client.force_login(cast.alice)
    r = client.get(f"/instruments/jobs/{job.public_id}/report")
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"%PDF-1.4 report"
    client.force_login(cast.bob)
    assert client.get(f"/instruments/jobs/{job.public_id}/report").status_code == 404
