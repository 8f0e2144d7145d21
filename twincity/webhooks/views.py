"""An institution's webhook pages: its endpoints (add, change, rotate the secret, disable), each endpoint's
delivery log, and resending a delivery."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from twincity.core.access import require, visible
from twincity.core.errors import Conflict, InvalidInput
from twincity.core.keyset import numbered_page
from twincity.webhooks import access, selectors, services
from twincity.webhooks.forms import EndpointCreateForm, EndpointForm
from twincity.webhooks.models import Delivery

PAGE_SIZE = 25


def _form_error(form, exc: InvalidInput) -> None:
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, exc.message)


@login_required
@require_http_methods(["GET", "POST"])
def endpoints_view(request):
    require(access.can_use_webhooks(request.user))
    organisations = access.webhook_organisations(request.user)
    form = EndpointCreateForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(
                actor=request.user, organisation=form.cleaned_data["organisation"], url=form.cleaned_data["url"],
                events=form.events_list(), description=form.cleaned_data["description"],
            )
        except InvalidInput as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Endpoint added. Copy its secret to your system now."))
            return redirect("webhooks:endpoint", endpoint.public_id)
    context = {"endpoints": list(selectors.endpoint_list(user=request.user)), "form": form}
    return render(request, "webhooks/endpoints.html", context)


def _endpoint(request, public_id):
    require(access.can_use_webhooks(request.user))
    return visible(selectors.endpoint_get(user=request.user, public_id=public_id))


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_detail_view(request, public_id):
    endpoint = _endpoint(request, public_id)
    initial = {"url": endpoint.url, "events": ", ".join(endpoint.events), "description": endpoint.description}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(actor=request.user, endpoint=endpoint, url=form.cleaned_data["url"],
                                     events=form.events_list(), description=form.cleaned_data["description"])
        except InvalidInput as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Endpoint saved."))
            return redirect("webhooks:endpoint", endpoint.public_id)
    status = request.GET.get("status", "")
    status = status if status in Delivery.Status.values else ""
    deliveries = selectors.delivery_list(user=request.user, endpoint=endpoint, status=status)
    page = numbered_page(deliveries, ["-created_at", "-id"], request.GET, size=PAGE_SIZE, count=deliveries.count())
    context = {"endpoint": endpoint, "form": form, "page": page, "status": status,
               "statuses": Delivery.Status.choices}
    return render(request, "webhooks/endpoint.html", context)


@login_required
@require_POST
def endpoint_rotate_view(request, public_id):
    endpoint = services.endpoint_rotate_secret(actor=request.user, endpoint=_endpoint(request, public_id))
    messages.success(request, _("A new secret is in force. Copy it to your system now."))
    return redirect("webhooks:endpoint", endpoint.public_id)


@login_required
@require_POST
def endpoint_active_view(request, public_id):
    active = request.POST.get("active") == "1"
    endpoint = services.endpoint_update(actor=request.user, endpoint=_endpoint(request, public_id), active=active)
    messages.success(request, _("Endpoint enabled.") if active else _("Endpoint disabled."))
    return redirect("webhooks:endpoint", endpoint.public_id)


def _delivery(request, public_id) -> Delivery:
    require(access.can_use_webhooks(request.user))
    return visible(selectors.delivery_get(user=request.user, public_id=public_id))


@login_required
@require_http_methods(["GET"])
def delivery_detail_view(request, public_id):
    delivery = _delivery(request, public_id)
    context = {
        "delivery": delivery,
        "payload": json.dumps(delivery.payload, ensure_ascii=False, indent=2, sort_keys=True),
        "attempts": list(delivery.attempt_log.all()),
    }
    return render(request, "webhooks/delivery.html", context)


@login_required
@require_POST
def delivery_resend_view(request, public_id):
    delivery = _delivery(request, public_id)
    try:
        services.delivery_resend(actor=request.user, delivery=delivery)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The delivery will be sent again."))
    return redirect("webhooks:delivery", delivery.public_id)
