"""Public endpoints, outside /o/ and /api/: the tracker script, hosted forms and webhooks. Each finds
its organisation by an unguessable key or token in the address, never by a session."""

from vinculo.touchpoints.views import forms, tracking, webhooks

app_name = "public"
urlpatterns = [*tracking.public_urlpatterns, *forms.public_urlpatterns, *webhooks.public_urlpatterns]
