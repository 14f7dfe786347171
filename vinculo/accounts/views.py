"""Pages for signing up, logging in and out, the user's profile and organisations."""

from __future__ import annotations

import hashlib
import logging
import math
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from vinculo.accounts import services, throttle
from vinculo.accounts.forms import (
    LoginForm,
    OrganizationForm,
    ProfileForm,
    SignUpForm,
    StyledPasswordChangeForm,
    add_service_errors,
)
from vinculo.accounts.http import AuthedRequest
from vinculo.accounts.models import Invitation, User
from vinculo.accounts.selectors import invitation_by_secret, membership_list_for_user
from vinculo.accounts.tasks import send_password_reset
from vinculo.accounts.tenancy import ACTIVE_ORG_SESSION_KEY
from vinculo.core.rate_limit import retry_after
from vinculo.core.views import safe_next

logger = logging.getLogger(__name__)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _invitation_in(next_url: str | None) -> Invitation | None:
    """The pending invitation a `next` link leads to, if it leads to one."""
    if not next_url:
        return None
    try:
        match = resolve(urlsplit(next_url).path)
    except Resolver404:
        return None
    if match.view_name != "accounts:invitation_accept":
        return None
    return invitation_by_secret(match.kwargs["secret"])


def home(request: HttpRequest) -> HttpResponse:
    """Send people where they belong: log in, or their active organisation."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    memberships = list(membership_list_for_user(user=request.user))
    if not memberships:
        return redirect("accounts:organization_create")
    active = request.session.get(ACTIVE_ORG_SESSION_KEY)
    chosen = next((m for m in memberships if m.organization.slug == active), memberships[0])
    return redirect("org:home", chosen.organization.slug)


def login_view(request: HttpRequest) -> HttpResponse:
    """Log in by e-mail, throttled per account and address (429 with Retry-After); a browser that
    logged in to the account before (its signed device cookie) is slowed only by its own failures.

    A wrong password and an unknown e-mail look the same from outside: same status, same
    message, same throttling, and a password hash computed either way.
    """
    next_url = safe_next(request)
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url or "home")
    form = LoginForm(request.POST or None)
    context = {"form": form, "next": next_url}
    if request.method != "POST":
        return render(request, "accounts/login.html", context)
    email = (request.POST.get("email") or "").strip().lower()[:254]
    ip = throttle.client_ip(request)
    device = throttle.known_device(request, email)
    wait = throttle.retry_after(email=email, ip=ip, device=device)
    if wait > 0:
        alert = ngettext(
            "Too many failed attempts. Try again in %(seconds)s second.",
            "Too many failed attempts. Try again in %(seconds)s seconds.",
            wait,
        ) % {"seconds": wait}
        form = LoginForm(initial={"email": email})
        response = render(request, "accounts/login.html", {**context, "form": form, "alert": alert}, status=429)
        response["Retry-After"] = str(wait)
        return response
    if form.is_valid():
        user = User.objects.filter(email__iexact=form.cleaned_data["email"], is_active=True).first()
        if user is not None and user.check_password(form.cleaned_data["password"]):
            throttle.record_attempt(email=email, ip=ip, succeeded=True, device=device)
            login(request, user, backend=MODEL_BACKEND)  # a new session id: no session fixation
            translation.activate(user.language)
            response = redirect(next_url or "home")
            throttle.remember_device(request, response, email)
            return response
        if user is None:
            User().set_password(form.cleaned_data["password"])  # same work as a real check: no timing oracle
    throttle.record_attempt(email=email, ip=ip, succeeded=False, device=device)
    form.add_error(None, _("That e-mail and password do not match an account."))
    return render(request, "accounts/login.html", context, status=422)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request)
    logout(request)  # flushes the session: the old session id no longer works
    if next_url:
        return redirect(reverse("accounts:login") + "?" + urlencode({"next": next_url}))
    return redirect("accounts:login")


# sign-up attempts one client may make in an hour (an office behind one address signs up a few)
SIGNUPS_PER_CLIENT_PER_HOUR = 20


def signup_view(request: HttpRequest) -> HttpResponse:
    """Create an account and an organisation; when coming from an invitation, only the account
    (for the invited address), and back to the invitation to accept it."""
    next_url = safe_next(request)
    if request.user.is_authenticated:
        return redirect(next_url or "home")
    invitation = _invitation_in(next_url)
    form = SignUpForm(
        request.POST or None, invitation=invitation, initial={"language": translation.get_language() or "en"}
    )
    context = {"form": form, "next": next_url, "invitation": invitation}
    if request.method != "POST":
        return render(request, "accounts/signup.html", context)
    # the form says when an address already has an account: a client may try a few, not a list
    wait = retry_after(((f"signup:client:{throttle.client_ip(request)}", SIGNUPS_PER_CLIENT_PER_HOUR),), window=3600)
    if wait:
        alert = ngettext(
            "Too many sign-ups from your network. Try again in %(minutes)s minute.",
            "Too many sign-ups from your network. Try again in %(minutes)s minutes.",
            math.ceil(wait / 60),
        ) % {"minutes": math.ceil(wait / 60)}
        response = render(request, "accounts/signup.html", {**context, "alert": alert}, status=429)
        response["Retry-After"] = str(wait)
        return response
    if form.is_valid():
        data = form.cleaned_data
        try:
            if invitation is not None:
                user = services.user_register(
                    email=data["email"],
                    password=data["password"],
                    full_name=data["full_name"],
                    language=data["language"],
                    time_zone=data["time_zone"],
                )
            else:
                membership = services.user_sign_up(**data)
                user = membership.user
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            login(request, user, backend=MODEL_BACKEND)
            translation.activate(user.language)
            if invitation is not None:
                return redirect(next_url or "home")
            messages.success(
                request,
                _("Welcome to Vínculo! Your organisation %(org)s is ready.") % {"org": membership.organization.name},
            )
            return redirect(next_url or reverse("org:home", args=[membership.organization.slug]))
    return render(request, "accounts/signup.html", context, status=422)


@login_required
def organization_create_view(request: AuthedRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                membership = services.organization_create(
                    owner=request.user, name=form.cleaned_data["name"], base_currency=form.cleaned_data["base_currency"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Organisation %(org)s created.") % {"org": membership.organization.name})
                return redirect("org:home", membership.organization.slug)
        return render(request, "accounts/organization_form.html", {"form": form}, status=422)
    return render(request, "accounts/organization_form.html", {"form": form})


@login_required
def profile_view(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(
        request.POST or None,
        initial={"full_name": user.full_name, "language": user.language, "time_zone": user.time_zone},
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                services.user_update_preferences(user=user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                translation.activate(user.language)
                messages.success(request, _("Your profile was saved."))
                return redirect(safe_next(request) or "accounts:profile")
        return render(request, "accounts/profile.html", {"form": form}, status=422)
    return render(request, "accounts/profile.html", {"form": form})


@require_POST
def language_view(request: HttpRequest) -> HttpResponse:
    """Switch the interface language from any page: stored on the user, and in a cookie for
    pages seen before logging in."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponse(_("Unknown language."), status=400, content_type="text/plain; charset=utf-8")
    if request.user.is_authenticated:
        services.user_update_preferences(user=request.user, language=language)  # type: ignore[arg-type]
    translation.activate(language)
    response = redirect(safe_next(request) or "home")
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response


@login_required
def password_change_view(request: AuthedRequest) -> HttpResponse:
    """Change password; other sessions of this user stop working, this one stays logged in."""
    form = StyledPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                user = services.user_set_password(user=request.user, password=form.cleaned_data["new_password1"])
            except ValidationError as exc:
                form.add_error("new_password1", exc.messages)
            else:
                update_session_auth_hash(request, user)  # keeps this session (and gives it a new id)
                messages.success(request, _("Your password was changed. Other sessions were logged out."))
                return redirect("accounts:profile")
        return render(request, "accounts/password_change.html", {"form": form}, status=422)
    return render(request, "accounts/password_change.html", {"form": form})


def invitation_accept_view(request: HttpRequest, secret: str) -> HttpResponse:
    """Join an organisation from an e-mailed link: log in or sign up first, then confirm."""
    invitation = invitation_by_secret(secret)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    context = {"invitation": invitation, "next": request.get_full_path()}
    if not request.user.is_authenticated:
        return render(request, "accounts/invitation_login.html", context)
    user: User = request.user  # type: ignore[assignment]
    if invitation.email.lower() != user.email.lower():
        return render(request, "accounts/invitation_accept.html", {**context, "wrong_user": True}, status=403)
    if request.method == "POST":
        try:
            membership = services.invitation_accept(invitation=invitation, user=user)
        except ValidationError:
            return render(request, "accounts/invitation_invalid.html", status=404)
        messages.success(request, _("You joined %(org)s.") % {"org": membership.organization.name})
        return redirect("org:home", membership.organization.slug)
    return render(request, "accounts/invitation_accept.html", context)


class _InvalidIs422:
    """Django's form views answer 200 to invalid input; Vínculo's forms answer 422."""

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)  # type: ignore[misc]
        response.status_code = 422
        return response


# resets one address and one client may ask for in an hour: past it the answer is the same and
# nothing is sent (30 resets in a row used to send 30 mails)
RESETS_PER_ADDRESS_PER_HOUR = 3
RESETS_PER_CLIENT_PER_HOUR = 20


class PasswordResetView(_InvalidIs422, auth_views.PasswordResetView):
    """Ask for a reset link by e-mail (Django's form and one-time tokens, no account enumeration).

    The request does the same work for every address, with or without an account (count the
    limits, enqueue one task), so its time tells nothing: the task looks the account up and queues
    the mail. An address or a client asking too often gets the same answer and no mail."""

    def form_valid(self, form: Any) -> HttpResponse:
        address = form.cleaned_data["email"].strip().lower()
        digest = hashlib.sha256(address.encode()).hexdigest()[:32]
        wait = retry_after(
            (
                (f"reset:address:{digest}", RESETS_PER_ADDRESS_PER_HOUR),
                (f"reset:client:{throttle.client_ip(self.request)}", RESETS_PER_CLIENT_PER_HOUR),
            ),
            window=3600,
        )
        if wait:
            logger.warning("password reset throttled for %s (client %s)", digest, throttle.client_ip(self.request))
            return HttpResponseRedirect(self.get_success_url())
        send_password_reset.enqueue(
            email=address,
            domain=self.request.get_host(),
            use_https=self.request.is_secure(),
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(_InvalidIs422, auth_views.PasswordResetConfirmView):
    """Choose the new password from the e-mailed link."""
