"""Pages in the language of the logged-in user: Spanish text, dates and numbers.

The catalogue itself (complete, compiled, up to date) is checked in core/tests/test_translations.py.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from vinculo.accounts.testing import login_client, make_member
from vinculo.contacts.models import Contact, LifecycleStage
from vinculo.core.testing import org_scope

CREATED = dt.datetime(2024, 3, 7, 10, 30, tzinfo=dt.UTC)


def _contacts(org, n: int) -> None:
    with org_scope(org):
        Contact.objects.bulk_create(
            Contact(organization=org, first_name=f"Persona {i:04}", lifecycle_stage=LifecycleStage.PROSPECT)
            for i in range(n)
        )
        Contact.objects.filter(organization=org).update(created_at=CREATED, updated_at=CREATED)


def test_contact_list_for_a_spanish_user(db):
    actor = make_member(language="es")
    _contacts(actor.organization, 1200)
    response = login_client(actor).get(reverse("contacts:contact_list", args=[actor.organization.slug]))
    content = response.content.decode()

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "es"
    assert '<html lang="es"' in content
    # navigation and page chrome
    assert '<i class="bi bi-person"></i> Contactos</a>' in content
    assert '<i class="bi bi-building"></i> Empresas</a>' in content
    assert '<i class="bi bi-tags" aria-hidden="true"></i> Etiquetas</a>' in content
    assert '<i class="bi bi-gear" aria-hidden="true"></i> Configuración de la organización</a>' in content
    assert '<i class="bi bi-kanban"></i> Negocios</a>' in content
    assert 'placeholder="Buscar contactos y empresas"' in content
    assert ">Cerrar sesión</button>" in content
    assert "Nuevo contacto" in content
    # a choice label from the model
    assert ">Prospecto</span>" in content
    # dates: SHORT_DATE_FORMAT of the es locale is day/month/year
    assert '<time datetime="2024-03-07T10:30:00+00:00"' in content
    assert ">07/03/2024</time>" in content
    # numbers: the total uses the es thousands separator (a no-break space)
    assert "1–50 de 1\xa0200" in content
    assert "Contacts" not in content


def test_the_same_page_in_english_for_an_english_user(db):
    actor = make_member(language="en")
    _contacts(actor.organization, 1200)
    content = login_client(actor).get(reverse("contacts:contact_list", args=[actor.organization.slug])).content.decode()

    assert '<i class="bi bi-person"></i> Contacts</a>' in content
    assert ">03/07/2024</time>" in content
    assert "1–50 of 1,200" in content


def test_user_language_wins_over_the_browser(db):
    actor = make_member(language="es")
    client = login_client(actor)
    response = client.get(reverse("contacts:company_list", args=[actor.organization.slug]), HTTP_ACCEPT_LANGUAGE="en")
    content = response.content.decode()
    assert "<title>Empresas · " in content
    assert "Todavía no hay empresas." in content
