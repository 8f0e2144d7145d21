from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from twincity.accounts.access import is_admin
from twincity.core.access import require
from twincity.ops import selectors


@login_required
@require_GET
def schedules_view(request):
    """Administrators: every periodic job with its last run, next run and outcome; the workers; the queue."""
    require(is_admin(request.user))
    now = timezone.now()
    context = {
        "schedules": selectors.schedule_rows(now=now),
        "workers": selectors.worker_rows(now=now),
        "queues": selectors.queue_rows(),
    }
    return render(request, "ops/schedules.html", context)
