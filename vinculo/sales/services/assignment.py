"""Who gets a new deal or lead: the ordered assignment rules (territory, product line, round robin
among a team with capacity and availability) and the fallback owner.

(The rules engine is being written; until then a new deal belongs to the person who created it.)
"""

from __future__ import annotations

from vinculo.accounts.models import Membership
from vinculo.sales.models import Deal


def assign_deal(*, deal: Deal, actor: Membership) -> None:
    """Set `deal.owner` (unsaved), with `assigned_by_rule` and `assignment_reason` when a rule chose."""
    deal.owner = actor.user
