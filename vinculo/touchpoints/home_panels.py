"""The getting-started steps of the home page that touchpoints answers: connect a mailbox, install
the website tracker (done when a batch of events has arrived, or a visitor was recorded), create a
web form. Each is read from rows that exist. Registered in TouchpointsConfig.ready()."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from vinculo.accounts.home import ChecklistItem, register_checklist_item
from vinculo.accounts.models import Organization
from vinculo.touchpoints.models import IngestBatch, Mailbox, Visitor, WebForm


def has_mailbox(org: Organization) -> bool:
    return Mailbox.objects.filter(organization=org).exists()


def tracker_sent_events(org: Organization) -> bool:
    return IngestBatch.objects.filter(organization=org).exists() or Visitor.objects.filter(organization=org).exists()


def has_web_form(org: Organization) -> bool:
    return WebForm.objects.filter(organization=org).exists()


def register() -> None:
    register_checklist_item(
        ChecklistItem(
            name="mailbox",
            label=_("Connect your mailbox"),
            help=_("Your e-mails with customers land on their timeline, and what you write leaves from your address."),
            done=has_mailbox,
            url=lambda org: reverse("touchpoints:mailbox_create", args=[org.slug]),
            order=30,
        )
    )
    register_checklist_item(
        ChecklistItem(
            name="tracker",
            label=_("Install the website tracker"),
            help=_("Paste the snippet in your site: this step ticks itself when the first visit arrives."),
            done=tracker_sent_events,
            url=lambda org: reverse("touchpoints:tracking_site_list", args=[org.slug]),
            order=40,
        )
    )
    register_checklist_item(
        ChecklistItem(
            name="web_form",
            label=_("Create a web form"),
            help=_("Visitors who fill it in become contacts, with their consent recorded."),
            done=has_web_form,
            url=lambda org: reverse("touchpoints:web_form_create", args=[org.slug]),
            order=50,
        )
    )
