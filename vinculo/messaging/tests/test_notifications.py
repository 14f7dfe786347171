"""Notifications from the real paths that cause them below sales: a contact or company given to a
colleague, an @mention in a note, an e-mail that failed for good (through a real SMTP server that
refuses it); each member's channel per kind; marking read; one notification per cause."""

from __future__ import annotations

from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import translation
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.system_actor import make_via, system_actor
from vinculo.accounts.testing import free_port, make_member
from vinculo.contacts.services import company_create, contact_create, contact_update, note_create
from vinculo.messaging.mentions import mention_words, mentioned_members
from vinculo.messaging.models import MessageState, Notification, NotificationPreference, OutgoingMessage
from vinculo.messaging.notification_kinds import notification_kind_list
from vinculo.messaging.selectors.notifications import (
    notification_list,
    notification_preferences,
    notification_unread_count,
)
from vinculo.messaging.services.notifications import (
    notification_mark_all_read,
    notification_mark_read,
    notification_preferences_update,
    notify,
)
from vinculo.messaging.services.outgoing import message_queue
from vinculo.messaging.testing import ScriptedSink

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(org):
    return make_member(org, Role.SALES, email="ana.garcia@acme.example", full_name="Ana García")


@pytest.fixture
def luis(org):
    return make_member(org, Role.SALES, email="lperez@acme.example", full_name="Luis Pérez", language="es")


def mine(member) -> list[Notification]:
    with scope(organization=member.organization):
        return list(Notification.objects.filter(recipient=member.user).order_by("id"))


def texts(member) -> list[str]:
    return [n.sentence for n in mine(member)]


def prefer(member, **channels: str) -> None:
    with scope(organization=member.organization):
        notification_preferences_update(actor=member, data=channels)


# --- assigned to me -------------------------------------------------------------------------------


def test_a_contact_given_to_a_colleague_notifies_them_with_a_link(actor, org, ana, django_capture_on_commit_callbacks):
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        contact = contact_create(
            actor=actor,
            data={"first_name": "Lucía", "last_name": "Martín", "owner": ana.user_id, "lifecycle_stage": "customer"},
        )

    [notification] = mine(ana)
    assert notification.sentence == f"{actor.user.full_name} assigned the contact Lucía Martín to you"
    assert notification.url == f"/o/{org.slug}/contacts/{contact.pk}/"
    assert (notification.kind, notification.actor_id, notification.read_at) == ("assigned", actor.user_id, None)
    assert mine(actor) == []  # the actor owns nothing new


def test_taking_a_record_myself_notifies_nobody(actor, org, django_capture_on_commit_callbacks):
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        contact = contact_create(actor=actor, data={"first_name": "Lucía"})  # owned by its creator
        contact_update(actor=actor, contact=contact, data={"city": "Madrid"})
        company_create(actor=actor, data={"name": "Acme"})

    assert mine(actor) == []


def test_a_new_owner_by_an_update_and_a_company_are_notified_once_each(
    actor, org, ana, django_capture_on_commit_callbacks
):
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        contact = contact_create(actor=actor, data={"first_name": "Lucía", "lifecycle_stage": "lead"})
        contact_update(actor=actor, contact=contact, data={"owner": ana.user_id})
        contact_update(actor=actor, contact=contact, data={"city": "Madrid"})  # not a new owner
        company = company_create(actor=actor, data={"name": "Acme Ibérica", "owner": ana.user_id})

    assert texts(ana) == [
        f"{actor.user.full_name} assigned the lead Lucía to you",
        f"{actor.user.full_name} assigned the company Acme Ibérica to you",
    ]
    assert mine(ana)[1].url == f"/o/{org.slug}/companies/{company.pk}/"


def test_an_automatic_assignment_says_what_did_it(actor, org, ana, django_capture_on_commit_callbacks):
    with scope(organization=org):
        contact = contact_create(actor=actor, data={"first_name": "Lucía"})
    robot = system_actor(org, via=make_via("assignment_rule", "Spain"))
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        contact_update(actor=robot, contact=contact, data={"owner": ana.user_id})

    [notification] = mine(ana)
    assert (
        notification.sentence == "The assignment rule “Spain” assigned the lead Lucía to you"
    )  # new contacts are leads
    assert notification.actor_id is None


# --- mentions -------------------------------------------------------------------------------------


def test_mention_words_and_addresses():
    assert mention_words("Hi @Ana, ask @ana.garcia. Mail ana@acme.es or @luis-") == ["Ana", "ana.garcia", "luis"]


def test_mentions_match_first_name_full_name_or_address_and_skip_ambiguous_ones(org, ana, luis):
    other_ana = make_member(org, Role.SALES, email="ana.ruiz@acme.example", full_name="Ana Ruiz")

    def names(text: str) -> list[str]:
        return [m.user.full_name for m in mentioned_members(organization_id=org.pk, text=text)]

    assert names("@Luis, @lperez and @LUIS.perez") == ["Luis Pérez"]  # accents and case ignored, once
    assert names("@ana") == []  # two Anas: nobody
    assert names("@ana.garcia and @Ana.Ruiz") == ["Ana García", other_ana.user.full_name]
    assert names("write to ana.garcia@acme.example") == []  # an address is not a mention
    assert names("@nobody") == []


def test_a_note_mentioning_a_colleague_notifies_them_with_a_link_to_the_note(
    actor, org, ana, luis, django_capture_on_commit_callbacks
):
    with scope(organization=org):  # nobody's: every rep may see it
        contact = contact_create(actor=actor, data={"first_name": "Lucía", "last_name": "Martín", "owner": None})
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        note = note_create(actor=actor, contact=contact, body="@Ana can you call her? cc @lperez")

    [for_ana] = mine(ana)
    assert for_ana.sentence == f"{actor.user.full_name} mentioned you in a note on Lucía Martín"
    assert for_ana.detail == "@Ana can you call her? cc @lperez"
    assert for_ana.url == f"/o/{org.slug}/contacts/{contact.pk}/#note-{note.pk}"
    assert texts(luis) == [f"{actor.user.full_name} mentioned you in a note on Lucía Martín"]


def test_mentioning_myself_or_someone_who_cannot_see_the_contact_notifies_nobody(
    actor, org, ana, django_capture_on_commit_callbacks
):
    # a sales rep sees their own records and their team's only
    with scope(organization=org):
        hidden = contact_create(actor=actor, data={"first_name": "Secreta"})
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        note_create(actor=actor, contact=hidden, body=f"@{actor.user.full_name.split()[0]} and @Ana")

    assert mine(actor) == []
    assert mine(ana) == []


# --- channels -------------------------------------------------------------------------------------


def test_in_app_only_writes_no_mail_and_email_writes_an_outgoing_row_in_the_members_language(
    actor, org, ana, luis, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://crm.example.com"
    prefer(ana, assigned="in_app")
    prefer(luis, assigned="email")
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        for owner in (ana, luis):
            contact_create(actor=actor, data={"first_name": "Lucía", "owner": owner.user_id})

    assert len(mine(ana)) == 1
    assert mine(luis) == []  # e-mail only
    with scope(organization=org):
        [row] = OutgoingMessage.objects.all()
    assert (row.to_address, row.kind, row.language, row.headers["Content-Language"]) == (
        "lperez@acme.example",
        "system",
        "es",
        "es",
    )
    with translation.override("es"):  # the subject is the sentence in Luis's language
        assert row.subject == mine_or_sentence(actor, "Lucía")
    assert f"https://crm.example.com/o/{org.slug}/contacts/" in row.text_body
    assert f"https://crm.example.com/o/{org.slug}/notifications/settings/" in row.text_body
    assert [m.to for m in mail.outbox] == [["lperez@acme.example"]]


def test_both_and_none(actor, org, ana, luis, django_capture_on_commit_callbacks):
    prefer(ana, assigned="both")
    prefer(luis, assigned="none")
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        for owner in (ana, luis):
            contact_create(actor=actor, data={"first_name": "Lucía", "owner": owner.user_id})

    assert (len(mine(ana)), len(mine(luis))) == (1, 0)
    with scope(organization=org):
        assert list(OutgoingMessage.objects.values_list("to_address", flat=True)) == ["ana.garcia@acme.example"]


def mine_or_sentence(actor, record: str) -> str:
    """The "assigned the lead" sentence in the active language."""
    from vinculo.messaging.notification_kinds import notification_kind

    kind = notification_kind("assigned")
    assert kind is not None
    return kind.sentence({"variant": "lead", "actor": actor.user.full_name, "record": record})


def test_the_default_channels_and_the_kinds(ana):
    with scope(organization=ana.organization):
        assert notification_preferences(actor=ana) == {
            "assigned": "in_app",
            "mentioned": "in_app",
            "reminder": "both",
            "form_lead": "both",
            "mail_failed": "in_app",
        }
    assert [str(k.label) for k in notification_kind_list()] == [
        "Assigned to me",
        "Mentioned in a note",
        "Activity reminders",
        "Leads from web forms",
        "E-mail that could not be sent",
    ]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"assigned": "email", "gossip": "both"}, {"gossip": ["There is no notification kind “gossip”."]}),
        ({"assigned": "email", "mentioned": "pigeon"}, {"mentioned": ["Choose one of: in_app, email, both, none."]}),
        ({"assigned": None}, {"assigned": ["Choose one of: in_app, email, both, none."]}),
    ],
)
def test_unknown_kinds_or_channels_are_field_errors_and_nothing_is_saved(ana, data, errors):
    with scope(organization=ana.organization), pytest.raises(ValidationError) as caught:
        notification_preferences_update(actor=ana, data=data)

    assert caught.value.message_dict == errors
    with scope(organization=ana.organization):
        assert NotificationPreference.objects.count() == 0


# --- reading ---------------------------------------------------------------------------------------


def _notify(member, key: str, **params: Any) -> Notification | None:
    return notify(
        organization=member.organization,
        recipient=member.user,
        kind="mentioned",
        key=key,
        params={"actor": "Ana", "record": key, **params},
    )


def test_one_notification_per_cause_the_unread_count_and_marking_read(org, ana, actor):
    first = _notify(ana, "a")
    assert _notify(ana, "a") == first  # the same cause again: the same row
    _notify(ana, "b")
    _notify(ana, "c")
    _notify(actor, "a")  # someone else's

    with scope(organization=org):
        assert notification_unread_count(actor=ana) == 3
        assert first is not None
        notification_mark_read(actor=ana, notification=first)
        assert notification_unread_count(actor=ana) == 2
        unread_first = notification_list(actor=ana, order="unread").items
        assert [n.params["record"] for n in unread_first] == ["c", "b", "a"]
        assert [n.params["record"] for n in notification_list(actor=ana, unread_only=True).items] == ["c", "b"]
        assert notification_mark_all_read(actor=ana) == 2
        assert notification_unread_count(actor=ana) == 0
        assert notification_unread_count(actor=actor) == 1
        with pytest.raises(Notification.DoesNotExist):  # another member's
            notification_mark_read(actor=actor, notification=first)


def test_nobody_outside_the_organisation_or_inactive_is_notified(org, other_actor, ana):
    assert _notify(other_actor, "x") is not None  # a member of their own organisation, yes
    assert (
        notify(organization=org, recipient=other_actor.user, kind="mentioned", key="x", params={"record": "x"}) is None
    )
    ana.user.is_active = False
    ana.user.save(update_fields=["is_active"])
    assert _notify(ana, "y") is None
    with pytest.raises(ValueError, match="unknown notification kind"):
        notify(organization=org, recipient=ana.user, kind="gossip", key="z")


# --- mail that failed -------------------------------------------------------------------------------


@pytest.fixture
def refusing_smtp(settings):
    sink = ScriptedSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", controller.port, 5
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield sink
    finally:
        controller.stop()


def test_a_mail_refused_for_good_notifies_its_writer_with_the_reason(
    org, ana, refusing_smtp, django_capture_on_commit_callbacks
):
    refusing_smtp.refuse_rcpt["lucia@cliente.example"] = "550 5.1.1 No such user here"
    with scope(organization=org):
        contact = contact_create(actor=ana, data={"first_name": "Lucía", "emails": ["lucia@cliente.example"]})
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        message = message_queue(
            organization=org,
            to="lucia@cliente.example",
            subject="Su presupuesto",
            text="Hola",
            contact=contact,
            actor=ana.user,
        )

    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    [notification] = mine(ana)
    assert notification.sentence == "The e-mail “Su presupuesto” to lucia@cliente.example could not be sent"
    assert notification.detail == "550 5.1.1 No such user here"
    assert notification.url == f"/o/{org.slug}/outbox/{message.pk}/"  # its reason and a retry
    assert notification.key == f"mail_failed:{message.pk}"


def test_a_failed_system_mail_to_a_member_is_told_to_them_in_the_app_only(
    org, ana, refusing_smtp, django_capture_on_commit_callbacks
):
    prefer(ana, mail_failed="both")
    refusing_smtp.refuse_rcpt["ana.garcia@acme.example"] = "550 5.1.1 Mailbox full for good"
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        failed = message_queue(
            organization=org, to=ana.user.email, subject="Reminder: Call Lucía", text="x", kind="system"
        )

    assert texts(ana) == ["The e-mail “Reminder: Call Lucía” to ana.garcia@acme.example could not be sent"]
    assert mine(ana)[0].url == f"/o/{org.slug}/outbox/{failed.pk}/"
    with scope(organization=org):
        assert OutgoingMessage.objects.count() == 1  # no e-mail about the e-mail that failed
