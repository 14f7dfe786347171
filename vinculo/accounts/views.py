"""Pages for signing up, logging in and out, the user's profile and organisations."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vinculo.accounts import services, throttle
from vinculo.accounts.forms import LoginForm, OrganizationForm, ProfileForm, SignUpForm
from vinculo.accounts.http import AuthedRequest
from vinculo.accounts.models import User
from vinculo.accounts.selectors import invitation_by_secret, membership_list_for_user
from vinculo.accounts.tenancy import ACTIVE_ORG_SESSION_KEY


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 - an address, not a bind


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def _apply_form_errors(form: object, exc: ValidationError) -> None:
    for field, messages_ in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)  # type: ignore[attr-defined]


def home(request: HttpRequest) -> HttpResponse:
    """Send people where they belong: log in, or their active organisation."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    memberships = list(membership_list_for_user(user=request.user))
    if not memberships:
        return redirect("accounts:organization_create")
    active = request.session.get(ACTIVE_ORG_SESSION_KEY)
    chosen = next((m for m in memberships if m.organization.slug == active), memberships[0])
    return redirect("contacts:contact_list", chosen.organization.slug)


def login_view(request: HttpRequest) -> HttpResponse:
    """Log in by e-mail, throttled per account and address (429 with Retry-After)."""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request) or "home")
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        email = (request.POST.get("email") or "").strip().lower()[:254]
        ip = _client_ip(request)
        wait = throttle.retry_after(email=email, ip=ip)
        if wait > 0:
            form = LoginForm(initial={"email": email})
            form.add_error(None, _("Too many failed attempts. Try again in %(seconds)s seconds.") % {"seconds": wait})
            response = render(request, "accounts/login.html", {"form": form, "next": _safe_next(request)}, status=429)
            response["Retry-After"] = str(wait)
            return response
        if form.is_valid():
            user = User.objects.filter(email__iexact=form.cleaned_data["email"], is_active=True).first()
            if user is not None and user.check_password(form.cleaned_data["password"]):
                throttle.record_attempt(email=email, ip=ip, succeeded=True)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")  # rotates the session id
                translation.activate(user.language)
                return redirect(_safe_next(request) or "home")
            if user is None:
                User().set_password(form.cleaned_data["password"])  # same work as a real check: no timing oracle
        throttle.record_attempt(email=email, ip=ip, succeeded=False)
        form.add_error(None, _("That e-mail and password do not match an account."))
        status = 422
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request)}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)  # flushes the session: the old session id no longer works
    return redirect("accounts:login")


def signup_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None, initial={"language": translation.get_language() or "en"})
    if request.method == "POST":
        if form.is_valid():
            try:
                membership = services.user_sign_up(**form.cleaned_data)
            except ValidationError as exc:
                _apply_form_errors(form, exc)
            else:
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
                translation.activate(membership.user.language)
                messages.success(
                    request,
                    _("Welcome to Vínculo! Your organisation %(org)s is ready.")
                    % {"org": membership.organization.name},
                )
                return redirect("contacts:contact_list", membership.organization.slug)
        return render(request, "accounts/signup.html", {"form": form}, status=422)
    return render(request, "accounts/signup.html", {"form": form})


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
                _apply_form_errors(form, exc)
            else:
                messages.success(request, _("Organisation %(org)s created.") % {"org": membership.organization.name})
                return redirect("contacts:contact_list", membership.organization.slug)
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
            services.user_update_preferences(user=user, **form.cleaned_data)
            translation.activate(user.language)
            messages.success(request, _("Your profile was saved."))
            return redirect(_safe_next(request) or "accounts:profile")
        return render(request, "accounts/profile.html", {"form": form}, status=422)
    return render(request, "accounts/profile.html", {"form": form})


@require_POST
def language_view(request: HttpRequest) -> HttpResponse:
    """Switch the interface language from any page: stored on the user, and in a cookie for
    pages seen before logging in."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponse(_("Unknown language."), status=400)
    if request.user.is_authenticated:
        services.user_update_preferences(user=request.user, language=language)
    translation.activate(language)
    response = redirect(_safe_next(request) or "home")
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@login_required
def password_change_view(request: AuthedRequest) -> HttpResponse:
    """Change password; other sessions of this user stop working, this one stays logged in."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = form.save()
            update_session_auth_hash(request, user)
            request.session.cycle_key()
            messages.success(request, _("Your password was changed. Other sessions were logged out."))
            return redirect("accounts:profile")
        return render(request, "accounts/password_change.html", {"form": form}, status=422)
    return render(request, "accounts/password_change.html", {"form": form})


def invitation_accept_view(request: HttpRequest, secret: str) -> HttpResponse:
    """Join an organisation from an e-mailed link: log in or sign up first, then confirm."""
    invitation = invitation_by_secret(secret)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    if not request.user.is_authenticated:
        return render(
            request, "accounts/invitation_login.html", {"invitation": invitation, "next": request.get_full_path()}
        )
    if request.method == "POST":
        try:
            membership = services.invitation_accept(invitation=invitation, user=request.user)
        except ValidationError:
            return render(request, "accounts/invitation_invalid.html", status=404)
        messages.success(request, _("You joined %(org)s.") % {"org": membership.organization.name})
        return redirect("contacts:contact_list", membership.organization.slug)
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation})
