"""The sales API under /api/v1/: one router per area, joined here."""

from ninja import Router

from vinculo.sales.api import agenda, assignment, deals, documents, reports

router = Router(tags=["sales"])
for area in (deals, documents, agenda, reports, assignment):
    router.add_router("", area.router)
