"""The demo's instruments: owners in both cities, prices per rate class, and bookings the rules accept."""

from collections import Counter

from twincity.demo.instruments import INSTRUMENTS, demo_instruments_load
from twincity.demo.personas import ORGANISATIONS
from twincity.instruments.models import Booking, Instrument, Price
from twincity.instruments.tests.test_concurrency import overlapping_pairs


def test_the_demo_instruments_load_once_with_bookings_that_never_overlap(cast):
    from twincity.accounts.models import Organisation

    by_name = {o.name: o for o in Organisation.objects.all()}
    orgs = {spec.key: by_name[spec.name] for spec in ORGANISATIONS if spec.name in by_name}
    added = demo_instruments_load(orgs)
    owned = sum(1 for row in INSTRUMENTS if row[0] in {*orgs, "cas_cioc", "uestc_atc"})  # the cast has 金凤实验室 too
    assert added == owned == Instrument.objects.count() == 20
    assert Counter(Instrument.objects.values_list("city", flat=True)) == {"chongqing": 12, "chengdu": 8}
    assert Price.objects.count() == 20 * 3 * 2  # one item each, three rate classes, two dated lists
    assert Booking.objects.count() > 30
    assert set(Booking.objects.values_list("status", flat=True)) <= {"completed", "confirmed", "pending"}
    for instrument in Instrument.objects.all():
        assert overlapping_pairs(instrument) == 0
    assert all(name.endswith("（演示数据）") for name in Instrument.objects.values_list("site", flat=True))
    # Training records on the self-run instruments but the first (which shows the qualification gate).
    from twincity.instruments.models import UserQualification

    self_run = Instrument.objects.filter(operation="self").exclude(required_qualification="").order_by("pk")
    assert self_run.count() >= 2
    assert not UserQualification.objects.filter(instrument=self_run[0]).exists()
    assert UserQualification.objects.filter(instrument=self_run[1]).count() == 3  # alice, bob, owen
    assert demo_instruments_load(orgs) == 0  # loaded once


def test_the_demo_usage_gives_the_pages_real_figures(cast, settings, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    from twincity.accounts.models import Organisation
    from twincity.instruments.evaluation import owner_evaluation
    from twincity.instruments.models import BookingCharge, SampleJob, SessionRating, Statement, UsageSession

    settings.MEDIA_ROOT = tmp_path
    by_name = {o.name: o for o in Organisation.objects.all()}
    orgs = {spec.key: by_name[spec.name] for spec in ORGANISATIONS if spec.name in by_name}
    demo_instruments_load(orgs)
    assert UsageSession.objects.filter(kind="normal").count() > 500
    assert UsageSession.objects.filter(kind="maintenance").exists()
    assert set(SampleJob.objects.values_list("state", flat=True)) == {
        "requested", "quoted", "accepted", "received", "testing", "reported", "closed", "declined"}
    assert BookingCharge.objects.count() == Booking.objects.filter(status="completed",
                                                                   ends_at__lte=timezone.now()).count() > 0
    assert Statement.objects.exists() and SessionRating.objects.count() > 5
    for instrument in Instrument.objects.all():  # sessions never overlap on an instrument
        spans = sorted(UsageSession.objects.filter(instrument=instrument).values_list("started_at", "ended_at"))
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), instrument
    e = owner_evaluation(owner=cast.institute, year=(timezone.localdate() - timedelta(days=30)).year)
    assert e.effective_hours > 100 and 0 < e.share_rate < 1 and len(e.clients) >= 2
