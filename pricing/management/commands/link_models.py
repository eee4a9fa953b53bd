"""``manage.py link_models``: link every unlinked offering to its canonical Model (pricing.identity's
rules), e.g. after the rules improved; ingest does the same for each run's offerings."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from pricing.models import AliasSuggestion, Offering
from pricing.services.linking import models_link_all, models_open_weights_fill, models_slugs_repair


class Command(BaseCommand):
    help = (
        "Link unlinked offerings to canonical models where the evidence is certain; suggest the rest; "
        "fill unknown open-weights values from pricing.openweights."
    )

    def handle(self, *args: object, **options: object) -> None:
        repaired = models_slugs_repair()
        linked = models_link_all()
        filled = models_open_weights_fill()
        unlinked = Offering.objects.filter(model__isnull=True).count()
        pending = AliasSuggestion.objects.filter(status=AliasSuggestion.Status.PENDING).count()
        self.stdout.write(
            f"{linked} linked, {unlinked} still unlinked, {pending} suggestions pending, "
            f"{filled} models given their open-weights value, {repaired} model slugs repaired"
        )
