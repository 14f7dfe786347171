"""Login throttling that slows guessing without letting a stranger lock anyone out.

Attempts are rows in the database, so the limits hold across web processes and machines.

From a known device (a browser that logged in to the account before and kept the signed device
cookie) only one limit applies: the progressive delay of that device's own failures. Nothing a
stranger does elsewhere, from any address, slows the owner's own browser down.

Otherwise three limits, all over a sliding window (settings.LOGIN_THROTTLE):
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
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac

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


DEVICE_COOKIE = "vinculo_device"
DEVICE_SALT = "vinculo.accounts.login-device"
DEVICE_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie
DEVICE_ACCOUNTS = 5  # accounts one browser is remembered for (a shared office computer)


def account_mark(email: str) -> str:
    """What the device cookie keeps of an account: a keyed digest, not the address."""
    return salted_hmac(DEVICE_SALT, email.strip().lower()).hexdigest()[:20]


def _device_cookie(request: HttpRequest) -> dict[str, object]:
    raw = request.COOKIES.get(DEVICE_COOKIE, "")
    if not raw:
        return {}
    try:
        data = signing.loads(raw, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE)
    except signing.BadSignature:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("d"), str) or not isinstance(data.get("a"), list):
        return {}
    return data


def known_device(request: HttpRequest, email: str) -> str:
    """The id of the browser's device cookie when it is genuine and `email` logged in from it
    before, else "" (an unknown device: the address limits apply)."""
    data = _device_cookie(request)
    if data and account_mark(email) in data["a"]:  # type: ignore[operator]
        return str(data["d"])
    return ""


def remember_device(request: HttpRequest, response: HttpResponse, email: str) -> None:
    """After a successful login: the browser becomes a known device for `email` (signed, HttpOnly,
    for 400 days), keeping its id and the other accounts it knew."""
    data = _device_cookie(request)
    device = str(data.get("d") or secrets.token_hex(16))
    mark = account_mark(email)
    known = data.get("a", [])
    accounts = [a for a in known if a != mark][-(DEVICE_ACCOUNTS - 1) :] if isinstance(known, list) else []
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps({"d": device, "a": [*accounts, mark]}, salt=DEVICE_SALT, compress=True),
        max_age=DEVICE_MAX_AGE,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


def _progressive_wait(attempts: QuerySet[LoginAttempt], *, conf: dict[str, int], now: datetime) -> int:
    """The wait after the failures among `attempts` since their last success: none for the first
    FREE_FAILURES, then 2**(n - FREE_FAILURES) seconds after the last one, capped."""
    last_success = (
        attempts.filter(succeeded=True).order_by("-attempted_at").values_list("attempted_at", flat=True).first()
    )
    failures = attempts.filter(succeeded=False)
    if last_success is not None:
        failures = failures.filter(attempted_at__gt=last_success)
    n = failures.count()
    if n < conf["FREE_FAILURES"]:
        return 0
    last = failures.order_by("-attempted_at").values_list("attempted_at", flat=True).first()
    delay = min(2 ** (n - conf["FREE_FAILURES"]), conf["MAX_DELAY_SECONDS"])
    return 0 if last is None else math.ceil(delay - (now - last).total_seconds())


def retry_after(*, email: str, ip: str, device: str = "") -> int:
    """Seconds the caller must wait before trying to log in as `email` from `ip` (0: go ahead);
    from a known `device` (see known_device) only that device's own failures count."""
    conf = _conf()
    now = timezone.now()
    since = now - timedelta(seconds=conf["WINDOW_SECONDS"])
    email = email.strip().lower()
    recent = LoginAttempt.objects.filter(attempted_at__gte=since)
    if device:
        return max(0, _progressive_wait(recent.filter(device=device, email=email), conf=conf, now=now))

    waits = [0, _progressive_wait(recent.filter(email=email, ip=ip), conf=conf, now=now)]

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
    return max(waits)


def record_attempt(*, email: str, ip: str, succeeded: bool, device: str = "") -> None:
    LoginAttempt.objects.create(
        email=email.strip().lower()[:254], ip=ip, succeeded=succeeded, device=device, attempted_at=timezone.now()
    )


def prune_attempts(*, older_than_days: int = 30) -> int:
    """Forget attempts older than the window needs (the successful ones mark known addresses)."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = LoginAttempt.objects.filter(attempted_at__lt=cutoff).delete()
    return deleted
