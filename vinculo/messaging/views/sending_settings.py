"""Settings → E-mail sending (owners and admins): the organisation's own SMTP server, a test e-mail
to the member asking, and removing it (back to the install's relay, or the outbox)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vinculo.accounts.forms import add_service_errors
from vinculo.accounts.http import OrgRequest
from vinculo.accounts.permissions import require_org_admin
from vinculo.core.views import org_view, render_page
from vinculo.messaging.forms import OrgSmtpForm
from vinculo.messaging.models import OrganizationSmtp
from vinculo.messaging.services import sending
from vinculo.messaging.transports import relay_configured


def _page(
    request: OrgRequest,
    form: OrgSmtpForm,
    saved: OrganizationSmtp | None,
    *,
    test: sending.TestResult | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "nav": "settings",
        "tab": "email_sending",
        "can_manage": True,
        "form": form,
        "saved": saved,
        "test": test,
        "relay_configured": relay_configured(),
    }
    return render_page(request, "messaging/email_sending.html", context, status=status)


def _initial(saved: OrganizationSmtp | None) -> dict[str, Any]:
    if saved is None:
        return {}
    return {
        "host": saved.host,
        "port": saved.port,
        "security": saved.security,
        "username": saved.username,
        "from_email": saved.from_email,
        "from_name": saved.from_name,
    }


@org_view
@require_http_methods(["GET", "POST"])
def email_sending_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    require_org_admin(actor)
    saved = sending.org_smtp_get(organization_id=request.org.pk)
    if request.method == "GET":
        return _page(request, OrgSmtpForm(initial=_initial(saved)), saved)
    form = OrgSmtpForm(request.POST)
    if form.is_valid():
        try:
            sending.org_smtp_save(actor=actor, data={**request.POST.dict(), **form.cleaned_data})
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The SMTP server was saved: the organisation's mail now leaves through it."))
            return redirect("messaging:email_sending", request.org.slug)
    return _page(request, form, saved, status=422)


@org_view
@require_POST
def email_sending_test_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """Send the test e-mail now and show the outcome on the page (422 when it failed)."""
    actor = request.membership
    require_org_admin(actor)
    result = sending.org_smtp_send_test(actor=actor)
    saved = sending.org_smtp_get(organization_id=request.org.pk)
    return _page(request, OrgSmtpForm(initial=_initial(saved)), saved, test=result, status=200 if result.ok else 422)


@org_view
@require_POST
def email_sending_delete_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    require_org_admin(actor)
    if sending.org_smtp_delete(actor=actor):
        messages.success(request, _("The SMTP server was removed."))
    return redirect("messaging:email_sending", request.org.slug)
