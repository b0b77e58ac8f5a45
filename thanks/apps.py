from django.apps import AppConfig
from django.db.models.signals import post_save


class ThanksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "thanks"

    def ready(self):
        from core.health import health_check_register
        from thanks import health

        health_check_register("sweep", health.sweep_health)
        health_check_register("workers", health.workers_health)
        health_check_register("thank_yous", health.thank_yous_health)

        from partners.models import Partner

        post_save.connect(
            _partner_saved, sender=Partner, dispatch_uid="thanks.partner_opt_outs"
        )


def _partner_saved(sender, instance, created, raw=False, **kwargs):
    """A source saved (their form, the admin) who opted out: what is still to
    send them follows, as after an unsubscribe. The partners app cannot call
    thanks; a new source has nothing to send yet."""
    if created or raw:
        return
    from thanks.services import partner_opt_outs_apply

    partner_opt_outs_apply(partner=instance)
