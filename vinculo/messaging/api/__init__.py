"""The messaging API under /api/v1/: one router per area, joined here."""

from ninja import Router

from vinculo.messaging.api import consent, notifications

router = Router()
for area in (consent, notifications):
    router.add_router("", area.router)
