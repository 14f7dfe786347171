from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Consent and subscriptions, the suppression list and the one way to send e-mail: what every
    domain that talks to customers (sales, marketing, service) needs, below all of them
    (docs/adr/0004-messaging-layer.md)."""

    name = "vinculo.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        """How accounts queues its mail, the organisation's SMTP transport, the contact page's Consents
        panel, the links of sent files on the timeline, what notifies members, the workers' sweeps."""
        # in ready(): these import models, which Django loads only after every apps.py (app registry)
        from vinculo.core.outgoing_mail import register_mail_queue
        from vinculo.messaging import notification_reactions, org_smtp
        from vinculo.messaging.services.outgoing import message_queue
        from vinculo.messaging.views import attachments, consent, outbox

        register_mail_queue(message_queue)  # how accounts, below messaging, queues its mail
        org_smtp.register()  # the organisation's own SMTP server (Settings → E-mail sending)
        consent.register_panels()
        attachments.register()  # timeline entries link the files sent with a message
        outbox.register()  # timeline entries of e-mails say when one failed or was kept
        notification_reactions.register()  # assignments, @mentions and failed mail notify members
        self.register_sweeps()

    def register_sweeps(self) -> None:
        """Mail whose task was lost or whose retry is due goes out within seconds, from every
        worker's turn (vinculo.core.worker), not only at the scheduler's minute."""
        # in ready() too: the worker and the tasks import models
        from vinculo.core.worker import register_sweep
        from vinculo.messaging.tasks import send_due_messages

        register_sweep(name="messaging.due_messages", every_seconds=10, run=send_due_messages.call)
