"""Public pages of the messaging layer, outside /o/ and /api/: the preference centre and one-click
unsubscribe, each found by a signed token in the address (vinculo/messaging/services/preferences.py)."""

from vinculo.messaging.views.preferences import public_urlpatterns

app_name = "unsubscribe"
urlpatterns = public_urlpatterns
