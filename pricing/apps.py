from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "pricing"
    verbose_name = "Pricing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pricing import checks  # noqa: F401  (registers the production start-up checks)
