from django.urls import include, path

from config.api import api
from vinculo.accounts import views as account_views
from vinculo.core.views import favicon

urlpatterns = [
    path("", account_views.home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/", include("vinculo.accounts.urls")),
    path("o/<slug:org_slug>/", include("vinculo.accounts.org_urls")),
    path("o/<slug:org_slug>/", include("vinculo.contacts.urls")),
    path("o/<slug:org_slug>/", include("vinculo.messaging.urls")),
    path("o/<slug:org_slug>/", include("vinculo.sales.urls")),
    path("o/<slug:org_slug>/", include("vinculo.touchpoints.urls")),
    path("api/v1/", api.urls),
    path("", include("vinculo.sales.ical_urls")),  # /calendar/<token>.ics, by secret
    path("", include("vinculo.messaging.public_urls")),  # preference centre, one-click unsubscribe, by token
    path("", include("vinculo.touchpoints.public_urls")),  # tracker script, hosted forms, webhooks
]

# requests Django refuses while reading them (too many fields, …): the 400 page or the JSON error
handler400 = "vinculo.core.request_errors.bad_request_view"
