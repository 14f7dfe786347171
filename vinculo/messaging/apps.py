from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Consent and subscriptions, the suppression list and the one way to send e-mail: what every
    domain that talks to customers (sales, marketing, service) needs, below all of them
    (docs/adr/0004-messaging-layer.md)."""

    name = "vinculo.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        """The contact page's Consents panel and the timeline's labels of consent events."""
        from vinculo.messaging import timeline
        from vinculo.messaging.views import consent

        consent.register_panels()
        timeline.register()
