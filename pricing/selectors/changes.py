"""Price changes, found, counted and paginated by the database.

A *change* is a published price of current knowledge that takes over its line (``LineKey``: offering,
component, mode, prompt tier, currency, conditions) from the line's previous published price of current
knowledge, at another amount. So:

- held, rejected and superseded rows never make or end a change: a backfill that was held, or a row a
  correction replaced, leaves no phantom behind; a backfill published between two prices makes the changes
  the evidence dates, in the order they happened;
- a line's first price is not a change (a new offering, tier or currency has nothing to change from);
- paid → free is a change (−100%); free → paid is one too, with no percent (the old amount was 0);
- the previous price is the line's latest one that started earlier, even when the line was closed for a
  while (its source stopped listing it) and came back at another amount.

One window function (``LAG`` over the line, ordered by ``valid_from``) pairs every row with the one before
it; the date, size and order of changes apply outside the window, so a date filter never hides the price a
change follows. PostgreSQL and SQLite (3.25+) run the same SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, overload

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, QuerySet, Window
from django.db.models.functions import Lag

from pricing.models import Offering, Price

PERCENT_QUANTUM = Decimal("0.1")
# The columns of a price line (``LineKey``): the window's partition. NULL tier bounds group together.
LINE = ("offering_id", "component", "mode", "tier_min_tokens", "tier_max_tokens", "currency", "conditions")
# The percent change in SQL, for ordering; NULL when the old amount was 0 (``100.0`` keeps SQLite off integers).
PERCENT_SQL = "(amount_per_mtok - old_amount) * 100.0 / NULLIF(old_amount, 0)"
# Orders of the changes list by name, as SQL on the paired rows. Amounts sort in the currency charged.
ORDERINGS = {
    "changed_at": ("valid_from",),
    "old_amount": ("old_amount",),
    "new_amount": ("amount_per_mtok",),
    "percent": (PERCENT_SQL,),
    "provider": ("provider_name", "model_id"),
    "model_id": ("model_id", "provider_name"),
}


@dataclass(frozen=True)
class PriceChange:
    """A published price and the one it replaced on the same line."""

    price: Price
    previous: Price

    @property
    def percent(self) -> Decimal | None:
        """The change in percent of the old amount, to 0.1; None when the old amount was 0."""
        return change_percent(self.previous.amount_per_mtok, self.price.amount_per_mtok)

    @property
    def old_amount(self) -> Decimal:
        return self.previous.amount_per_mtok

    @property
    def new_amount(self) -> Decimal:
        return self.price.amount_per_mtok

    @property
    def document_url(self) -> str:
        """The page or API the new amount was read from, or the curator's evidence ("" when neither)."""
        source = self.price.source if self.price.source_id else None
        return self.price.evidence_url or (source.urls[0] if source is not None and source.urls else "")

    @property
    def seen_at(self) -> dt.datetime:
        """When the document that first showed the new amount was fetched or captured."""
        run = self.price.run if self.price.run_id else None
        if run is None:
            return self.price.recorded_at
        return run.evidence_at or run.started_at


def change_percent(old: Decimal, new: Decimal) -> Decimal | None:
    if old == 0:
        return None
    return ((new - old) / old * 100).quantize(PERCENT_QUANTUM)


@dataclass
class Changes:
    """The changes matching some filters, in order. ``count()`` and slices run in the database, so it
    pages like a QuerySet (Django's ``Paginator`` takes it): ``changes[100:200]`` is a list of PriceChange
    (two queries: the page's ids, then its rows and the rows they replaced)."""

    sql: str
    params: list[Any]
    order: list[str]
    using: str = "default"
    _count: int | None = field(default=None, repr=False)

    def count(self) -> int:
        if self._count is None:
            with connections[self.using].cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM ({self.sql}) changes", self.params)
                self._count = int(cursor.fetchone()[0])
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[PriceChange]:
        return iter(self[0 : self.count()])

    @overload
    def __getitem__(self, key: int) -> PriceChange: ...
    @overload
    def __getitem__(self, key: slice) -> list[PriceChange]: ...

    def __getitem__(self, key: int | slice) -> PriceChange | list[PriceChange]:
        if isinstance(key, int):
            found = self[key : key + 1]
            if not found:
                raise IndexError(key)
            return found[0]
        if key.step not in (None, 1) or (key.start or 0) < 0 or (key.stop is not None and key.stop < 0):
            raise ValueError("changes are sliced forwards only, e.g. changes[100:200]")
        offset = key.start or 0
        stop = self.count() if key.stop is None else key.stop
        if stop <= offset:
            return []
        return self._page(offset, stop - offset)

    def _page(self, offset: int, limit: int) -> list[PriceChange]:
        if not self.sql:
            return []
        page_sql = f"SELECT id, old_id FROM ({self.sql}) changes ORDER BY {', '.join(self.order)} LIMIT %s OFFSET %s"
        with connections[self.using].cursor() as cursor:
            cursor.execute(page_sql, [*self.params, limit, offset])
            pairs = [(int(new_id), int(old_id)) for new_id, old_id in cursor.fetchall()]
        rows = (
            Price.objects.using(self.using)
            .select_related("offering__provider", "offering__model__tokenizer", "source", "run")
            .in_bulk([i for pair in pairs for i in pair])
        )
        # Rows are only ever deleted with their offering; one gone since the first query is left out.
        return [PriceChange(rows[new], rows[old]) for new, old in pairs if new in rows and old in rows]


def change_order(ordering: str) -> list[str]:
    """``ordering`` (a key of ``ORDERINGS``, ``-`` for descending) as SQL; unknown values (a free
    price's percent) last either way, ties newest first, then by row id so pages never overlap."""
    name, descending = ordering.lstrip("-"), ordering.startswith("-")
    if name not in ORDERINGS:
        raise ValueError(f"cannot order changes on {name!r}; accepted: {', '.join(ORDERINGS)}")
    direction = "DESC" if descending else "ASC"
    order = ["(old_amount = 0)"] if name == "percent" else []
    order += [f"{column} {direction}" for column in ORDERINGS[name]]
    if name != "changed_at":
        order.append("valid_from DESC")
    order.append("id DESC")
    return order


def changes_query(
    *,
    offerings: QuerySet[Offering] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    as_of: dt.datetime | None = None,
    component: str = "",
    mode: str = "",
    min_change_pct: Decimal | None = None,
    ordering: str = "-changed_at",
) -> Changes:
    """Every change of these ``offerings`` (all by default) matching the filters, in ``ordering``.

    ``since`` is inclusive and ``until`` exclusive, both on when the new price took effect (``valid_from``),
    so ``since=2025-01-01&until=2025-02-01`` is January; ``as_of`` keeps changes in effect by then
    (inclusive). ``min_change_pct`` keeps changes of at least that many percent either way; a change
    from 0 passes whatever the threshold."""
    # Filters that keep or drop whole lines go inside the window; those on the changed row go outside it.
    lines = Price.objects.published()
    if offerings is not None:
        lines = lines.filter(offering_id__in=offerings.order_by().values("id"))
    if component:
        lines = lines.filter(component=component)
    if mode:
        lines = lines.filter(mode=mode)
    partition = [F(column) for column in LINE]
    order = [F("valid_from").asc(), F("id").asc()]
    paired = lines.annotate(
        old_id=Window(Lag("id"), partition_by=partition, order_by=order),
        old_amount=Window(Lag("amount_per_mtok"), partition_by=partition, order_by=order),
    ).values(
        "id",
        "old_id",
        "old_amount",
        "amount_per_mtok",
        "valid_from",
        provider_name=F("offering__provider__name"),
        model_id=F("offering__provider_model_id"),
    )
    try:
        inner_sql, inner_params = paired.order_by().query.get_compiler(using=paired.db).as_sql()
    except EmptyResultSet:  # a filter no row can pass, e.g. an empty list of offering ids
        return Changes("", [], [], using=paired.db, _count=0)
    ops = connections[paired.db].ops
    # NULL (no earlier row) is never unequal: a line's first price drops out here.
    conditions, params = ["old_amount <> amount_per_mtok"], list(inner_params)
    for moment, test in ((since, "valid_from >= %s"), (until, "valid_from < %s"), (as_of, "valid_from <= %s")):
        if moment is not None:
            conditions.append(test)
            params.append(ops.adapt_datetimefield_value(moment))
    if min_change_pct is not None:
        # |new - old| × 100 ≥ pct × old, without a division.
        conditions.append("(old_amount = 0 OR ABS(amount_per_mtok - old_amount) * 100 >= old_amount * %s)")
        params.append(min_change_pct)
    sql = f"SELECT * FROM ({inner_sql}) paired WHERE {' AND '.join(conditions)}"
    return Changes(sql, params, change_order(ordering), using=paired.db)


def changes_matching(
    *,
    as_of: dt.datetime | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    component: str = "",
    min_change_pct: Decimal | None = None,
    ordering: str = "-changed_at",
    **offering_filters: Any,
) -> Changes:
    """:func:`changes_query` of exactly the offerings the offerings list keeps for the same filters
    (``offerings_with_prices``: provider, model, creator, q, min_context, open_weights, mode, region,
    offering_ids, listing classes, missing), in force at ``as_of`` (default now). ``mode`` filters the
    changed rows too."""
    from pricing.selectors import offerings_with_prices

    offerings = offerings_with_prices(as_of=as_of, **offering_filters)
    return changes_query(
        offerings=offerings,
        since=since,
        until=until,
        as_of=as_of,
        component=component,
        mode=offering_filters.get("mode") or "",
        min_change_pct=min_change_pct,
        ordering=ordering,
    )


def price_changes(*, limit: int = 100, offset: int = 0, **filters: Any) -> list[PriceChange]:
    """One page of :func:`changes_matching`, newest first unless ``ordering`` says otherwise."""
    return changes_matching(**filters)[offset : offset + limit]
