"""``manage.py prices export FILE`` and ``manage.py prices import FILE [--force]``: every price with its
history and evidence, exactly (``pricing/backup.py``). A name ending in ``.gz`` is gzipped; ``-`` is
standard output (export)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pricing.backup import ImportRefused, export_bytes, export_read, prices_export, prices_import


class Command(BaseCommand):
    help = "Export every price with its history and evidence to a file, or import such a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["export", "import"])
        parser.add_argument("file", help="the export file (.json or .json.gz); '-' for standard output on export")
        parser.add_argument(
            "--force",
            action="store_true",
            help="import: replace all price data already in this database with the file's (users stay)",
        )

    def handle(self, *args: Any, action: str, file: str, force: bool, **options: Any) -> None:
        if action == "export":
            data = export_bytes(prices_export(), gzipped=file.endswith(".gz"))
            if file == "-":
                sys.stdout.buffer.write(data)
                return
            Path(file).write_bytes(data)
            self.stderr.write(f"exported to {file} ({len(data):,} bytes)")
            return
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        try:
            imported = prices_import(payload=export_read(path), replace=force)
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        if imported.replaced:
            gone = ", ".join(f"{count} {label}" for label, count in imported.replaced.items())
            self.stdout.write(f"replaced: {gone}")
        loaded = ", ".join(f"{count} {label}" for label, count in imported.rows.items() if count)
        self.stdout.write(f"imported: {loaded}")
        for name in imported.users_created:
            self.stdout.write(f"created inactive user {name!r} (named in the history; no password)")
