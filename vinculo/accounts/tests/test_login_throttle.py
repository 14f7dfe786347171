"""Login throttling: progressive per account and address, a ceiling per address, and a ceiling
per account that a stranger cannot use to lock the owner out. Time moves by ageing the stored
attempts, never by sleeping, and the throttle's clock moves only a millisecond a reading: how long
a request takes on a busy machine changes no answer."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import signing
from django.db.models import F
from django.test import Client
from django.urls import reverse

from vinculo.accounts import throttle
from vinculo.accounts.factories import MembershipFactory
from vinculo.accounts.models import LoginAttempt
from vinculo.accounts.testing import PASSWORD

WRONG = "not the password at all"
HOME = "10.0.0.1"


class StoppedClock:
    """The throttle's `timezone`, whose `now()` moves one millisecond a reading (attempts keep their
    order), whatever the time the requests really take."""

    def __init__(self) -> None:
        from django.utils import timezone

        self.instant = timezone.now()

    def now(self):
        self.instant += timedelta(milliseconds=1)
        return self.instant


@pytest.fixture(autouse=True)
def stopped_clock(monkeypatch) -> StoppedClock:
    clock = StoppedClock()
    monkeypatch.setattr(throttle, "timezone", clock)
    return clock


@pytest.fixture
def limits(settings):
    def set_limits(**overrides: int) -> None:
        settings.LOGIN_THROTTLE = {
            "WINDOW_SECONDS": 900,
            "FREE_FAILURES": 1000,
            "MAX_DELAY_SECONDS": 900,
            "PER_IP_FAILURES": 1000,
            "PER_ACCOUNT_FAILURES": 1000,
            **overrides,
        }

    return set_limits


def attempt(email: str, password: str = WRONG, ip: str = HOME, client: Client | None = None):
    client = client or Client()
    response = client.post(reverse("accounts:login"), {"email": email, "password": password}, REMOTE_ADDR=ip)
    return response, client


def outcome(response) -> tuple[int, str | None]:
    return response.status_code, response.headers.get("Retry-After")


def retry_after(response) -> int:
    """Seconds to wait, for the window ceilings: the attempts before took some (hashing) time."""
    assert response.status_code == 429
    return int(response["Retry-After"])


def age(seconds: float) -> None:
    """Everything that happened so far happened `seconds` earlier."""
    LoginAttempt.objects.update(attempted_at=F("attempted_at") - timedelta(seconds=seconds))


def test_progressive_delay_per_account_and_address(actor, limits):
    limits(FREE_FAILURES=3, MAX_DELAY_SECONDS=4)
    email = actor.user.email

    assert [outcome(attempt(email)[0]) for _ in range(3)] == [(422, None)] * 3
    blocked, client = attempt(email, PASSWORD)  # even the right password waits
    assert outcome(blocked) == (429, "1")
    assert "Try again in 1 second." in blocked.content.decode()
    assert SESSION_KEY not in client.session

    age(1)
    assert outcome(attempt(email)[0]) == (422, None)  # the 4th failure is let through…
    assert outcome(attempt(email)[0]) == (429, "2")  # …and doubles the wait
    age(2)
    assert outcome(attempt(email)[0]) == (422, None)
    assert outcome(attempt(email)[0]) == (429, "4")
    age(4)
    assert outcome(attempt(email)[0]) == (422, None)
    assert outcome(attempt(email)[0]) == (429, "4")  # capped at MAX_DELAY_SECONDS
    # a refused attempt is not counted: waiting is enough, hammering does not make it worse
    assert LoginAttempt.objects.filter(email=email, succeeded=False).count() == 6

    age(4)
    ok, client = attempt(email, PASSWORD)
    assert ok.status_code == 302
    assert int(client.session[SESSION_KEY]) == actor.user.pk
    # a success starts the count again for this address
    assert outcome(attempt(email)[0]) == (422, None)


def test_the_delay_is_per_address(actor, limits):
    limits(FREE_FAILURES=2)
    email = actor.user.email
    for _ in range(2):
        attempt(email, ip="203.0.113.9")
    assert attempt(email, ip="203.0.113.9")[0].status_code == 429

    assert attempt(email, PASSWORD, ip=HOME)[0].status_code == 302


def test_unknown_account_is_throttled_exactly_like_a_real_one(actor, limits):
    limits(FREE_FAILURES=2, MAX_DELAY_SECONDS=60)

    def run(email: str) -> list[tuple[int, str | None, str]]:
        LoginAttempt.objects.all().delete()
        seen = []
        for wait_before in (0, 0, 0, 1, 0, 2, 0):
            age(wait_before)
            response = attempt(email)[0]
            text = response.content.decode()
            said = [m for m in ("do not match an account", "Too many failed attempts") if m in text]
            seen.append((*outcome(response), ",".join(said)))
        return seen

    real = run(actor.user.email)
    ghost = run("nobody-here@example.com")

    assert real == ghost
    assert [(status, retry) for status, retry, _said in real] == [
        (422, None),
        (422, None),
        (429, "1"),
        (422, None),
        (429, "2"),
        (422, None),
        (429, "4"),
    ]


def test_per_address_ceiling_over_all_accounts(actor, limits):
    limits(PER_IP_FAILURES=5)
    for n in range(5):
        assert attempt(f"guess{n}@example.com", ip="198.51.100.7")[0].status_code == 422

    blocked = attempt(actor.user.email, PASSWORD, ip="198.51.100.7")[0]
    assert 890 <= retry_after(blocked) <= 900
    age(300)
    assert 590 <= retry_after(attempt(actor.user.email, PASSWORD, ip="198.51.100.7")[0]) <= 600
    # elsewhere nothing changed
    assert attempt(actor.user.email, PASSWORD, ip=HOME)[0].status_code == 302
    # and once the window has passed, the address may try again
    age(601)
    assert attempt(actor.user.email, PASSWORD, ip="198.51.100.7")[0].status_code == 302


def test_per_account_ceiling_never_locks_out_a_known_address(actor, limits):
    limits(PER_ACCOUNT_FAILURES=5)
    email = actor.user.email
    assert attempt(email, PASSWORD, ip=HOME)[0].status_code == 302  # the owner logs in from home
    age(60)
    for n in range(5):  # a distributed guess from five strangers
        assert attempt(email, ip=f"192.0.2.{n + 10}")[0].status_code == 422

    # a new address is held back, whatever it sends…
    assert 890 <= retry_after(attempt(email, PASSWORD, ip="192.0.2.99")[0]) <= 900
    # …but the owner at home is not: the wrong password is just wrong, the right one works
    assert attempt(email, ip=HOME)[0].status_code == 422
    ok, client = attempt(email, PASSWORD, ip=HOME)
    assert ok.status_code == 302
    assert int(client.session[SESSION_KEY]) == actor.user.pk


def test_unknown_account_reaches_the_account_ceiling_too(db, limits):
    limits(PER_ACCOUNT_FAILURES=3)
    for n in range(3):
        attempt("ghost@example.com", ip=f"192.0.2.{n + 10}")
    assert 890 <= retry_after(attempt("ghost@example.com", ip="192.0.2.50")[0]) <= 900


def test_address_behind_trusted_proxy(actor, limits, settings):
    """Behind one proxy, the client is the last X-Forwarded-For hop, not the proxy itself."""
    settings.TRUSTED_PROXY_COUNT = 1
    limits(FREE_FAILURES=1)
    client = Client()
    login = reverse("accounts:login")
    forwarded = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.5"}
    client.post(login, {"email": actor.user.email, "password": WRONG}, **forwarded)
    assert client.post(login, {"email": actor.user.email, "password": WRONG}, **forwarded).status_code == 429
    assert LoginAttempt.objects.get().ip == "203.0.113.5"
    # another user behind the same proxy is not affected
    other = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.77"}
    assert client.post(login, {"email": actor.user.email, "password": PASSWORD}, **other).status_code == 302


def test_a_stranger_failing_from_21_addresses_cannot_lock_the_owner_out_of_a_new_network(actor, limits):
    """The outside test: about 100 failures spread over 21 addresses made the real user get 429
    (Retry-After ~443 s) from any network she had never used. Her own browser, which logged in
    before, now gets in; an unknown browser on a new network is still held back."""
    limits(FREE_FAILURES=5, PER_IP_FAILURES=50, PER_ACCOUNT_FAILURES=100)
    email = actor.user.email
    ok, browser = attempt(email, PASSWORD, ip=HOME)  # the owner's laptop, once, at home
    assert ok.status_code == 302
    age(60)
    for n in range(100):  # 100 failures over 21 addresses: no single address is slowed
        assert attempt(email, ip=f"192.0.2.{n % 21 + 10}")[0].status_code == 422

    travelling = "203.0.113.9"  # a hotel network the owner never used
    assert 850 <= retry_after(attempt(email, PASSWORD, ip=travelling)[0]) <= 900  # an unknown browser waits
    assert attempt(email, ip=travelling, client=browser)[0].status_code == 422  # her laptop: just wrong
    ok, _ = attempt(email, PASSWORD, ip=travelling, client=browser)
    assert ok.status_code == 302
    assert int(browser.session[SESSION_KEY]) == actor.user.pk


def test_a_known_device_is_slowed_only_by_its_own_failures(actor, limits):
    limits(FREE_FAILURES=2)
    email = actor.user.email
    _, browser = attempt(email, PASSWORD)
    for _ in range(2):  # a stranger on the same network guesses: that address is slowed down…
        assert attempt(email)[0].status_code == 422
    assert retry_after(attempt(email, PASSWORD)[0]) == 1
    ok, _ = attempt(email, PASSWORD, client=browser)  # …the owner's browser is not
    assert ok.status_code == 302

    for _ in range(2):  # the device's own failures: two free ones…
        assert attempt(email, client=browser)[0].status_code == 422
    assert retry_after(attempt(email, PASSWORD, client=browser)[0]) == 1  # …then it must wait too
    age(1)
    assert attempt(email, PASSWORD, client=browser)[0].status_code == 302
    device = browser.cookies[throttle.DEVICE_COOKIE].value
    assert list(LoginAttempt.objects.filter(device__gt="").order_by("id").values_list("succeeded", flat=True)) == [
        True,
        False,
        False,
        True,
    ]
    assert device  # the same device all along
    assert LoginAttempt.objects.filter(device__gt="").values("device").distinct().count() == 1


def test_the_device_cookie_is_signed_httponly_and_names_no_address(actor):
    ok, _ = attempt(actor.user.email, PASSWORD)
    cookie = ok.cookies[throttle.DEVICE_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 400 * 24 * 3600
    payload = signing.loads(cookie.value, salt=throttle.DEVICE_SALT)
    assert set(payload) == {"d", "a"}
    assert len(payload["d"]) == 32
    assert payload["a"] == [throttle.account_mark(actor.user.email)]
    assert actor.user.email not in json.dumps(payload)


@pytest.mark.parametrize("tamper", ["forged", "other account", "garbage"])
def test_a_forged_or_foreign_device_cookie_counts_for_nothing(actor, limits, tamper):
    limits(PER_ACCOUNT_FAILURES=3)
    email = actor.user.email
    other = MembershipFactory().user
    _, browser = attempt(other.email if tamper == "other account" else email, PASSWORD, ip="198.51.100.1")
    value = browser.cookies[throttle.DEVICE_COOKIE].value
    if tamper == "forged":
        browser.cookies[throttle.DEVICE_COOKIE] = signing.dumps(
            {"d": "f" * 32, "a": [throttle.account_mark(email)]}, salt="not the server's", compress=True
        )
    elif tamper == "garbage":
        browser.cookies[throttle.DEVICE_COOKIE] = value[::-1]
    if tamper != "other account":
        LoginAttempt.objects.filter(succeeded=True).delete()  # the address is not known either
    for n in range(3):
        attempt(email, ip=f"192.0.2.{n + 10}")
    assert 890 <= retry_after(attempt(email, PASSWORD, ip="198.51.100.1", client=browser)[0]) <= 900
