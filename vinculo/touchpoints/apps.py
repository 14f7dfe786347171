from django.apps import AppConfig


class TouchpointsConfig(AppConfig):
    name = "vinculo.touchpoints"
    label = "touchpoints"
    verbose_name = "Touchpoints"

    def ready(self) -> None:
        """The panels on a contact's page, the `mailbox` transport of outgoing mail, the web-form
        kind of notification (the labels of touchpoint events are in event_types.py)."""
        # in ready(): these import models, which Django loads only after every apps.py (app registry)
        from vinculo.messaging.services.consent import register_usage_check
        from vinculo.touchpoints import condition_kinds, home_panels, notifications
        from vinculo.touchpoints.selectors import mail, visitors
        from vinculo.touchpoints.services import mail_send
        from vinculo.touchpoints.services.forms import forms_naming_subscription_type
        from vinculo.touchpoints.views import mail as mail_views
        from vinculo.touchpoints.views import webhooks

        home_panels.register()  # the home page's getting-started steps: mailbox, tracker, web form
        visitors.register()  # "Web sessions"
        mail.register()  # "E-mail"
        mail_send.register()  # members' mail leaves through their mailbox's SMTP server
        mail_views.register()  # timeline entries of e-mails link their attachments
        webhooks.register()  # "Social profiles"
        register_usage_check(forms_naming_subscription_type)  # a type a form names is not deleted
        notifications.register()  # the "leads from web forms" kind of notification
        condition_kinds.register()  # "submitted form F" in segments and workflows
        self.register_sweeps()

    def register_sweeps(self) -> None:
        """Tracker batches whose task was lost, and lead fetches whose retry is due, are found by
        every worker within seconds."""
        # in ready() too: the worker and the tasks import models
        from vinculo.core.worker import register_sweep
        from vinculo.touchpoints.services.lead_fetch import fetch_due_leads
        from vinculo.touchpoints.tasks import process_stale_batches

        register_sweep(name="touchpoints.stale_batches", every_seconds=5, run=process_stale_batches)
        register_sweep(name="touchpoints.due_lead_fetches", every_seconds=15, run=fetch_due_leads.call)
