"""@mentions of members in free text (notes).

The syntax: `@` followed by one of a member's names, written without spaces, case and accents
ignored:
- the first word of their name (`@Ana` for "Ana García"),
- their whole name joined by dots (`@ana.garcia`),
- the part of their e-mail address before the @ (`@agarcia` for agarcia@acme.es).

A word that fits more than one member of the organisation (two Anas) mentions nobody: the writer
then uses a longer form. An address in the text (ana@acme.es) is not a mention: the @ must not
follow a letter, a digit or a dot.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

from vinculo.accounts.models import Membership, User

MENTION = re.compile(r"(?<![\w.@])@(\w[\w.\-]*)")


def mention_key(value: str) -> str:
    """How a name compares: lower case, accents off, spaces as dots."""
    decomposed = unicodedata.normalize("NFKD", value.strip().lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", ".", plain)


def mention_words(text: str) -> list[str]:
    """The words written after an @, in order, without trailing punctuation (`@ana.` is `ana`)."""
    return [word.rstrip(".-") for word in MENTION.findall(text or "")]


def _names_of(user: User) -> set[str]:
    names = {mention_key(user.email.partition("@")[0])}
    full = mention_key(user.full_name or "")
    if full:
        names.add(full)
        names.add(full.split(".")[0])
    return names


def mentioned_members(*, organization_id: int, text: str) -> list[Membership]:
    """The memberships of the organisation's active people the text mentions, unambiguously, in
    the order first mentioned."""
    words = [mention_key(w) for w in mention_words(text)]
    if not words:
        return []
    members = list(
        Membership.objects.filter(organization_id=organization_id, user__is_active=True)
        .select_related("user", "organization")
        .order_by("id")
    )
    by_name: dict[str, list[Membership]] = defaultdict(list)
    for membership in members:
        for name in _names_of(membership.user):
            by_name[name].append(membership)
    found: dict[int, Membership] = {}
    for word in words:
        candidates = by_name.get(word, [])
        if len(candidates) == 1:
            found.setdefault(candidates[0].user_id, candidates[0])
    return list(found.values())
