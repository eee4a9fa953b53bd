"""Export and import of the price data with its history and evidence, exactly.

Every table of the ``pricing`` app goes out row by row with every stored column and its primary key:
providers, sources, offerings, models, tokenizers and their measurements, runs, prices (published, held
and rejected, with ``valid_from``/``valid_to``, ``recorded_at``/``superseded_at``, conditions, sightings
and evidence: run, document hash, excerpt, curator notes), retirements, exchange rates, alias
suggestions and the audit trail. Users that the history names (curators who set, approved or rejected a
price) go out by username only, never with a password. Left out: a source's run lease (a running
worker's state, not data) and the price-change stamp (every import writes a new one).

The file is JSON (gzipped when its name ends in ``.gz``), written in a fixed order, so exporting an
imported file gives the same bytes. Import goes into a database with no price data, in one transaction;
``replace=True`` first deletes the price data already there (users stay).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection, models, transaction

from pricing.services.ingest import prices_changed

EXPORT_FORMAT = "token-prices-export"
EXPORT_VERSION = 1
# Columns that are a running worker's state, not data: an imported source is never mid-run.
LEFT_OUT = {"pricing.source": {"lock_token", "locked_until"}}
BATCH = 1000


class ImportRefused(Exception):
    """The file cannot be imported as asked; nothing was changed."""


@dataclass
class Imported:
    rows: dict[str, int] = field(default_factory=dict)
    users_created: list[str] = field(default_factory=list)
    replaced: dict[str, int] = field(default_factory=dict)


def exported_models() -> list[type[models.Model]]:
    """The pricing app's tables, each after the tables it refers to (self-references aside)."""
    pending = {m._meta.label_lower: m for m in apps.get_app_config("pricing").get_models()}
    ordered: list[type[models.Model]] = []
    while pending:
        ready = sorted(label for label, model in pending.items() if not set(_refers_to(model)) & set(pending))
        if not ready:
            raise RuntimeError(f"circular references between {', '.join(sorted(pending))}")
        ordered.extend(pending.pop(label) for label in ready)
    return ordered


def _refers_to(model: type[models.Model]) -> list[str]:
    """Labels of the other models ``model``'s columns point at."""
    return [
        f.related_model._meta.label_lower
        for f in model._meta.concrete_fields
        if f.is_relation and isinstance(f.related_model, type) and f.related_model is not model
    ]


def _fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    skipped = LEFT_OUT.get(model._meta.label_lower, set())
    return [f for f in model._meta.concrete_fields if f.name not in skipped]


def _is_user(field: models.Field[Any, Any]) -> bool:
    return bool(field.is_relation and field.related_model is get_user_model())


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _decode(field: models.Field[Any, Any], value: Any) -> Any:
    if value is None or isinstance(field, models.JSONField):
        return value
    if isinstance(field, models.DecimalField):
        return Decimal(value)
    if isinstance(field, models.DateTimeField):
        return dt.datetime.fromisoformat(value)
    if isinstance(field, models.DateField):
        return dt.date.fromisoformat(value)
    return value


def prices_export() -> dict[str, Any]:
    """Every pricing table as of one moment (one repeatable-read transaction on PostgreSQL)."""
    usernames = dict(get_user_model().objects.values_list("pk", get_user_model().USERNAME_FIELD))
    tables: dict[str, Any] = {}
    # Only an outermost transaction can choose its isolation level (inside a caller's, it reads the caller's).
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for model in exported_models():
            fields = _fields(model)
            rows = []
            for values in model._default_manager.order_by("pk").values_list(*(f.attname for f in fields)):
                rows.append(
                    [
                        usernames.get(value) if value is not None and _is_user(f) else _encode(value)
                        for f, value in zip(fields, values, strict=True)
                    ]
                )
            tables[model._meta.label_lower] = {"columns": [f.name for f in fields], "rows": rows}
    return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "tables": tables}


def export_bytes(payload: dict[str, Any], *, gzipped: bool) -> bytes:
    """The file's bytes: one line per table row, keys sorted, gzip without a timestamp."""
    lines = [
        json.dumps({"format": payload["format"], "version": payload["version"]}, sort_keys=True),
    ]
    for label, table in payload["tables"].items():
        lines.append(json.dumps({"table": label, "columns": table["columns"], "rows": len(table["rows"])}))
        lines.extend(_row_line(row) for row in table["rows"])
    data = ("\n".join(lines) + "\n").encode()
    return gzip.compress(data, mtime=0) if gzipped else data


def _row_line(row: list[Any]) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def export_read(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    lines = iter(raw.decode().splitlines())
    try:
        header = json.loads(next(lines))
    except (StopIteration, json.JSONDecodeError):
        raise ImportRefused(f"{path}: not a price export (no header line)") from None
    if header.get("format") != EXPORT_FORMAT or header.get("version") != EXPORT_VERSION:
        raise ImportRefused(f"{path}: not a price export of version {EXPORT_VERSION} ({header!r})")
    tables: dict[str, Any] = {}
    for line in lines:
        table = json.loads(line)
        tables[table["table"]] = {
            "columns": table["columns"],
            "rows": [json.loads(next(lines)) for _ in range(table["rows"])],
        }
    return {**header, "tables": tables}


def price_data_counts() -> dict[str, int]:
    """Rows per pricing table that holds any (what an import would replace)."""
    counts = {m._meta.label_lower: m._default_manager.count() for m in exported_models()}
    return {label: count for label, count in counts.items() if count}


def prices_import(*, payload: dict[str, Any], replace: bool = False) -> Imported:
    """Load an export, in one transaction. Refuses a database that already holds price data unless
    ``replace``, which deletes that data first (users stay); either way the result is exactly the file."""
    by_label = {m._meta.label_lower: m for m in exported_models()}
    unknown = sorted(set(payload["tables"]) - set(by_label))
    if unknown:
        raise ImportRefused(f"the file has tables this version does not know: {', '.join(unknown)}")
    for label, table in payload["tables"].items():
        expected = [f.name for f in _fields(by_label[label])]
        if table["columns"] != expected:
            raise ImportRefused(
                f"{label}: the file's columns {table['columns']} are not this version's {expected} "
                "(export and import with the same release, migrated alike)"
            )
    result = Imported()
    with transaction.atomic():
        present = price_data_counts()
        if present and not replace:
            held = ", ".join(f"{count} {label}" for label, count in present.items())
            raise ImportRefused(
                f"this database already holds price data ({held}); import into an empty database, or pass "
                "--force to replace all of it with the file"
            )
        if present:
            result.replaced = present
            for model in reversed(exported_models()):
                try:
                    model._default_manager.all().delete()
                except models.ProtectedError as exc:
                    raise ImportRefused(f"cannot replace {model._meta.label_lower}: {exc.args[0]}") from None
        users = _users(payload, result)
        for model in exported_models():
            table = payload["tables"].get(model._meta.label_lower)
            if table is None:
                continue
            fields = _fields(model)
            objects = (
                model(
                    **{
                        f.attname: users[value] if value is not None and _is_user(f) else _decode(f, value)
                        for f, value in zip(fields, row, strict=True)
                    }
                )
                for row in table["rows"]
            )
            _bulk_create(model, objects)
            result.rows[model._meta.label_lower] = len(table["rows"])
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), exported_models()):
                cursor.execute(statement)
        prices_changed()
    return result


def _bulk_create(model: type[models.Model], objects: Iterable[models.Model]) -> None:
    batch: list[models.Model] = []
    for obj in objects:
        batch.append(obj)
        if len(batch) >= BATCH:
            model._default_manager.bulk_create(batch)
            batch = []
    if batch:
        model._default_manager.bulk_create(batch)


def _users(payload: dict[str, Any], result: Imported) -> dict[str, int]:
    """Usernames the history names → user ids here. A name with no account gets an inactive one with
    no usable password: the record of who decided stays, and nobody can sign in as them."""
    User = get_user_model()
    names: set[str] = set()
    for label, table in payload["tables"].items():
        model = apps.get_model(label)
        positions = [i for i, f in enumerate(_fields(model)) if _is_user(f)]
        names.update(row[i] for row in table["rows"] for i in positions if row[i] is not None)
    found = dict(User.objects.filter(**{f"{User.USERNAME_FIELD}__in": names}).values_list(User.USERNAME_FIELD, "pk"))
    for name in sorted(names - set(found)):
        user = User(**{User.USERNAME_FIELD: name}, is_active=False)
        user.set_unusable_password()
        user.save()
        found[name] = user.pk
        result.users_created.append(name)
    return found


__all__ = [
    "EXPORT_FORMAT",
    "ImportRefused",
    "Imported",
    "export_bytes",
    "export_read",
    "exported_models",
    "price_data_counts",
    "prices_export",
    "prices_import",
]
