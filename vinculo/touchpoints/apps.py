from django.apps import AppConfig


class TouchpointsConfig(AppConfig):
    name = "vinculo.touchpoints"
    label = "touchpoints"
    verbose_name = "Touchpoints"

    def ready(self) -> None:
        """The panels on a contact's page and the timeline's labels of touchpoint events."""
        from vinculo.messaging.services.consent import register_usage_check
        from vinculo.touchpoints import timeline
        from vinculo.touchpoints.selectors import mail, visitors
        from vinculo.touchpoints.services.forms import forms_naming_subscription_type
        from vinculo.touchpoints.views import webhooks

        visitors.register()  # "Web sessions"
        mail.register()  # "E-mail"
        webhooks.register()  # "Social profiles"
        timeline.register()
        register_usage_check(forms_naming_subscription_type)  # a type a form names is not deleted
