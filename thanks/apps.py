from django.apps import AppConfig


class ThanksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "thanks"

    def ready(self):
        from core.health import health_check_register
        from thanks import health

        health_check_register("sweep", health.sweep_health)
        health_check_register("workers", health.workers_health)
        health_check_register("thank_yous", health.thank_yous_health)
