"""Background tasks of accounts. Thin and idempotent: safe to run twice, or late."""

from __future__ import annotations

from django.utils import translation
from django_tasks import task

from vinculo.accounts.forms import StyledPasswordResetForm
from vinculo.accounts.throttle import prune_attempts


@task()
def prune_login_attempts(older_than_days: int = 30) -> int:
    """Forget login attempts older than `older_than_days` (enqueued daily by `manage.py scheduler`).

    Idempotent: a second run finds nothing left to delete and returns 0.
    """
    return prune_attempts(older_than_days=older_than_days)


@task()
def send_password_reset(email: str, domain: str, use_https: bool, language: str) -> int:
    """Queue the reset link for the active account of `email`, if there is one (the request that
    asked answered at once, doing the same work whether or not the address has an account).
    Returns the number of links queued (0 or 1). Run twice, it sends a second, equally valid link.
    """
    form = StyledPasswordResetForm(data={"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(form.cleaned_data["email"]))
    with translation.override(language):
        form.save(
            domain_override=domain,
            use_https=use_https,
            email_template_name=form.EMAIL_TEMPLATE,
            subject_template_name=form.SUBJECT_TEMPLATE,
        )
    return len(users)
