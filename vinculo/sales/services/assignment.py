"""Who gets a new deal or lead: the ordered assignment rules (territory, product line, a fixed rep
or round robin among a team, each rep's capacity and days out of office) and the fallback owner.

The rules are read in order; the first one that matches *and* can name an available rep wins.
Every decision comes with a sentence saying why (`deal.assignment_reason`), so a rep or manager
never has to guess. Round robin is fair and safe under concurrency: the rule row is locked
(`select_for_update`) while the next rep is chosen and `last_assigned_user` is advanced, so two
deals created at the same moment go to two different reps.

Also here: the writes of the configuration (zones, rules and their order, out-of-office days, the
fallback owner), only for owners, admins and managers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries as all_countries
from django_scopes import scope

from vinculo.accounts.models import Membership, Team, User
from vinculo.accounts.permissions import MANAGE_ALL_ROLES, can_write, require_manager
from vinculo.accounts.system_actor import default_owner, is_system_actor, make_via, system_actor
from vinculo.contacts.models import Contact, LifecycleStage
from vinculo.contacts.services import clean_member, contact_update
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.events import emit
from vinculo.core.models import Event
from vinculo.core.validation import Errors, add_error, clean_date, clean_text, record_by_id, reject_unknown
from vinculo.sales.models import (
    AssignmentRule,
    AssignmentSettings,
    AssignmentTarget,
    Deal,
    DealStatus,
    OutOfOffice,
    Zone,
)

MAX_CODES = 300  # countries or regions in one zone or rule
MAX_REASON = 300  # Deal.assignment_reason


# --- permissions ---------------------------------------------------------------------------------


def can_manage_assignment(actor: Membership) -> bool:
    return actor.role in MANAGE_ALL_ROLES


# --- the engine ----------------------------------------------------------------------------------


@dataclass
class Assignment:
    """The outcome of the rules: who, by which rule (None: fallback or creator), and why."""

    user: User | None
    rule: AssignmentRule | None
    reason: str
    notes: list[str] = field(default_factory=list)


@dataclass
class Subject:
    """What the rules look at: where the customer is and what is being sold."""

    target: str  # AssignmentTarget.LEADS or DEALS
    country: str = ""
    region: str = ""
    product_line: str = ""
    zone_id: int | None = None


def _norm(value: str) -> str:
    return value.strip().casefold()


def zone_matches_place(zone: Zone, country: str, region: str) -> bool:
    """A zone covers a place when the country is one of its countries and, if the zone names
    regions, the region is one of them."""
    if not country or country.upper() not in [c.upper() for c in zone.countries or []]:
        return False
    regions = [_norm(r) for r in zone.regions or []]
    return not regions or _norm(region) in regions


def rule_matches(rule: AssignmentRule, subject: Subject) -> bool:
    """Every condition the rule sets must hold; a rule without conditions matches everything."""
    if rule.applies_to not in (AssignmentTarget.BOTH, subject.target):
        return False
    if rule.countries and subject.country.upper() not in [c.upper() for c in rule.countries]:
        return False
    if rule.regions and _norm(subject.region) not in [_norm(r) for r in rule.regions]:
        return False
    if rule.product_line and _norm(rule.product_line) != _norm(subject.product_line):
        return False
    if rule.zone_id is not None:
        if subject.zone_id is not None:
            return subject.zone_id == rule.zone_id
        return rule.zone is not None and zone_matches_place(rule.zone, subject.country, subject.region)
    return True


def describe_rule(rule: AssignmentRule) -> str:
    """ "zone Iberia, product line Cloud, round robin in team South" (conditions, then the action)."""
    parts: list[str] = []
    if rule.zone_id is not None and rule.zone is not None:
        parts.append(_("zone %(name)s") % {"name": rule.zone.name})
    if rule.countries:
        parts.append(_("countries %(codes)s") % {"codes": ", ".join(rule.countries)})
    if rule.regions:
        parts.append(_("regions %(names)s") % {"names": ", ".join(rule.regions)})
    if rule.product_line:
        parts.append(_("product line %(name)s") % {"name": rule.product_line})
    if rule.user_id is not None and rule.user is not None:
        parts.append(_("fixed rep %(name)s") % {"name": rule.user})
    elif rule.team_id is not None and rule.team is not None:
        parts.append(_("round robin in team %(name)s") % {"name": rule.team.name})
    return ", ".join(parts)


def _candidates(rule: AssignmentRule) -> list[User]:
    """The reps a rule can choose from, in their round-robin order (by name, then id)."""
    if rule.user_id is not None:
        return [rule.user] if rule.user is not None and rule.user.is_active else []
    if rule.team_id is None:
        return []
    return list(
        User.objects.filter(
            memberships__teams__id=rule.team_id,
            memberships__organization_id=rule.organization_id,
            is_active=True,
        )
        .distinct()
        .order_by("full_name", "id")
    )


def _open_deals(user_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        Deal.objects.filter(owner_id__in=list(user_ids), status=DealStatus.OPEN)
        .values("owner_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["owner_id"]: row["n"] for row in rows}


def _away(user_ids: Iterable[int], day: dt.date) -> set[int]:
    return set(
        OutOfOffice.objects.filter(user_id__in=list(user_ids), starts_on__lte=day, ends_on__gte=day).values_list(
            "user_id", flat=True
        )
    )


def _choose(rule: AssignmentRule, day: dt.date) -> tuple[User | None, list[str], str]:
    """(the rep, what was skipped and why, how the rep was chosen) for a matching rule."""
    reps = _candidates(rule)
    if not reps:
        return None, [_("nobody to assign")], ""
    ids = [u.pk for u in reps]
    away = _away(ids, day)
    load = _open_deals(ids) if rule.capacity is not None else {}
    if rule.user_id is None and rule.last_assigned_user_id in ids:
        start = ids.index(rule.last_assigned_user_id) + 1  # type: ignore[arg-type]
    else:
        start = 0
    skipped: list[str] = []
    for offset in range(len(reps)):
        rep = reps[(start + offset) % len(reps)]
        if rep.pk in away:
            skipped.append(_("%(name)s is out of office") % {"name": rep})
        elif rule.capacity is not None and load.get(rep.pk, 0) >= rule.capacity:
            n = load.get(rep.pk, 0)
            skipped.append(_("%(name)s is at capacity (%(n)s open deals)") % {"name": rep, "n": n})
        else:
            how = _("%(name)s is next in turn") if rule.user_id is None else _("%(name)s is the rule's rep")
            return rep, skipped, how % {"name": rep}
    return None, skipped, ""


def clip_reason(text: str) -> str:
    """An assignment reason cut to fit its column."""
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _rule_label(rule: AssignmentRule) -> str:
    described = describe_rule(rule)
    if described:
        return _("Rule “%(rule)s” (%(description)s)") % {"rule": rule.name, "description": described}
    return _("Rule “%(rule)s”") % {"rule": rule.name}


def _fallback(organization_id: int) -> User | None:
    settings = AssignmentSettings.objects.filter(organization_id=organization_id).select_related("fallback_owner")
    row = settings.first()
    owner = row.fallback_owner if row is not None else None
    if owner is None or not owner.is_active:
        return None
    if not Membership.objects.filter(user=owner, organization_id=organization_id).exists():
        return None
    return owner


def evaluate(*, subject: Subject, actor: Membership, lock: bool, day: dt.date | None = None) -> Assignment:
    """Run the rules for `subject`. With `lock` (a real assignment, inside a transaction) the rule
    that chooses by round robin is locked and its turn advanced; without (a preview) nothing is
    written."""
    day = day or timezone.localdate()
    rules = (
        AssignmentRule.objects.filter(is_active=True, applies_to__in=[AssignmentTarget.BOTH, subject.target])
        .select_related("zone", "team", "user")
        .order_by("position", "id")
    )
    notes: list[str] = []
    for rule in rules:
        if not rule_matches(rule, subject):
            continue
        if lock and rule.user_id is None:
            # re-read the turn under the row lock: a concurrent assignment may have advanced it
            locked = AssignmentRule.objects.select_for_update().filter(pk=rule.pk).values("last_assigned_user_id")
            rule.last_assigned_user_id = locked.get()["last_assigned_user_id"]
        rep, skipped, how = _choose(rule, day)
        label = _rule_label(rule)
        if rep is None:
            notes.append(_("%(rule)s skipped: %(why)s.") % {"rule": label, "why": "; ".join(skipped)})
            continue
        if lock and rule.user_id is None:
            AssignmentRule.objects.filter(pk=rule.pk).update(last_assigned_user=rep)
            rule.last_assigned_user = rep
        reason = f"{label}: " + "; ".join([how, *skipped]) + "."
        return Assignment(user=rep, rule=rule, reason=clip_reason(" ".join([*notes, reason])), notes=notes)
    fallback = _fallback(actor.organization_id)
    if fallback is not None:
        text = _("No rule matched: fallback owner %(name)s.") % {"name": fallback}
        return Assignment(user=fallback, rule=None, reason=clip_reason(" ".join([*notes, text])))
    creator = default_owner(actor)
    if creator is None:  # the system created it: nobody to fall back on, it stays unowned
        text = _("No rule matched and there is no fallback owner: it stays unowned.")
        return Assignment(user=None, rule=None, reason=clip_reason(" ".join([*notes, text])))
    text = _("No rule matched and there is no fallback owner: %(name)s, who created it.") % {"name": creator}
    return Assignment(user=creator, rule=None, reason=clip_reason(" ".join([*notes, text])))


def _place_of(*records: Any) -> tuple[str, str]:
    """(country, region) of the first record that has a country (a company, then a contact)."""
    for record in records:
        country = str(getattr(record, "country", None) or "")
        if country:
            return country.upper(), str(getattr(record, "region", None) or "")
    return "", ""


def assign_deal(*, deal: Deal, actor: Membership) -> None:
    """Set `deal.owner` (unsaved), with `assigned_by_rule` and `assignment_reason`.

    Called by deal_create inside its transaction when no owner was given.
    """
    country, region = _place_of(deal.company, deal.contact)
    subject = Subject(
        target=AssignmentTarget.DEALS,
        country=country,
        region=region,
        product_line=deal.product_line,
        zone_id=deal.zone_id,
    )
    result = evaluate(subject=subject, actor=actor, lock=True)
    deal.owner = result.user
    deal.assigned_by_rule = result.rule
    deal.assignment_reason = result.reason


def assign_lead(*, contact: Contact, actor: Membership) -> tuple[User | None, AssignmentRule | None, str]:
    """Who a new lead should belong to: (user, rule or None, reason). Advances round robin."""
    country, region = _place_of(contact.company if contact.company_id else None, contact)
    result = evaluate(
        subject=Subject(target=AssignmentTarget.LEADS, country=country, region=region), actor=actor, lock=True
    )
    return result.user, result.rule, result.reason


@dataclass
class LeadAssignment:
    contact: Contact
    user: User | None
    rule: AssignmentRule | None
    reason: str


@transaction.atomic
def lead_assign(*, actor: Membership, contact: Contact) -> LeadAssignment:
    """Give a lead (a contact) the owner the rules choose, and record why (`lead.assigned`)."""
    user, rule, reason = assign_lead(contact=contact, actor=actor)
    if rule is not None and is_system_actor(actor):  # "by the assignment rule “Spain”"
        actor = system_actor(actor.organization, via=make_via("assignment_rule", rule.name))
    contact = contact_update(actor=actor, contact=contact, data={"owner": user.pk if user else None})
    emit(
        organization=actor.organization,
        type="lead.assigned",
        contact=contact,
        actor=actor.user,
        properties={
            "owner_id": user.pk if user else None,
            "owner": str(user) if user else None,
            "rule_id": rule.pk if rule else None,
            "rule": rule.name if rule else None,
            "reason": reason,
        },
    )
    return LeadAssignment(contact=contact, user=user, rule=rule, reason=reason)


def assignment_preview(*, actor: Membership, data: Mapping[str, Any]) -> Assignment:
    """Which rep a hypothetical deal or lead would go to, and why; nothing is written."""
    errors: Errors = {}
    country = _clean_country(data.get("country"), "country", errors)
    region = clean_text(data.get("region"), "region", errors, max_length=100) or ""
    product_line = clean_text(data.get("product_line"), "product_line", errors, max_length=100) or ""
    target = data.get("applies_to") or AssignmentTarget.DEALS
    if target not in (AssignmentTarget.DEALS, AssignmentTarget.LEADS):
        add_error(errors, "applies_to", _("Choose one of %(expected)s.") % {"expected": "deals, leads"})
    zone = record_by_id(Zone.objects.all(), data.get("zone"), "zone", errors, _("No such zone."))
    if errors:
        raise ValidationError(errors)
    subject = Subject(
        target=target,
        country=country or "",
        region=region,
        product_line=product_line if target == AssignmentTarget.DEALS else "",
        zone_id=zone.pk if zone else None,
    )
    return evaluate(subject=subject, actor=actor, lock=False)


# --- validation shared by zones and rules ----------------------------------------------------------


def _clean_country(value: Any, field_name: str, errors: Errors) -> str | None:
    if value in (None, ""):
        return ""
    code = value.strip().upper() if isinstance(value, str) else ""
    if len(code) != 2 or not code.isalpha() or not all_countries.alpha2(code):
        add_error(errors, field_name, _("Unknown country code: %(code)s.") % {"code": str(value)[:10]})
        return None
    return code


def _split(value: Any) -> list[Any] | None:
    """A list as given, or text separated by commas or new lines (what a form sends)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.replace("\n", ",").split(",")) if part]
    if isinstance(value, list | tuple):
        return list(value)
    return None


def clean_countries(value: Any, field_name: str, errors: Errors) -> list[str] | None:
    items = _split(value)
    if items is None or not all(isinstance(i, str) for i in items):
        add_error(errors, field_name, _("Give a list of ISO 3166 country codes, e.g. ES, PT."))
        return None
    if len(items) > MAX_CODES:
        add_error(errors, field_name, _("At most %(n)s items.") % {"n": MAX_CODES})
        return None
    unknown = [
        i for i in items if len(i.strip()) != 2 or not i.strip().isalpha() or not all_countries.alpha2(i.strip())
    ]
    if unknown:
        add_error(errors, field_name, _("Unknown country codes: %(codes)s.") % {"codes": ", ".join(unknown[:10])})
        return None
    codes: list[str] = []
    for item in items:
        code = item.strip().upper()
        if code not in codes:
            codes.append(code)
    return codes


def clean_regions(value: Any, field_name: str, errors: Errors) -> list[str] | None:
    items = _split(value)
    if items is None or not all(isinstance(i, str) for i in items):
        add_error(errors, field_name, _("Give a list of region names."))
        return None
    regions: list[str] = []
    for item in items:
        name = item.strip()
        if len(name) > 100:
            add_error(errors, field_name, _("At most %(n)s characters.") % {"n": 100})
            return None
        if name and name not in regions:
            regions.append(name)
    if len(regions) > MAX_CODES:
        add_error(errors, field_name, _("At most %(n)s items.") % {"n": MAX_CODES})
        return None
    return regions


# --- zones -----------------------------------------------------------------------------------------

ZONE_FIELDS = ("name", "countries", "regions")


def _apply_zone(zone: Zone, data: Mapping[str, Any], errors: Errors, *, creating: bool) -> None:
    reject_unknown(data, ZONE_FIELDS, errors)
    if "name" in data or creating:
        name = clean_text(data.get("name"), "name", errors, max_length=100, required=True)
        if name is not None:
            zone.name = name
    if "countries" in data:
        codes = clean_countries(data["countries"], "countries", errors)
        if codes is not None:
            zone.countries = codes
    if "regions" in data:
        regions = clean_regions(data["regions"], "regions", errors)
        if regions is not None:
            zone.regions = regions
    if not errors and not zone.countries:
        add_error(errors, "countries", _("Give at least one country."))
    if "name" not in errors and zone.name:
        clash = Zone.objects.filter(name__iexact=zone.name).exclude(pk=zone.pk).exists()
        if clash:
            add_error(errors, "name", _("A zone with this name already exists."))


def _save_unique(instance: Any, message_field: str, message: str) -> None:
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise ValidationError({message_field: [message]}) from exc


@transaction.atomic
def zone_create(*, actor: Membership, data: Mapping[str, Any]) -> Zone:
    require_manager(actor)
    zone = Zone(organization=actor.organization)
    errors: Errors = {}
    _apply_zone(zone, data, errors, creating=True)
    if errors:
        raise ValidationError(errors)
    _save_unique(zone, "name", _("A zone with this name already exists."))
    audit_create(
        instance=zone, actor=actor.user, values=snapshot(zone, list(ZONE_FIELDS)), organization=actor.organization
    )
    return zone


@transaction.atomic
def zone_update(*, actor: Membership, zone: Zone, data: Mapping[str, Any]) -> Zone:
    require_manager(actor)
    zone = Zone.objects.select_for_update().get(pk=zone.pk)
    before = snapshot(zone, list(ZONE_FIELDS))
    errors: Errors = {}
    _apply_zone(zone, data, errors, creating=False)
    if errors:
        raise ValidationError(errors)
    _save_unique(zone, "name", _("A zone with this name already exists."))
    changes = diff(before, snapshot(zone, list(ZONE_FIELDS)))
    audit_update(instance=zone, actor=actor.user, changes=changes, organization=actor.organization)
    return zone


@transaction.atomic
def zone_delete(*, actor: Membership, zone: Zone) -> None:
    """Deals and rules in the zone keep existing, without a zone (a rule loses that condition)."""
    require_manager(actor)
    audit_delete(
        instance=zone, actor=actor.user, values=snapshot(zone, list(ZONE_FIELDS)), organization=actor.organization
    )
    zone.delete()


# --- rules -----------------------------------------------------------------------------------------

RULE_FIELDS = (
    "name",
    "is_active",
    "applies_to",
    "countries",
    "regions",
    "zone",
    "product_line",
    "team",
    "user",
    "capacity",
)


def _clean_capacity(value: Any, errors: Errors) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        add_error(errors, "capacity", _("Enter a whole number."))
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        add_error(errors, "capacity", _("Enter a whole number."))
        return None
    if not 1 <= number <= 100000:
        add_error(errors, "capacity", _("Enter a number between 1 and 100000, or nothing for no limit."))
        return None
    return number


def _apply_rule(
    actor: Membership, rule: AssignmentRule, data: Mapping[str, Any], errors: Errors, *, creating: bool
) -> None:
    reject_unknown(data, RULE_FIELDS, errors)
    if "name" in data or creating:
        name = clean_text(data.get("name"), "name", errors, max_length=100, required=True)
        if name is not None:
            rule.name = name
    if "is_active" in data:
        if isinstance(data["is_active"], bool):
            rule.is_active = data["is_active"]
        else:
            add_error(errors, "is_active", _("Enter true or false."))
    if "applies_to" in data:
        if data["applies_to"] in AssignmentTarget.values:
            rule.applies_to = data["applies_to"]
        else:
            expected = ", ".join(AssignmentTarget.values)
            add_error(errors, "applies_to", _("Choose one of %(expected)s.") % {"expected": expected})
    if "countries" in data:
        codes = clean_countries(data["countries"], "countries", errors)
        if codes is not None:
            rule.countries = codes
    if "regions" in data:
        regions = clean_regions(data["regions"], "regions", errors)
        if regions is not None:
            rule.regions = regions
    if "zone" in data:
        rule.zone = record_by_id(Zone.objects.all(), data["zone"], "zone", errors, _("No such zone."))
    if "product_line" in data:
        line = clean_text(data["product_line"], "product_line", errors, max_length=100)
        if line is not None:
            rule.product_line = line
    if "team" in data:
        rule.team = record_by_id(Team.objects.all(), data["team"], "team", errors, _("No such team."))
    if "user" in data:
        rule.user = clean_member(actor, data["user"], "user", errors)
    if "capacity" in data:
        rule.capacity = _clean_capacity(data["capacity"], errors)
    if "user" not in errors and "team" not in errors:
        if rule.user_id is not None and rule.team_id is not None:
            add_error(errors, "user", _("Choose either a fixed rep or a team for round robin, not both."))
        elif rule.user_id is None and rule.team_id is None:
            add_error(errors, "user", _("Choose a fixed rep or a team for round robin."))


def _rule_snapshot(rule: AssignmentRule) -> dict[str, Any]:
    return snapshot(rule, [*list(RULE_FIELDS), "position"])


@transaction.atomic
def assignment_rule_create(*, actor: Membership, data: Mapping[str, Any]) -> AssignmentRule:
    """A new rule, placed last."""
    require_manager(actor)
    rule = AssignmentRule(organization=actor.organization)
    errors: Errors = {}
    _apply_rule(actor, rule, data, errors, creating=True)
    if errors:
        raise ValidationError(errors)
    last = AssignmentRule.objects.order_by("-position").values_list("position", flat=True).first()
    rule.position = (last + 1) if last is not None else 0
    rule.save()
    audit_create(instance=rule, actor=actor.user, values=_rule_snapshot(rule), organization=actor.organization)
    return rule


@transaction.atomic
def assignment_rule_update(*, actor: Membership, rule: AssignmentRule, data: Mapping[str, Any]) -> AssignmentRule:
    require_manager(actor)
    rule = AssignmentRule.objects.select_for_update(of=("self",)).select_related("zone", "team", "user").get(pk=rule.pk)
    before = _rule_snapshot(rule)
    errors: Errors = {}
    _apply_rule(actor, rule, data, errors, creating=False)
    if errors:
        raise ValidationError(errors)
    if "team" in data or "user" in data:
        rule.last_assigned_user = None  # a new set of reps starts its turn from the first
    rule.save()
    audit_update(
        instance=rule, actor=actor.user, changes=diff(before, _rule_snapshot(rule)), organization=actor.organization
    )
    return rule


@transaction.atomic
def assignment_rule_delete(*, actor: Membership, rule: AssignmentRule) -> None:
    require_manager(actor)
    audit_delete(instance=rule, actor=actor.user, values=_rule_snapshot(rule), organization=actor.organization)
    rule.delete()


@transaction.atomic
def assignment_rule_reorder(*, actor: Membership, ids: Sequence[Any]) -> list[AssignmentRule]:
    """Put the rules in the order of `ids`, which must name every rule exactly once."""
    require_manager(actor)
    rules = {r.pk: r for r in AssignmentRule.objects.select_for_update().all()}
    try:
        wanted = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise ValidationError({"ids": [_("Ids must be whole numbers.")]}) from None
    if sorted(wanted) != sorted(rules) or len(set(wanted)) != len(wanted):
        raise ValidationError({"ids": [_("Give every rule's id exactly once.")]})
    changed = []
    for position, pk in enumerate(wanted):
        rule = rules[pk]
        if rule.position != position:
            audit_update(
                instance=rule,
                actor=actor.user,
                changes={"position": [rule.position, position]},
                organization=actor.organization,
            )
            rule.position = position
            changed.append(rule)
    AssignmentRule.objects.bulk_update(changed, ["position", "updated_at"] if changed else ["position"])
    return [rules[pk] for pk in wanted]


@transaction.atomic
def assignment_rule_move(*, actor: Membership, rule: AssignmentRule, direction: str) -> list[AssignmentRule]:
    """One step up or down (the buttons next to each rule, without JavaScript)."""
    require_manager(actor)
    if direction not in ("up", "down"):
        raise ValidationError({"direction": [_("Choose one of %(expected)s.") % {"expected": "up, down"}]})
    ids = list(AssignmentRule.objects.order_by("position", "id").values_list("pk", flat=True))
    index = ids.index(rule.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
    return assignment_rule_reorder(actor=actor, ids=ids)


# --- out of office ---------------------------------------------------------------------------------

OUT_OF_OFFICE_FIELDS = ("user", "starts_on", "ends_on")


def require_out_of_office_change(actor: Membership, user_id: int | None) -> None:
    """Managers set anyone's days away; every other member only their own."""
    if can_manage_assignment(actor):
        return
    if actor.role == "read_only" or user_id != actor.user_id:
        raise PermissionDenied(_("Only managers can set someone else's days out of office."))


def _apply_out_of_office(actor: Membership, away: OutOfOffice, data: Mapping[str, Any], errors: Errors) -> None:
    reject_unknown(data, OUT_OF_OFFICE_FIELDS, errors)
    if "user" in data:
        user = clean_member(actor, data["user"], "user", errors)
        if user is not None:
            away.user = user
        elif "user" not in errors:
            add_error(errors, "user", _("This field is required."))
    for name in ("starts_on", "ends_on"):
        if name in data:
            day = clean_date(data[name], name, errors)
            if day is not None:
                setattr(away, name, day)
            elif name not in errors:
                add_error(errors, name, _("This field is required."))
    if getattr(away, "user_id", None) is None and "user" not in errors:
        add_error(errors, "user", _("This field is required."))
    for name in ("starts_on", "ends_on"):
        if getattr(away, name) is None and name not in errors:
            add_error(errors, name, _("This field is required."))
    if not errors and away.ends_on < away.starts_on:
        add_error(errors, "ends_on", _("The last day cannot be before the first."))


def _away_snapshot(away: OutOfOffice) -> dict[str, Any]:
    return snapshot(away, list(OUT_OF_OFFICE_FIELDS))


@transaction.atomic
def out_of_office_create(*, actor: Membership, data: Mapping[str, Any]) -> OutOfOffice:
    away = OutOfOffice(organization=actor.organization)
    errors: Errors = {}
    _apply_out_of_office(actor, away, data, errors)
    if errors:
        raise ValidationError(errors)
    require_out_of_office_change(actor, away.user_id)
    away.save()
    audit_create(instance=away, actor=actor.user, values=_away_snapshot(away), organization=actor.organization)
    return away


@transaction.atomic
def out_of_office_update(*, actor: Membership, away: OutOfOffice, data: Mapping[str, Any]) -> OutOfOffice:
    require_out_of_office_change(actor, away.user_id)
    away = OutOfOffice.objects.select_for_update().select_related("user").get(pk=away.pk)
    before = _away_snapshot(away)
    errors: Errors = {}
    _apply_out_of_office(actor, away, data, errors)
    if errors:
        raise ValidationError(errors)
    require_out_of_office_change(actor, away.user_id)
    away.save()
    audit_update(
        instance=away, actor=actor.user, changes=diff(before, _away_snapshot(away)), organization=actor.organization
    )
    return away


@transaction.atomic
def out_of_office_delete(*, actor: Membership, away: OutOfOffice) -> None:
    require_out_of_office_change(actor, away.user_id)
    audit_delete(instance=away, actor=actor.user, values=_away_snapshot(away), organization=actor.organization)
    away.delete()


# --- fallback owner --------------------------------------------------------------------------------


def assignment_settings_get(*, organization_id: int) -> AssignmentSettings:
    """The organisation's settings row (unsaved when it was never set)."""
    row = AssignmentSettings.objects.select_related("fallback_owner").filter(organization_id=organization_id).first()
    return row or AssignmentSettings(organization_id=organization_id)


@transaction.atomic
def assignment_settings_update(*, actor: Membership, data: Mapping[str, Any]) -> AssignmentSettings:
    """Set (or clear, with null) the owner of what no rule matches."""
    require_manager(actor)
    errors: Errors = {}
    reject_unknown(data, ("fallback_owner",), errors)
    owner = clean_member(actor, data.get("fallback_owner"), "fallback_owner", errors)
    if errors:
        raise ValidationError(errors)
    row, _created = AssignmentSettings.objects.select_for_update().get_or_create(organization=actor.organization)
    before = snapshot(row, ["fallback_owner"])
    row.fallback_owner = owner
    row.save()
    audit_update(
        instance=row,
        actor=actor.user,
        changes=diff(before, snapshot(row, ["fallback_owner"])),
        organization=actor.organization,
    )
    return row


def new_lead_assign(*, event_id: int) -> LeadAssignment | None:
    """Route a lead that arrived without an owner (`contact.created`, lifecycle stage lead, no owner):
    the rules choose, acting as the member who created it, or as the system actor ("by the
    assignment rule …") when it came in from outside (a form, a webhook). Idempotent: a lead with
    an owner is left alone."""
    event = Event.dangerously_unscoped.select_related("organization").filter(pk=event_id).first()
    if event is None or event.type != "contact.created" or event.contact_id is None:
        return None
    with scope(organization=event.organization), transaction.atomic():
        contact = Contact.objects.select_for_update().filter(pk=event.contact_id).first()
        if contact is None or contact.owner_id is not None or contact.lifecycle_stage != LifecycleStage.LEAD:
            return None
        members = Membership.objects.filter(organization=event.organization).select_related("organization", "user")
        actor = members.filter(user_id=event.actor_id).first() if event.actor_id else None
        if actor is None or not can_write(actor):
            actor = system_actor(event.organization, via=make_via("assignment_rules"))
        return lead_assign(actor=actor, contact=contact)
