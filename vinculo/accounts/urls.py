from django.urls import path

from vinculo.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("signup/", views.signup_view, name="signup"),
    path("organizations/new/", views.organization_create_view, name="organization_create"),
    path("profile/", views.profile_view, name="profile"),
    path("language/", views.language_view, name="language"),
    path("password/", views.password_change_view, name="password_change"),
    path("invitations/<str:secret>/", views.invitation_accept_view, name="invitation_accept"),
]
