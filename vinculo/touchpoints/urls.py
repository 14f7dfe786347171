"""Touchpoint pages under /o/<org_slug>/: each area of vinculo/touchpoints/views/ declares its patterns."""

from vinculo.touchpoints.views import forms, mail, tracking, webhooks

app_name = "touchpoints"
urlpatterns = [*tracking.urlpatterns, *forms.urlpatterns, *webhooks.urlpatterns, *mail.urlpatterns]
