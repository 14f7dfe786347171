"""How the timeline names web forms and e-mail threads: the form's current name and page, the
thread's page (named by the event's own subject), for a page of events in one query per kind
(vinculo.core.event_story). Loaded by CoreConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping

from django.urls import reverse

from vinculo.core.event_story import RecordLink, Viewer, register_resolver
from vinculo.touchpoints.models import WebForm
from vinculo.touchpoints.selectors.mail import email_thread_queryset


def form_links(viewer: Viewer, ids: set[int]) -> Mapping[int, RecordLink]:
    forms = WebForm.objects.filter(organization_id=viewer.organization_id, pk__in=ids)
    return {
        pk: RecordLink(name, reverse("touchpoints:web_form_detail", args=[viewer.org_slug, pk]))
        for pk, name in forms.values_list("id", "name")
    }


def email_thread_links(viewer: Viewer, ids: set[int]) -> Mapping[int, RecordLink]:
    threads = email_thread_queryset(actor=viewer.membership).filter(organization_id=viewer.organization_id, pk__in=ids)
    return {
        pk: RecordLink("", reverse("touchpoints:email_thread_detail", args=[viewer.org_slug, pk]))
        for pk in threads.values_list("id", flat=True)
    }


register_resolver("form", form_links)
register_resolver("email_thread", email_thread_links)
