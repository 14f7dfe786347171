"""What touchpoints tells members (vinculo/messaging/services/notifications.py): a lead from a web
form, to the owner of the contact it created or updated (its own kind, declared here)."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from vinculo.contacts.models import Contact
from vinculo.messaging.notification_kinds import NotificationChannel, NotificationKind, register_notification_kind
from vinculo.messaging.services.notifications import notify
from vinculo.touchpoints.models import FormSubmission, WebForm

FORM_LEAD = "form_lead"


def register() -> None:
    """Declare the web-form kind (from TouchpointsConfig.ready())."""
    register_notification_kind(
        NotificationKind(
            key=FORM_LEAD,
            label=_("Leads from web forms"),
            description=_("Someone fills in a web form that tells me, and the contact is mine."),
            sentences={
                "new": _("New lead from the web form “%(form)s”: %(record)s"),
                "": _("%(record)s filled in the web form “%(form)s”"),
            },
            # the form's e-mail to the owner came first: both, until the member chooses
            default_channel=NotificationChannel.BOTH,
            icon="bi-ui-checks",
            order=40,
        )
    )


def notify_form_lead(
    *, form: WebForm, submission: FormSubmission, contact: Contact, created: bool, mail: Callable[[], object]
) -> None:
    """The contact's owner: in the app, and/or `mail` (the form's e-mail with what was sent)."""
    notify(
        organization=form.organization,
        recipient=contact.owner_id,
        kind=FORM_LEAD,
        key=f"form_lead:{submission.pk}",
        url=reverse("contacts:contact_detail", args=[form.organization.slug, contact.pk]),
        params={"variant": "new" if created else "", "record": str(contact), "form": form.name},
        mail=mail,
    )
