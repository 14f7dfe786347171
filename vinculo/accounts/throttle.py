"""Login throttling that slows guessing without letting a stranger lock anyone out.

Three limits, all over a sliding window (settings.LOGIN_THROTTLE):
- per account and address: after FREE_FAILURES failures, each further attempt must wait
  2**(n - FREE_FAILURES) seconds (capped) after the last failure: progressive, never permanent;
- per address: PER_IP_FAILURES failures over any accounts (credential stuffing from one place);
- per account from everywhere: PER_ACCOUNT_FAILURES failures (a distributed guess), which never
  applies to an address the account has logged in from successfully before, so the owner of the
  account keeps access while a stranger hammers it.
A successful login clears nothing: the window expires on its own, and old rows are pruned.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from vinculo.accounts.models import LoginAttempt


def _conf() -> dict[str, int]:
    return dict(settings.LOGIN_THROTTLE)


def client_ip(request: HttpRequest) -> str:
    """The address the request came from.

    Behind N reverse proxies (settings.TRUSTED_PROXY_COUNT, env VINCULO_TRUSTED_PROXIES) it is
    the N-th address from the right of X-Forwarded-For: the ones further left were written by
    the client and can be forged. Without proxies, REMOTE_ADDR. Throttling by a proxy's own
    address would put every user behind one counter.
    """
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            candidate = hops[-proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 - an address, not a bind


def retry_after(*, email: str, ip: str) -> int:
    """Seconds the caller must wait before trying to log in as `email` from `ip` (0: go ahead)."""
    conf = _conf()
    now = timezone.now()
    since = now - timedelta(seconds=conf["WINDOW_SECONDS"])
    email = email.strip().lower()
    recent = LoginAttempt.objects.filter(attempted_at__gte=since)
    waits = [0]

    pair = recent.filter(email=email, ip=ip)
    last_success = pair.filter(succeeded=True).order_by("-attempted_at").values_list("attempted_at", flat=True).first()
    pair_failures = pair.filter(succeeded=False)
    if last_success is not None:
        pair_failures = pair_failures.filter(attempted_at__gt=last_success)
    n = pair_failures.count()
    if n >= conf["FREE_FAILURES"]:
        last = pair_failures.order_by("-attempted_at").values_list("attempted_at", flat=True).first()
        delay = min(2 ** (n - conf["FREE_FAILURES"]), conf["MAX_DELAY_SECONDS"])
        if last is not None:
            waits.append(math.ceil(delay - (now - last).total_seconds()))

    ip_failures = recent.filter(ip=ip, succeeded=False)
    if ip_failures.count() >= conf["PER_IP_FAILURES"]:
        oldest = ip_failures.order_by("attempted_at").values_list("attempted_at", flat=True).first()
        if oldest is not None:
            waits.append(math.ceil(conf["WINDOW_SECONDS"] - (now - oldest).total_seconds()))

    known_address = LoginAttempt.objects.filter(email=email, ip=ip, succeeded=True).exists()
    if not known_address:
        account_failures = recent.filter(email=email, succeeded=False)
        if account_failures.count() >= conf["PER_ACCOUNT_FAILURES"]:
            oldest = account_failures.order_by("attempted_at").values_list("attempted_at", flat=True).first()
            if oldest is not None:
                waits.append(math.ceil(conf["WINDOW_SECONDS"] - (now - oldest).total_seconds()))
    return max(0, *waits)


def record_attempt(*, email: str, ip: str, succeeded: bool) -> None:
    LoginAttempt.objects.create(email=email.strip().lower()[:254], ip=ip, succeeded=succeeded)


def prune_attempts(*, older_than_days: int = 30) -> int:
    """Forget attempts older than the window needs (the successful ones mark known addresses)."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = LoginAttempt.objects.filter(attempted_at__lt=cutoff).delete()
    return deleted
