from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from vinculo.accounts import views
from vinculo.accounts.forms import ResetPasswordForm, StyledPasswordResetForm

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("signup/", views.signup_view, name="signup"),
    path("organizations/new/", views.organization_create_view, name="organization_create"),
    path("profile/", views.profile_view, name="profile"),
    path("language/", views.language_view, name="language"),
    path("password/", views.password_change_view, name="password_change"),
    path(
        "password/reset/",
        views.PasswordResetView.as_view(
            form_class=StyledPasswordResetForm,
            template_name="accounts/password_reset_form.html",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(
            form_class=ResetPasswordForm,
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("invitations/<str:secret>/", views.invitation_accept_view, name="invitation_accept"),
]
