"""The messaging API under /api/v1/: one router per area, joined here."""

from ninja import Router

from vinculo.messaging.api import consent, notifications, outbox

router = Router()
for area in (consent, outbox, notifications):
    router.add_router("", area.router)
