"""Organisation settings pages, under /o/<slug>/settings/."""

from django.urls import path

from vinculo.accounts import org_views

app_name = "org"
urlpatterns = [
    path("settings/", org_views.settings_view, name="settings"),
]
