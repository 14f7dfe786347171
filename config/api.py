"""The one NinjaAPI: routers of every app under /api/v1/, errors in one JSON shape."""

from ninja import NinjaAPI

from config.api_errors import install_error_handlers
from vinculo.core.api_auth import OrgAuth

api = NinjaAPI(
    title="Vínculo API",
    version="1",
    description="The Vínculo eCRM API. Authenticate with `Authorization: Bearer <token>` "
    "(create tokens in Settings → API tokens) or a logged-in session.",
    auth=OrgAuth(),
    urls_namespace="api",
)
install_error_handlers(api)
