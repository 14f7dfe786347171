"""Reads of web forms and their submissions (inside the organisation's scope), and the
public lookup of a form by its key (the only unscoped read: the key is the organisation's proof)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from vinculo.core.pagination import Page, paginate
from vinculo.touchpoints.models import FormSubmission, WebForm


def web_form_queryset() -> QuerySet[WebForm]:
    """Forms with their submission counts (spam apart) and owner, in one query."""
    return (
        WebForm.objects.select_related("owner")
        .annotate(
            submission_count=Count("submissions", filter=~Q(submissions__status=FormSubmission.Status.SPAM)),
            spam_count=Count("submissions", filter=Q(submissions__status=FormSubmission.Status.SPAM)),
        )
        .order_by("name", "id")
    )


def web_form_list(*, page: int = 1, per_page: int = 50) -> Page:
    return paginate(web_form_queryset(), page=page, per_page=per_page)


def web_form_get(*, pk: int) -> WebForm:
    return get_object_or_404(web_form_queryset(), pk=pk)


def web_form_by_public_key(public_key: str) -> WebForm:
    """An active form by its public key, in whichever organisation owns it; 404 otherwise."""
    if not isinstance(public_key, str) or len(public_key) > 40:
        raise Http404
    form = (
        WebForm.dangerously_unscoped.select_related("organization")
        .filter(public_key=public_key, is_active=True)
        .first()
    )
    if form is None:
        raise Http404
    return form


def form_submission_queryset() -> QuerySet[FormSubmission]:
    return FormSubmission.objects.select_related("form", "contact").order_by("-created_at", "-id")


def form_submission_list(*, form: WebForm, status: str = "", page: int = 1, per_page: int = 50) -> Page:
    submissions = form_submission_queryset().filter(form=form)
    if status in FormSubmission.Status.values:
        submissions = submissions.filter(status=status)
    return paginate(submissions, page=page, per_page=per_page)


def form_submission_get(*, pk: int) -> FormSubmission:
    return get_object_or_404(form_submission_queryset(), pk=pk)
