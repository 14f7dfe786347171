"""`manage.py demo --contacts N`: a realistic demo organisation, from a few hundred contacts to millions.

What it builds (deterministic for a given --seed, apart from "now"):
- the organisation (--org-slug, default "demo"), six members with different roles and a sales
  team; the demo login is printed at the end (DEMO_EMAIL / DEMO_PASSWORD: fixed and public);
- companies (one per ~8 contacts) with web domains, industries and sizes; contacts with Spanish
  (es_ES, es_MX) and English (en_GB, en_US) names, e-mail addresses, E.164 phones, job titles,
  addresses, lifecycle stages, source channels, owners and tags; notes on a few of them;
- 18 months of events on every contact (page views, forms, e-mails, orders, tickets, surveys,
  deal stage changes) with plausible properties, as the touchpoint integrations would write them.

Speed: the demo bypasses the services (one service call per contact would take hours at a
million) and writes the same columns they write, 5,000 contacts per transaction with their rows
in other tables: `email`/`phone` copies of the primary ContactEmail/ContactPhone rows,
`search_text` computed by the same function the services use, `last_activity_at`, and a
`contact.created` event per contact. Rows go in with one `executemany` per table (RowWriter):
bulk_create's per-value preparation cost ten times the inserts themselves. On SQLite each batch
fills the FTS5 search index with one INSERT … SELECT instead of the per-row trigger (10× faster).
It writes no audit entries: generated data has no author to audit. Measured: docs/deployment.md.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import random
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import phonenumbers
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.db.models import Field, Model
from django.utils import timezone
from django.utils.text import slugify
from django_scopes import scopes_disabled
from faker import Faker

from vinculo.accounts.models import Membership, Organization, Role, Team, User
from vinculo.contacts.models import (
    Company,
    CompanySize,
    Contact,
    ContactEmail,
    ContactPhone,
    LifecycleStage,
    Note,
    PhoneKind,
    SourceChannel,
    Tag,
)
from vinculo.contacts.services import contact_search_text  # the exact text the services index
from vinculo.core.management.demo_login import DEMO_EMAIL, DEMO_ORG_SLUG, DEMO_PASSWORD
from vinculo.core.models import Event
from vinculo.core.search import fts_table, normalize

BATCH = 5_000  # contacts per transaction (with their e-mails, phones, tags, notes and events)
DAYS = 548  # 18 months of history
SITE = "https://www.atlas-outdoor.example"

# --- the people and places ------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    name: str
    region: str
    area: str  # landline area code (national, without trunk prefix)
    postal: str  # postal code prefix
    tz: str
    weight: int


@dataclass
class Locale:
    code: str
    country: str
    language: str
    currency: str
    weight: int
    tlds: Sequence[str]
    free_mail: Sequence[str]
    cities: Sequence[City]
    titles: Sequence[str]
    first_female: list[str] = field(default_factory=list)
    first_male: list[str] = field(default_factory=list)
    last: list[str] = field(default_factory=list)
    streets: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)


TITLES_ES = (
    "Director General",
    "Directora de Marketing",
    "Responsable de Compras",
    "Jefe de Ventas",
    "Gerente",
    "Responsable de E-commerce",
    "Directora Financiera",
    "Técnico de Compras",
    "Responsable de Tienda",
    "Fundadora",
    "Coordinador de Eventos",
    "Responsable de Recursos Humanos",
    "Director de Operaciones",
    "Administrativa",
)
TITLES_EN = (
    "CEO",
    "Head of Marketing",
    "Procurement Manager",
    "Sales Director",
    "Store Manager",
    "E-commerce Manager",
    "Finance Director",
    "Buyer",
    "Operations Manager",
    "Founder",
    "Events Coordinator",
    "HR Manager",
    "Office Manager",
    "Customer Success Manager",
)

LOCALES = [
    Locale(
        "es_ES",
        "ES",
        "es",
        "EUR",
        40,
        (".es", ".com"),
        ("gmail.com", "hotmail.com", "yahoo.es", "outlook.es", "telefonica.net"),
        [
            City("Madrid", "Comunidad de Madrid", "91", "28", "Europe/Madrid", 30),
            City("Barcelona", "Cataluña", "93", "08", "Europe/Madrid", 22),
            City("Valencia", "Comunidad Valenciana", "96", "46", "Europe/Madrid", 9),
            City("Sevilla", "Andalucía", "95", "41", "Europe/Madrid", 8),
            City("Zaragoza", "Aragón", "976", "50", "Europe/Madrid", 5),
            City("Málaga", "Andalucía", "95", "29", "Europe/Madrid", 5),
            City("Bilbao", "País Vasco", "94", "48", "Europe/Madrid", 5),
            City("Murcia", "Región de Murcia", "968", "30", "Europe/Madrid", 3),
            City("Palma", "Islas Baleares", "971", "07", "Europe/Madrid", 3),
            City("Las Palmas de Gran Canaria", "Canarias", "928", "35", "Atlantic/Canary", 3),
            City("Valladolid", "Castilla y León", "983", "47", "Europe/Madrid", 2),
            City("A Coruña", "Galicia", "981", "15", "Europe/Madrid", 2),
            City("Granada", "Andalucía", "958", "18", "Europe/Madrid", 2),
            City("Oviedo", "Asturias", "985", "33", "Europe/Madrid", 1),
            City("Pamplona", "Navarra", "948", "31", "Europe/Madrid", 1),
            City("San Sebastián", "País Vasco", "943", "20", "Europe/Madrid", 1),
        ],
        TITLES_ES,
    ),
    Locale(
        "es_MX",
        "MX",
        "es",
        "MXN",
        10,
        (".com.mx", ".mx", ".com"),
        ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com.mx"),
        [
            City("Ciudad de México", "CDMX", "55", "0", "America/Mexico_City", 40),
            City("Guadalajara", "Jalisco", "33", "44", "America/Mexico_City", 15),
            City("Monterrey", "Nuevo León", "81", "64", "America/Monterrey", 15),
            City("Puebla", "Puebla", "222", "72", "America/Mexico_City", 8),
            City("Querétaro", "Querétaro", "442", "76", "America/Mexico_City", 6),
            City("Mérida", "Yucatán", "999", "97", "America/Merida", 5),
            City("Tijuana", "Baja California", "664", "22", "America/Tijuana", 6),
            City("Cancún", "Quintana Roo", "998", "77", "America/Cancun", 5),
        ],
        TITLES_ES,
    ),
    Locale(
        "en_GB",
        "GB",
        "en",
        "GBP",
        25,
        (".co.uk", ".com", ".uk"),
        ("gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk", "hotmail.co.uk"),
        [
            City("London", "Greater London", "20", "E", "Europe/London", 35),
            City("Manchester", "Greater Manchester", "161", "M", "Europe/London", 10),
            City("Birmingham", "West Midlands", "121", "B", "Europe/London", 9),
            City("Leeds", "West Yorkshire", "113", "LS", "Europe/London", 7),
            City("Glasgow", "Scotland", "141", "G", "Europe/London", 7),
            City("Edinburgh", "Scotland", "131", "EH", "Europe/London", 6),
            City("Bristol", "Bristol", "117", "BS", "Europe/London", 6),
            City("Liverpool", "Merseyside", "151", "L", "Europe/London", 5),
            City("Cardiff", "Wales", "29", "CF", "Europe/London", 4),
            City("Belfast", "Northern Ireland", "28", "BT", "Europe/London", 4),
            City("Newcastle upon Tyne", "Tyne and Wear", "191", "NE", "Europe/London", 4),
            City("Brighton", "East Sussex", "1273", "BN", "Europe/London", 3),
        ],
        TITLES_EN,
    ),
    Locale(
        "en_US",
        "US",
        "en",
        "USD",
        25,
        (".com", ".com", ".co", ".io"),
        ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com"),
        [
            City("New York", "NY", "212", "100", "America/New_York", 20),
            City("Los Angeles", "CA", "213", "900", "America/Los_Angeles", 14),
            City("Chicago", "IL", "312", "606", "America/Chicago", 10),
            City("Houston", "TX", "713", "770", "America/Chicago", 8),
            City("Phoenix", "AZ", "602", "850", "America/Phoenix", 6),
            City("Philadelphia", "PA", "215", "191", "America/New_York", 6),
            City("San Diego", "CA", "619", "921", "America/Los_Angeles", 5),
            City("Austin", "TX", "512", "787", "America/Chicago", 5),
            City("Seattle", "WA", "206", "981", "America/Los_Angeles", 6),
            City("Boston", "MA", "617", "021", "America/New_York", 6),
            City("Denver", "CO", "303", "802", "America/Denver", 5),
            City("Miami", "FL", "305", "331", "America/New_York", 5),
            City("San Francisco", "CA", "415", "941", "America/Los_Angeles", 6),
            City("Portland", "OR", "503", "972", "America/Los_Angeles", 4),
        ],
        TITLES_EN,
    ),
]
# Faker's es_ES surnames are uniform; real Spanish surnames are not (García is ~3 %).
COMMON_SPANISH_SURNAMES = (
    ("García", 32),
    ("Rodríguez", 19),
    ("González", 19),
    ("Fernández", 19),
    ("López", 19),
    ("Martínez", 18),
    ("Sánchez", 18),
    ("Pérez", 17),
    ("Gómez", 11),
    ("Martín", 11),
    ("Jiménez", 9),
    ("Ruiz", 8),
    ("Hernández", 8),
    ("Díaz", 8),
    ("Moreno", 7),
    ("Muñoz", 6),
    ("Álvarez", 6),
    ("Romero", 5),
    ("Alonso", 5),
    ("Gutiérrez", 5),
)
INDUSTRIES = (
    ("Retail", 16),
    ("Sporting goods", 12),
    ("Tourism", 10),
    ("Education", 8),
    ("Software", 7),
    ("Hospitality", 7),
    ("Healthcare", 6),
    ("Logistics", 5),
    ("Manufacturing", 5),
    ("Events", 5),
    ("Consulting", 4),
    ("Public sector", 4),
    ("Media", 3),
    ("Financial services", 3),
    ("Construction", 3),
    ("Non-profit", 2),
)
COMPANY_SIZES = (
    (CompanySize.S1, 35),
    (CompanySize.S11, 30),
    (CompanySize.S51, 20),
    (CompanySize.S201, 10),
    (CompanySize.S1001, 5),
)
STAGES = (
    (LifecycleStage.LEAD, 45),
    (LifecycleStage.PROSPECT, 22),
    (LifecycleStage.CUSTOMER, 25),
    (LifecycleStage.CHURNED, 8),
)
SOURCES = (
    (SourceChannel.WEB, 28),
    (SourceChannel.FORM, 20),
    (SourceChannel.ECOMMERCE, 14),
    (SourceChannel.SOCIAL, 12),
    (SourceChannel.EMAIL, 8),
    (SourceChannel.REFERRAL, 6),
    (SourceChannel.EVENT, 5),
    (SourceChannel.IMPORT, 5),
    (SourceChannel.MANUAL, 2),
)
TAGS = (
    ("VIP", "#d63384"),
    ("Newsletter", "#0d6efd"),
    ("B2B", "#6610f2"),
    ("Wholesale", "#6f42c1"),
    ("Trade show 2025", "#fd7e14"),
    ("Webinar", "#20c997"),
    ("Churn risk", "#dc3545"),
    ("Loyalty club", "#198754"),
    ("Influencer", "#ffc107"),
    ("Partner", "#0dcaf0"),
    ("Beta tester", "#6c757d"),
    ("Clubes de montaña", "#198754"),
)
PRODUCTS = (
    ("Trail running shoes", "trail-running-shoes", Decimal("119.90")),
    ("Waterproof jacket", "waterproof-jacket", Decimal("189.00")),
    ("Two-person tent", "two-person-tent", Decimal("249.00")),
    ("Backpack 30 L", "backpack-30l", Decimal("89.95")),
    ("Headlamp 400 lm", "headlamp-400", Decimal("34.50")),
    ("Down sleeping bag", "down-sleeping-bag", Decimal("139.00")),
    ("Trekking poles", "trekking-poles", Decimal("59.90")),
    ("Merino base layer", "merino-base-layer", Decimal("69.00")),
    ("Water filter", "water-filter", Decimal("44.90")),
    ("Climbing harness", "climbing-harness", Decimal("79.00")),
)
FX = {"EUR": Decimal("1"), "GBP": Decimal("0.85"), "USD": Decimal("1.08"), "MXN": Decimal("19.5")}
PAGES = (
    ("/", "Atlas Outdoor: gear for every trail"),
    ("/collections/hiking", "Hiking"),
    ("/collections/camping", "Camping"),
    ("/collections/running", "Trail running"),
    ("/b2b", "Team and club orders"),
    ("/blog/how-to-choose-a-tent", "How to choose a tent"),
    ("/blog/layering-101", "Layering 101"),
    ("/es/blog/rutas-pirineos", "Diez rutas por los Pirineos"),
    ("/es/ofertas", "Ofertas"),
    ("/help/returns", "Returns and exchanges"),
)
REFERRERS = ("", "", "https://www.google.com/", "https://www.instagram.com/", "https://www.facebook.com/", "newsletter")
FORMS = {
    "en": ("Newsletter sign-up", "Team order quote", "Contact us", "Catalogue download", "Event registration"),
    "es": ("Suscripción al boletín", "Presupuesto para equipos", "Contacto", "Descarga de catálogo", "Inscripción"),
}
CAMPAIGNS = {
    "en": (
        ("Spring collection", "New season, new trails: the spring collection is here"),
        ("Black Friday", "Black Friday: up to 40% off tents and sleeping bags"),
        ("Monthly newsletter", "Five routes for this month"),
        ("Abandoned cart", "You left something in your basket"),
        ("Club programme", "Kit your whole club out at team prices"),
    ),
    "es": (
        ("Colección primavera", "Nueva temporada, nuevas rutas: llega la colección de primavera"),
        ("Black Friday", "Black Friday: hasta un 40 % en tiendas y sacos"),
        ("Boletín mensual", "Cinco rutas para este mes"),
        ("Carrito abandonado", "Te has dejado algo en la cesta"),
        ("Programa para clubes", "Equipa a todo tu club con precios de equipo"),
    ),
}
TICKETS = {
    "en": ("Where is my order?", "Return request", "Size exchange", "Item arrived damaged", "Invoice needed"),
    "es": (
        "¿Dónde está mi pedido?",
        "Solicitud de devolución",
        "Cambio de talla",
        "Producto dañado",
        "Necesito factura",
    ),
}
DEAL_STAGES = ("qualified", "proposal", "negotiation", "won")
NOTES = {
    "en": (
        "Called {first}: interested in a team order for about {n} people. Send a quote this week.",
        "{first} asked about delivery times to {city}. Follow up after the trade show.",
        "Met {first} at the stand. Wants samples of the merino range.",
        "Left a voicemail; {first} prefers e-mail.",
        "{first} is comparing us with two other suppliers. Price is the main concern.",
    ),
    "es": (
        "Llamada con {first}: quiere un pedido para unas {n} personas. Enviar presupuesto esta semana.",
        "{first} pregunta por plazos de entrega a {city}. Seguimiento tras la feria.",
        "Conocí a {first} en el stand. Quiere muestras de la gama merino.",
        "Dejé un mensaje de voz; {first} prefiere el correo.",
        "{first} nos compara con otros dos proveedores. El precio es lo que más le preocupa.",
    ),
}
USERS = (
    # e-mail, name, role, in the sales team, language
    (DEMO_EMAIL, "Demo User", Role.OWNER, False, "en"),
    ("lucia.fernandez@vinculo.test", "Lucía Fernández", Role.MANAGER, True, "es"),
    ("james.whitaker@vinculo.test", "James Whitaker", Role.SALES, True, "en"),
    ("carmen.ruiz@vinculo.test", "Carmen Ruiz", Role.SALES, True, "es"),
    ("emily.carter@vinculo.test", "Emily Carter", Role.MARKETING, False, "en"),
    ("pablo.ortega@vinculo.test", "Pablo Ortega", Role.SUPPORT, False, "es"),
)
OWNER_WEIGHTS = (5, 20, 30, 30, 5, 5)  # who owns contacts, in the order of USERS
UNOWNED_SHARE = 0.1


def ascii_slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", text.lower())


class Weighted:
    """Fast repeated weighted choice (bisect over cumulative weights)."""

    def __init__(self, items: Sequence[tuple[Any, float]]) -> None:
        self.values = [v for v, _w in items]
        self.cum = list(itertools.accumulate(w for _v, w in items))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cum, rng.random() * self.total)]


_pools_seed: list[int] = []


def fill_pools(faker_seed: int) -> None:
    """Names, streets and jobs from Faker per locale, sampled once (Faker per row is slow)."""
    if _pools_seed == [faker_seed]:
        return
    _pools_seed[:] = [faker_seed]
    for loc in LOCALES:
        fake = Faker(loc.code)
        fake.seed_instance(faker_seed)
        loc.first_female = [fake.first_name_female() for _ in range(1500)]
        loc.first_male = [fake.first_name_male() for _ in range(1500)]
        loc.last = [fake.last_name() for _ in range(3000)]
        loc.streets = [fake.street_address() for _ in range(2000)]
        loc.jobs = list({fake.job()[:150] for _ in range(300)})


# --- phones ---------------------------------------------------------------------------------------


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randrange(10**n)).zfill(n) if n > 0 else ""


COUNTRY_CODES = {"ES": ("34", 9), "GB": ("44", 10), "MX": ("52", 10), "US": ("1", 10)}  # code, national digits


@functools.cache
def _valid_continuations(country: str, head: str) -> tuple[str, ...]:
    """The two digits after `head` (national) that give numbers phonenumbers accepts as valid,
    tried once per head: area codes only allow some exchanges, and a random one is often wrong."""
    code, length = COUNTRY_CODES[country]
    rng = random.Random(head)
    valid = []
    for n in range(100):
        trials = (f"+{code}{head}{n:02d}{_digits(rng, length - len(head) - 2)}" for _ in range(3))
        if all(phonenumbers.is_valid_number(phonenumbers.parse(t)) for t in trials):
            valid.append(f"{n:02d}")
    return tuple(valid) or ("00",)


def _phone(country: str, head: str, rng: random.Random) -> str:
    code, length = COUNTRY_CODES[country]
    return f"+{code}{head}{rng.choice(_valid_continuations(country, head))}{_digits(rng, length - len(head) - 2)}"


def mobile_number(country: str, city: City, rng: random.Random) -> str:
    if country == "ES":
        return _phone(country, "6", rng)
    if country == "GB":
        return _phone(country, "7" + rng.choice("45789"), rng)
    return _phone(country, city.area, rng)  # Mexican and US numbers do not tell mobiles apart


def landline_number(country: str, city: City, rng: random.Random) -> str:
    return _phone(country, city.area, rng)


def postal_code(country: str, city: City, rng: random.Random) -> str:
    if country == "ES":
        return city.postal + _digits(rng, 3)
    if country == "MX":
        return (city.postal + _digits(rng, 5))[:5]
    if country == "US":
        return city.postal + _digits(rng, 2)
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"{city.postal}{rng.randint(1, 20)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


# --- writing rows fast ----------------------------------------------------------------------------


class SqliteDatetime:
    """What Django's SQLite backend stores for an aware datetime: naive UTC as text.

    Remembers the last value: an event row carries the same instant in three columns.
    """

    def __init__(self) -> None:
        self.last: tuple[dt.datetime | None, str | None] = (None, None)

    def __call__(self, value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        if value is self.last[0]:
            return self.last[1]
        # str() of a UTC datetime ends in "+00:00"
        text = str(value)[:-6] if value.tzinfo is dt.UTC else str(value.astimezone(dt.UTC).replace(tzinfo=None))
        self.last = (value, text)
        return text


def _same(value: Any) -> Any:
    return value


class RowWriter:
    """INSERT rows of `model` with one executemany: what bulk_create does, minus its per-value work.

    bulk_create prepares every value through the field API and builds SQL per 999 parameters; at a
    million contacts that costs ten times the insert itself. Here values are prepared once per field
    type, as the database backend does (aware datetimes as UTC text on SQLite, JSON through the
    backend's JSON adapter). Columns not given get the field's default; a NOT NULL column without a
    default stops the command before it writes anything.
    """

    def __init__(self, model: type[Model], columns: Sequence[str]) -> None:
        meta = model._meta
        fields = {f.attname: f for f in meta.concrete_fields}
        unknown = set(columns) - set(fields)
        if unknown:
            raise CommandError(f"demo: {meta.label} has no columns {sorted(unknown)}")
        self.columns = list(columns)
        self.defaults: list[Callable[[], Any]] = []
        for attname, f in fields.items():
            if attname in columns or f.primary_key:
                continue
            if f.has_default():
                default = f.get_default()
                self.defaults.append(f.get_default if callable(f.default) else functools.partial(_same, default))
            elif getattr(f, "auto_now", False):
                self.defaults.append(timezone.now)
            elif f.null:
                self.defaults.append(functools.partial(_same, None))
            else:
                raise CommandError(f"demo: {meta.label}.{attname} needs a value; teach the demo generator about it.")
            self.columns.append(attname)
        self.converters: list[Callable[[Any], Any] | None] = [self._converter(fields[c]) for c in self.columns]

        def qn(name: str | None) -> str:
            return connection.ops.quote_name(name or "")

        self.sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(fields[c].column) for c in self.columns)}) "
            f"VALUES ({', '.join(['%s'] * len(self.columns))})"
        )

    @staticmethod
    def _converter(f: Field[Any, Any]) -> Callable[[Any], Any] | None:
        if isinstance(f, models.DateTimeField):
            return SqliteDatetime() if connection.vendor == "sqlite" else None
        if isinstance(f, models.JSONField):
            encoder = f.encoder
            return lambda v: connection.ops.adapt_json_value(v, encoder)
        return None

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        converters, defaults = self.converters, self.defaults
        prepared = []
        for row in rows:
            values = [*row, *(d() for d in defaults)] if defaults else row
            prepared.append([v if c is None else c(v) for c, v in zip(converters, values, strict=True)])
        if prepared:
            with connection.cursor() as cursor:
                cursor.executemany(self.sql, prepared)
        return len(prepared)


def allocate_ids(model: type[Model], n: int) -> list[int]:
    """`n` primary keys for rows about to be inserted with explicit ids. Call inside the
    transaction that inserts them: on SQLite it holds the write lock (BEGIN IMMEDIATE), so no
    one else can take the same ids; on PostgreSQL the sequence hands them out."""
    if n == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + n))


@contextmanager
def search_index_deferred(model: type[Model]) -> Iterator[None]:
    """Within one transaction: index the rows inserted in the block with one INSERT … SELECT into
    the SQLite FTS5 table instead of the per-row trigger (measured: 14 µs instead of 150 µs a row).

    The insert trigger is dropped and re-created inside the same transaction, so other
    connections never see it missing, and a rollback restores it. Elsewhere this does nothing
    (PostgreSQL's trigram index is an ordinary index).
    """
    if connection.vendor != "sqlite":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("search_index_deferred() needs a transaction")
    table, fts = model._meta.db_table, fts_table(model)
    trigger = f"{fts}_ai"
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [trigger])
        row = cursor.fetchone()
        if row is None:  # no search index on this table
            yield
            return
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        max_id = cursor.fetchone()[0]
        cursor.execute(f"DROP TRIGGER {trigger}")
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {fts}(rowid, search_text) SELECT id, search_text FROM {table} WHERE id > %s", [max_id]
        )
        cursor.execute(row[0])


# --- the builder ----------------------------------------------------------------------------------


@dataclass
class CompanyInfo:
    pk: int
    locale: Locale
    city: City
    domain: str
    name: str


@dataclass
class Person:
    """What contacts/services.py::contact_search_text reads of a contact."""

    first_name: str
    last_name: str
    job_title: str
    city: str


@dataclass
class Stats:
    contacts: int = 0
    companies: int = 0
    events: int = 0
    notes: int = 0


CONTACT_COLUMNS = (
    "id",
    "organization_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company_id",
    "job_title",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "language",
    "time_zone",
    "lifecycle_stage",
    "source",
    "owner_id",
    "custom",
    "last_activity_at",
    "search_text",
    "created_at",
    "updated_at",
)
COMPANY_COLUMNS = (
    "id",
    "organization_id",
    "name",
    "domain",
    "industry",
    "size",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "owner_id",
    "search_text",
    "created_at",
    "updated_at",
)
EVENT_COLUMNS = (
    "organization_id",
    "contact_id",
    "company_id",
    "type",
    "source",
    "properties",
    "actor_id",
    "occurred_at",
    "received_at",
    "created_at",
    "updated_at",
    "message_id",
)


class DemoBuilder:
    """Generates the organisation. Separate from the command so tests and benchmarks can call it."""

    def __init__(
        self,
        *,
        contacts: int,
        seed: int = 42,
        org_slug: str = DEMO_ORG_SLUG,
        busy_contact_events: int = 0,
        events_per_contact: float = 6.0,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.n_contacts = contacts
        self.seed = seed
        self.org_slug = org_slug
        self.busy_contact_events = busy_contact_events
        self.events_scale = events_per_contact / 6.0
        self.progress = progress or (lambda _msg: None)
        self.rng = random.Random(seed)
        self.now = timezone.now().replace(microsecond=0)
        self.start = self.now - dt.timedelta(days=DAYS)
        self.stats = Stats()
        self.used_emails: set[str] = set()
        self.message_seq = itertools.count(1)
        self.locales = Weighted([(loc, loc.weight) for loc in LOCALES])
        self.cities = {loc.code: Weighted([(c, c.weight) for c in loc.cities]) for loc in LOCALES}
        self.spanish_surnames = Weighted(list(COMMON_SPANISH_SURNAMES))
        self.industries = Weighted(list(INDUSTRIES))
        self.sizes = Weighted(list(COMPANY_SIZES))
        self.stages = Weighted(list(STAGES))
        self.sources = Weighted(list(SOURCES))
        self.busy_contact_id: int | None = None

    # -- public ----------------------------------------------------------------------------------

    def build(self) -> Organization:
        fill_pools(self.seed)
        started = time.monotonic()
        self.contact_writer = RowWriter(Contact, CONTACT_COLUMNS)
        self.company_writer = RowWriter(Company, COMPANY_COLUMNS)
        self.event_writer = RowWriter(Event, EVENT_COLUMNS)
        self.email_writer = RowWriter(ContactEmail, ("organization_id", "contact_id", "email", "is_primary"))
        self.phone_writer = RowWriter(ContactPhone, ("organization_id", "contact_id", "number", "kind", "is_primary"))
        self.note_writer = RowWriter(Note, ("organization_id", "contact_id", "author_id", "body", "created_at"))
        self.contact_tag_writer = RowWriter(Contact.tags.through, ("contact_id", "tag_id"))
        self.company_tag_writer = RowWriter(Company.tags.through, ("company_id", "tag_id"))
        with scopes_disabled():
            with transaction.atomic():
                org = self._organization()
                self.users = self._members(org)
                self.tags = self._tags(org)
            self.owner_pick = Weighted(list(zip(self.users, OWNER_WEIGHTS, strict=True)))
            self.companies = self._companies(org)
            self.company_pick = Weighted(
                [(c, 1 / (rank + 1) ** 0.6) for rank, c in enumerate(self.companies)] or [(None, 1)]
            )
            created = self._creation_times()
            for offset in range(0, self.n_contacts, BATCH):
                with transaction.atomic(), search_index_deferred(Contact):
                    self._contact_batch(org, created[offset : offset + BATCH], first=offset == 0)
                elapsed = time.monotonic() - started
                done = self.stats.contacts
                rate = done / elapsed if elapsed else 0
                eta = (self.n_contacts - done) / rate if rate else 0
                self.progress(
                    f"  contacts {done:,}/{self.n_contacts:,} ({100 * done // max(1, self.n_contacts)} %), "
                    f"events {self.stats.events:,}, {rate:,.0f} contacts/s, {elapsed:,.0f} s elapsed, ETA {eta:,.0f} s"
                )
        return org

    # -- organisation, members, tags ---------------------------------------------------------------

    def _organization(self) -> Organization:
        name = "Atlas Outdoor (demo)" if self.org_slug == DEMO_ORG_SLUG else f"Atlas Outdoor ({self.org_slug})"
        return Organization.objects.create(
            name=name, slug=self.org_slug, base_currency="EUR", language="en", time_zone="Europe/Madrid", country="ES"
        )

    def _members(self, org: Organization) -> list[User]:
        users: list[User] = []
        team = Team.objects.create(organization=org, name="Ventas / Sales")
        password_hash = make_password(DEMO_PASSWORD)  # one slow Argon2 hash for all the demo members
        for email, full_name, role, in_team, language in USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create(email=email, password=password_hash, full_name=full_name, language=language)
            membership = Membership.objects.create(user=user, organization=org, role=role)
            if in_team:
                team.members.add(membership)
            users.append(user)
        return users

    def _tags(self, org: Organization) -> list[Tag]:
        return Tag.dangerously_unscoped.bulk_create(
            [Tag(organization=org, name=name, color=color) for name, color in TAGS]
        )

    def _owner_id(self) -> int | None:
        return self.owner_pick.pick(self.rng).pk if self.rng.random() > UNOWNED_SHARE else None

    # -- companies ---------------------------------------------------------------------------------

    def _companies(self, org: Organization) -> list[CompanyInfo]:
        n = max(3, self.n_contacts // 8) if self.n_contacts else 0
        rng = self.rng
        fakers = {loc.code: Faker(loc.code) for loc in LOCALES}
        for fake in fakers.values():
            fake.seed_instance(self.seed)
        used_domains: set[str] = set()
        next_suffix: dict[str, int] = {}
        infos: list[CompanyInfo] = []
        b2b_tags = [self.tags[i].pk for i in (2, 3, 4, 9)]
        for offset in range(0, n, BATCH):
            with transaction.atomic(), search_index_deferred(Company):
                ids = allocate_ids(Company, min(BATCH, n - offset))
                rows: list[tuple[Any, ...]] = []
                tag_rows: list[tuple[int, int]] = []
                for pk in ids:
                    loc = self.locales.pick(rng)
                    city = self.cities[loc.code].pick(rng)
                    name = fakers[loc.code].company()[:200]
                    base = ascii_slug(re.split(r",| S\.| and | y ", name)[0]) or "empresa"
                    tld = rng.choice(loc.tlds)
                    domain = base + tld
                    while domain in used_domains:  # "smith-jones.com" is taken: "smith-jones2.com"
                        next_suffix[base] = next_suffix.get(base, 1) + 1
                        domain = f"{base}{next_suffix[base]}{tld}"
                    used_domains.add(domain)
                    industry = self.industries.pick(rng)
                    created = self.start - dt.timedelta(days=rng.randint(0, 900), seconds=rng.randrange(86400))
                    rows.append(
                        (
                            pk,
                            org.pk,
                            name,
                            domain,
                            industry,
                            self.sizes.pick(rng),
                            landline_number(loc.country, city, rng),
                            rng.choice(loc.streets),
                            city.name,
                            city.region,
                            postal_code(loc.country, city, rng),
                            loc.country,
                            self._owner_id(),
                            # the text the company services index (contacts/services.py::_save_company)
                            normalize(name, domain, industry, city.name),
                            created,
                            created,
                        )
                    )
                    if rng.random() < 0.3:
                        tag_rows.extend((pk, t) for t in {rng.choice(b2b_tags), rng.choice(b2b_tags)})
                    infos.append(CompanyInfo(pk, loc, city, domain, name))
                self.company_writer.write(rows)
                self.company_tag_writer.write(tag_rows)
            self.stats.companies += len(rows)
            self.progress(f"  companies {self.stats.companies:,}/{n:,}")
        rng.shuffle(infos)  # popularity (how many contacts) independent of creation order
        return infos

    # -- contacts ----------------------------------------------------------------------------------

    def _creation_times(self) -> list[dt.datetime]:
        """When each contact was created, oldest first, growing towards now (ids follow time)."""
        rng, span = self.rng, DAYS * 86400
        offsets = sorted(span * rng.random() ** 0.7 for _ in range(self.n_contacts))
        return [self.start + dt.timedelta(seconds=int(s)) for s in offsets]

    def _email_for(self, first: str, last: str, domain: str) -> str:
        rng = self.rng
        first_a, last_a = ascii_slug(first) or "info", ascii_slug(last.split(" ")[0]) or "contact"
        style = rng.random()
        if style < 0.5:
            local = f"{first_a}.{last_a}"
        elif style < 0.7:
            local = f"{first_a[0]}{last_a}"
        elif style < 0.85:
            local = f"{first_a}{last_a}"
        else:
            local = f"{first_a}.{last_a}{rng.randint(1, 99)}"
        email = f"{local}@{domain}"
        while email in self.used_emails:
            email = f"{local}{rng.randint(1, 9999)}@{domain}"
        self.used_emails.add(email)
        return email

    def _contact_batch(self, org: Organization, created: list[dt.datetime], *, first: bool) -> None:
        rng, org_id, n_tags = self.rng, org.pk, len(self.tags)
        ids = allocate_ids(Contact, len(created))
        if first and ids and self.busy_contact_events:
            self.busy_contact_id = ids[0]
        contacts: list[tuple[Any, ...]] = []
        emails_rows: list[tuple[Any, ...]] = []
        phone_rows: list[tuple[Any, ...]] = []
        tag_rows: list[tuple[int, int]] = []
        notes: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        for pk, created_at in zip(ids, created, strict=True):
            company = self.company_pick.pick(rng) if self.companies and rng.random() < 0.65 else None
            loc: Locale = company.locale if company and rng.random() < 0.9 else self.locales.pick(rng)
            same_place = company is not None and loc is company.locale and rng.random() < 0.6
            city: City = company.city if company and same_place else self.cities[loc.code].pick(rng)
            first_name = rng.choice(loc.first_female if rng.random() < 0.5 else loc.first_male)
            if loc.language == "es":
                last1 = self.spanish_surnames.pick(rng) if rng.random() < 0.35 else rng.choice(loc.last)
                last_name = f"{last1} {rng.choice(loc.last)}" if rng.random() < 0.6 else last1
            else:
                last_name = rng.choice(loc.last)
            emails = [self._email_for(first_name, last_name, company.domain if company else rng.choice(loc.free_mail))]
            if company and rng.random() < 0.15:
                emails.append(self._email_for(first_name, last_name, rng.choice(loc.free_mail)))
            phones: list[tuple[str, str]] = []
            if rng.random() < 0.8:
                phones.append((mobile_number(loc.country, city, rng), PhoneKind.MOBILE.value))
            if company and rng.random() < 0.3:
                phones.append((landline_number(loc.country, city, rng), PhoneKind.WORK.value))
            if company:
                job_title = rng.choice(loc.titles) if rng.random() < 0.7 else rng.choice(loc.jobs)
            else:
                job_title = rng.choice(loc.jobs) if rng.random() < 0.4 else ""
            busy = pk == self.busy_contact_id
            stage = LifecycleStage.CUSTOMER.value if busy else self.stages.pick(rng).value
            source = self.sources.pick(rng).value
            owner_id = self._owner_id()
            person = Person(first_name, last_name, job_title, city.name)
            contact_events = self._events(
                org_id, pk, person, created_at, stage, source, owner_id, loc, company, busy=busy
            )
            last_activity = max(e[7] for e in contact_events)
            updated_at = created_at
            if rng.random() < 0.4:
                updated_at += (self.now - created_at) * rng.random() * 0.5
            contacts.append(
                (
                    pk,
                    org_id,
                    first_name,
                    last_name,
                    emails[0],
                    phones[0][0] if phones else "",
                    company.pk if company else None,
                    job_title,
                    rng.choice(loc.streets) if rng.random() < 0.7 else "",
                    city.name,
                    city.region,
                    postal_code(loc.country, city, rng),
                    loc.country,
                    loc.language,
                    city.tz,
                    stage,
                    source,
                    owner_id,
                    {"newsletter": True} if rng.random() < 0.3 else {},
                    last_activity,
                    contact_search_text(cast(Contact, person), emails, [n for n, _k in phones]),
                    created_at,
                    updated_at,
                )
            )
            emails_rows.extend((org_id, pk, email, k == 0) for k, email in enumerate(emails))
            phone_rows.extend((org_id, pk, number, kind, k == 0) for k, (number, kind) in enumerate(phones))
            r = rng.random()
            if r < 0.45:
                tag_rows.extend((pk, self.tags[t].pk) for t in {rng.randrange(n_tags) for _ in range(1 + int(r * 6))})
            if busy or rng.random() < 0.03:
                notes.extend(self._notes(org_id, pk, person, created_at, owner_id, loc, count=20 if busy else 0))
            events.extend(contact_events)
        self.contact_writer.write(contacts)
        self.email_writer.write(emails_rows)
        self.phone_writer.write(phone_rows)
        self.contact_tag_writer.write(tag_rows)
        self.note_writer.write(notes)
        self.event_writer.write(events)
        self.stats.contacts += len(contacts)
        self.stats.events += len(events)
        self.stats.notes += len(notes)

    def _notes(
        self,
        org_id: int,
        contact_id: int,
        person: Person,
        created_at: dt.datetime,
        owner_id: int | None,
        loc: Locale,
        count: int = 0,
    ) -> list[tuple[Any, ...]]:
        rng = self.rng
        span = max(60, int((self.now - created_at).total_seconds()))
        return [
            (
                org_id,
                contact_id,
                owner_id or rng.choice(self.users).pk,
                rng.choice(NOTES[loc.language]).format(first=person.first_name, city=person.city, n=rng.randint(5, 60)),
                created_at + dt.timedelta(seconds=rng.randint(60, span)),
            )
            for _ in range(count or rng.randint(1, 2))
        ]

    # -- events ------------------------------------------------------------------------------------

    def _events(
        self,
        org_id: int,
        contact_id: int,
        person: Person,
        created: dt.datetime,
        stage: str,
        source: str,
        owner_id: int | None,
        loc: Locale,
        company: CompanyInfo | None,
        *,
        busy: bool,
    ) -> list[tuple[Any, ...]]:
        """The touchpoints of one contact since it was created, as the integrations record them.
        Rows in EVENT_COLUMNS order; contact.created first (what contact_create emits)."""
        rng, scale, now, seed = self.rng, self.events_scale, self.now, self.seed
        lang = loc.language
        company_id = company.pk if company else None
        span = max(1, int((now - created).total_seconds()))
        out: list[tuple[Any, ...]] = []
        seq = self.message_seq

        def add(type_: str, source: str, props: dict[str, Any], at: dt.datetime, actor_id: int | None = None) -> None:
            if at <= now:
                out.append(
                    (
                        org_id,
                        contact_id,
                        company_id,
                        type_,
                        source,
                        props,
                        actor_id,
                        at,
                        at,
                        at,
                        at,
                        f"demo-{seed}-{next(seq):010d}",
                    )
                )

        def when() -> dt.datetime:
            # touchpoints cluster after the first contact, with a long tail
            return created + dt.timedelta(seconds=int(span * rng.random() ** 1.8))

        def count(low: int, high: int) -> int:
            return int(rng.randint(low, high) * scale + rng.random())

        add(
            "contact.created",
            "crm",
            {"name": f"{person.first_name} {person.last_name}", "source": source},
            created,
            owner_id,
        )
        multiplier = {"lead": 1.0, "prospect": 1.6, "customer": 2.2, "churned": 1.4}[stage]
        views = count(0, int(4 * multiplier))
        if busy:  # a very loyal customer: a long timeline for the benchmarks
            views, span = self.busy_contact_events, max(1, int((now - created).total_seconds()))
        for _ in range(views):
            path, title = rng.choice(PAGES)
            if rng.random() < 0.35:
                name, slug, _price = rng.choice(PRODUCTS)
                path, title = f"/products/{slug}", name
            add("page.viewed", "web", {"url": SITE + path, "title": title, "referrer": rng.choice(REFERRERS)}, when())
        if source == SourceChannel.FORM or rng.random() < 0.2 * multiplier:
            form = rng.choice(FORMS[lang])
            add("form.submitted", "form", {"form": form, "page": SITE + rng.choice(PAGES)[0]}, when())
        for _ in range(count(0, int(2 * multiplier))):
            campaign, subject = rng.choice(CAMPAIGNS[lang])
            at = when()
            add("email.opened", "email", {"campaign": campaign, "subject": subject}, at)
            if rng.random() < 0.3:
                url = f"{SITE}{rng.choice(PAGES)[0]}?utm_source=newsletter&utm_campaign={slugify(campaign)}"
                add(
                    "email.clicked",
                    "email",
                    {"campaign": campaign, "url": url},
                    at + dt.timedelta(minutes=rng.randint(1, 120)),
                )
        if stage in (LifecycleStage.CUSTOMER, LifecycleStage.CHURNED):
            # orders are real Order rows with their order.placed events, made by `demo_sales`
            if rng.random() < 0.25:
                at = when()
                subject = rng.choice(TICKETS[lang])
                add(
                    "ticket.opened",
                    "support",
                    {"subject": subject, "priority": rng.choice(("low", "normal", "high"))},
                    at,
                )
                add("ticket.closed", "support", {"subject": subject}, at + dt.timedelta(hours=rng.randint(1, 72)))
            if rng.random() < 0.3:
                score = rng.randint(0, 6) if stage == LifecycleStage.CHURNED else rng.randint(6, 10)
                add("survey.answered", "survey", {"survey": "NPS", "score": score}, when())
        if company and stage in (LifecycleStage.PROSPECT, LifecycleStage.CUSTOMER) and rng.random() < 0.3:
            amount = f"{rng.randint(8, 200) * 50}.00"
            deal = f"{company.name[:60]}: team kit"
            at = when()
            for k in range(rng.randint(1, 3) if stage == LifecycleStage.PROSPECT else 3):
                # the properties deal_move writes (sales/event_types.py), without the ids of a real deal
                props = {"title": deal, "from_stage": DEAL_STAGES[k], "to_stage": DEAL_STAGES[k + 1], "amount": amount}
                add("deal.stage_changed", "crm", {**props, "currency": loc.currency}, at, owner_id)
                at += dt.timedelta(days=rng.randint(1, 20))
        return out


def organization_exists(slug: str) -> bool:
    return Organization.objects.filter(slug=slug).exists()


class Command(BaseCommand):
    help = "Build a demo organisation with realistic generated data (Faker), from hundreds to millions of contacts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contacts", type=int, default=1000, help="How many contacts (default: %(default)s).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default: %(default)s).")
        parser.add_argument("--org-slug", default=DEMO_ORG_SLUG, help="Organisation address (default: %(default)s).")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if the organisation already exists (for `make run`)."
        )
        parser.add_argument(
            "--events-per-contact",
            type=float,
            default=6.0,
            help="Scale of the touchpoint history: about this many events per contact (default: %(default)s).",
        )
        parser.add_argument(
            "--deals",
            type=int,
            default=None,
            help="Sales deals to add when the sales app is installed (default: one per 3 contacts).",
        )
        parser.add_argument(
            "--busy-contact-events",
            type=int,
            default=0,
            help="Give the first contact this many page views, e.g. 10000 for the timeline benchmark.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["org_slug"]
        if options["contacts"] < 0:
            raise CommandError("--contacts cannot be negative.")
        if organization_exists(slug):
            if options["if_empty"]:
                self.stdout.write(f"The demo organisation “{slug}” already exists; nothing to do.")
                self._print_login(slug)
                return
            raise CommandError(f"An organisation with the address “{slug}” already exists; choose another --org-slug.")
        started = time.monotonic()
        self.stdout.write(f"Building demo organisation “{slug}” with {options['contacts']:,} contacts…")
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size=-1048576")  # 1 GiB for this bulk load
        builder = DemoBuilder(
            contacts=options["contacts"],
            seed=options["seed"],
            org_slug=slug,
            busy_contact_events=options["busy_contact_events"],
            events_per_contact=options["events_per_contact"],
            progress=self._progress,
        )
        builder.build()
        if apps.is_installed("vinculo.sales"):  # by name: the contacts app does not import sales
            deals = options["deals"] if options["deals"] is not None else options["contacts"] // 3
            call_command("demo_sales", org_slug=slug, deals=deals, seed=options["seed"], stdout=self.stdout)
        with connection.cursor() as cursor:
            # the planner's statistics, which SQLite only has after an ANALYZE (PostgreSQL's
            # autovacuum would get there too, later)
            cursor.execute("ANALYZE")
        s = builder.stats
        self.stdout.write(
            f"Done in {time.monotonic() - started:,.1f} s: {s.contacts:,} contacts, {s.companies:,} companies, "
            f"{s.events:,} events, {s.notes:,} notes."
        )
        if builder.busy_contact_id:
            self.stdout.write(f"Contact #{builder.busy_contact_id} has the long timeline.")
        self._print_login(slug)

    def _progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _print_login(self, slug: str) -> None:
        self.stdout.write(f"Demo login: {DEMO_EMAIL} / password: {DEMO_PASSWORD}  (organisation /o/{slug}/)")
