"""The touchpoints API under /api/v1/: one router per area, joined here."""

from ninja import Router

from vinculo.touchpoints.api import forms, mail, tracking, webhooks

router = Router(tags=["touchpoints"])
for area in (tracking, forms, webhooks, mail):
    router.add_router("", area.router)
