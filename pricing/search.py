"""Search people can use: "deepseek chat", "llama 3.3 70b", "sonnet 4", "gpt4o" find what they mean.

Text is compared as tokens, blind to case and separators: a token is a run of letters or a run of
digits, so ``Llama-3.3-70B``, ``llama3.3 70b`` and ``meta-llama/Llama-3.3-70B-Instruct`` all hold the
tokens ``llama 3 3 70 b``. A query matches a document when every query token (as many times as the
query has it) is a token of the document; a query's last letters may be the start of a word
("sonn" finds Sonnet). Spellings that split differently ("deepseekv3", "claudesonnet4") match on the
text with every separator removed.

What a document is: an offering is searched through its own id and name, its seller's name, its
canonical model's name, slug and identity key, and every other seller's id and name for the same
model (the model's aliases); a model through its name, slug, identity key, creator and every seller's
id and name for it. Matches rank by quality: the query as a phrase in one field beats the same tokens
scattered, a field that is the query and little else beats a longer one, a document's own name beats
an alias.

The index is built from two narrow queries and kept in process memory until offerings, links or
models change (two aggregate queries, checked on every search) or ten minutes pass, so a search never
loads offerings; building it over the ~7,600 offerings of the bundled snapshot takes about a second.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Max, Sum

# Runs of letters (any script) or of digits: "gpt-4o-mini" -> gpt 4 o mini.
_TOKEN = re.compile(r"[^\W\d_]+|\d+")
# A query longer than this is a paste, not a search: cut it rather than scan with it.
MAX_QUERY_CHARS = 200
MAX_QUERY_TOKENS = 12
# Shortest joined-up query worth a separator-blind substring match ("gpt4o" yes, "4o" no).
MIN_COMPACT_CHARS = 3
# Shortest query word that may match as the start of a longer word ("son" -> sonnet).
MIN_PREFIX_CHARS = 3

# How much a match in each kind of field counts: the document's own names first, aliases after.
OWN = 1.0
MODEL = 0.95
COMBINED = 0.9
ALIAS = 0.8
SELLER = 0.6
# How well the query's tokens sit in one field: as a phrase, in order, in any order; or spread over fields.
PHRASE = 1.0
IN_ORDER = 0.85
ANY_ORDER = 0.75
SPREAD = 0.5
# Separator-blind matches: the field starts with the joined-up query, or merely contains it.
COMPACT_START = 0.7
COMPACT_INSIDE = 0.55
# A query word matched as the start of a longer word counts this much of a whole-word match.
PREFIX_FACTOR = 0.9


@functools.lru_cache(maxsize=65536)
def tokens(text: str) -> tuple[str, ...]:
    """The search tokens of ``text``: lowercased runs of letters or digits, accents folded."""
    if text.isascii():
        return tuple(_TOKEN.findall(text.lower()))
    folded = unicodedata.normalize("NFKD", text).casefold()
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return tuple(_TOKEN.findall(folded))


def compact(text: str) -> str:
    """``text`` with case, accents and every separator gone: "Claude Sonnet-4" -> "claudesonnet4"."""
    return "".join(tokens(text))


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    tokens: tuple[str, ...]
    compact: str

    def __bool__(self) -> bool:
        return bool(self.tokens)


def parse(text: str) -> Query:
    """A query from what a reader typed; an empty Query when it holds no letter or digit."""
    cut = (text or "")[:MAX_QUERY_CHARS]
    found = tokens(cut)[:MAX_QUERY_TOKENS]
    return Query(cut, found, "".join(found))


@dataclass(frozen=True, slots=True)
class Field:
    tokens: tuple[str, ...]
    weight: float
    compact: str


def _field(text: str, weight: float) -> Field | None:
    found = tokens(text or "")
    return Field(found, weight, "".join(found)) if found else None


def _fields(pairs: Iterable[tuple[str, float]]) -> tuple[Field, ...]:
    """Fields of these texts, each token sequence once (at its best weight)."""
    best: dict[tuple[str, ...], Field] = {}
    for text, weight in pairs:
        made = _field(text, weight)
        if made is not None and (made.tokens not in best or best[made.tokens].weight < weight):
            best[made.tokens] = made
    return tuple(best.values())


def _token_matches(query_token: str, token: str, *, allow_prefix: bool) -> float:
    if token == query_token:
        return 1.0
    if allow_prefix and token.startswith(query_token):
        return PREFIX_FACTOR
    return 0.0


def _allow_prefix(query: Query, index: int) -> bool:
    # Only the last word, and only letters: "llama 3" must not find "llama 32b", "son" may find "sonnet".
    word = query.tokens[index]
    return index == len(query.tokens) - 1 and word.isalpha() and len(word) >= MIN_PREFIX_CHARS


def _field_score(query: Query, item: Field) -> tuple[float, dict[str, int]]:
    """How well ``item`` holds the whole query (0 if it does not), and how many times it holds each word."""
    words, field_tokens = query.tokens, item.tokens
    n, m = len(words), len(field_tokens)
    counts: dict[str, int] = {}
    for i, word in enumerate(words):
        allow = _allow_prefix(query, i)
        counts[word] = sum(1 for t in field_tokens if _token_matches(word, t, allow_prefix=allow))
    # As a phrase: the query's words one after another somewhere in the field.
    best = 0.0
    for start in range(0, m - n + 1):
        factor = 1.0
        for i, word in enumerate(words):
            got = _token_matches(word, field_tokens[start + i], allow_prefix=_allow_prefix(query, i))
            if not got:
                factor = 0.0
                break
            factor *= got
        best = max(best, PHRASE * factor)
    if not best:
        # Every word once per occurrence in the query, taken greedily left to right.
        used: set[int] = set()
        positions: list[int] = []
        factor = 1.0
        for i, word in enumerate(words):
            allow = _allow_prefix(query, i)
            choice = next(
                (
                    (j, got)
                    for j, t in enumerate(field_tokens)
                    if j not in used and (got := _token_matches(word, t, allow_prefix=allow))
                ),
                None,
            )
            if choice is None:
                return 0.0, counts
            used.add(choice[0])
            positions.append(choice[0])
            factor *= choice[1]
        best = (IN_ORDER if positions == sorted(positions) else ANY_ORDER) * factor
    # A field that is the query and little else ("claude-sonnet-4") beats a longer one ("…-4-5-thinking").
    tightness = 0.6 + 0.4 * n / max(m, n)
    return best * tightness * item.weight, counts


@dataclass(frozen=True, slots=True)
class Parts:
    """What a set of fields holds of a query: the best one-field score, the most times one field holds each
    word, the weights of the fields holding any word, and the best separator-blind score."""

    best: float
    most: dict[str, int]
    weights: tuple[float, ...]
    compact_best: float


NO_PARTS = Parts(0.0, {}, (), 0.0)


def parts(query: Query, fields: Sequence[Field]) -> Parts:
    best = 0.0
    most: dict[str, int] = defaultdict(int)
    weights: list[float] = []
    for item in fields:
        value, counts = _field_score(query, item)
        best = max(best, value)
        if any(counts.values()):
            weights.append(item.weight)
        for word, count in counts.items():
            most[word] = max(most[word], count)
    compact_best = 0.0
    if len(query.compact) >= MIN_COMPACT_CHARS:
        for item in fields:
            where = item.compact.find(query.compact)
            if where < 0:
                continue
            tightness = 0.6 + 0.4 * len(query.compact) / max(len(item.compact), 1)
            kind = COMPACT_START if where == 0 else COMPACT_INSIDE
            compact_best = max(compact_best, kind * tightness * item.weight)
    return Parts(best, dict(most), tuple(weights), compact_best)


def combined(query: Query, *found: Parts) -> float:
    """The score of a document whose fields gave these parts: 0 when it does not match, up to 1."""
    best = max((p.best for p in found), default=0.0)
    if not best:
        needed: dict[str, int] = defaultdict(int)
        for word in query.tokens:
            needed[word] += 1
        most: dict[str, int] = defaultdict(int)
        for p in found:
            for word, count in p.most.items():
                most[word] = max(most[word], count)
        weights = [w for p in found for w in p.weights]
        # Spread over fields ("deepseek" the seller, "chat" the id): each word as often as the query has it.
        if needed and weights and all(most.get(word, 0) >= count for word, count in needed.items()):
            best = SPREAD * sum(weights) / len(weights)
    best = max(best, *(p.compact_best for p in found))
    return round(best, 6)


def score(query: Query, fields: Sequence[Field]) -> float:
    """How well a document made of ``fields`` matches ``query``: 0 when it does not, up to 1."""
    if not query:
        return 0.0
    return combined(query, parts(query, fields))


def matches_text(query_text: str, texts: Iterable[str]) -> bool:
    """Whether texts already in memory (one document's names) match the query: for lists filtered in Python."""
    query = parse(query_text)
    if not query:
        return True
    return score(query, _fields((t, OWN) for t in texts)) > 0


# --- the index ----------------------------------------------------------------------------------------


@dataclass
class Index:
    """Documents with their own fields and, shared by a group of documents (the sellers of one model),
    the group's alias fields; an inverted index of tokens and the joined-up texts of both."""

    fields: dict[int, tuple[Field, ...]]
    group_of: dict[int, int] = field(default_factory=dict)
    group_fields: dict[int, tuple[Field, ...]] = field(default_factory=dict)
    members: dict[int, list[int]] = field(default_factory=dict)
    by_token: dict[str, set[int]] = field(default_factory=dict)
    groups_by_token: dict[str, set[int]] = field(default_factory=dict)
    sorted_tokens: list[str] = field(default_factory=list)
    compact_text: str = ""
    # Where each field's joined-up text starts in compact_text, and whose it is: (document id, None) or (None, group).
    compact_starts: list[int] = field(default_factory=list)
    compact_owners: list[tuple[int | None, int | None]] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        documents: dict[int, tuple[Field, ...]],
        *,
        group_of: dict[int, int] | None = None,
        group_fields: dict[int, tuple[Field, ...]] | None = None,
    ) -> Index:
        index = cls(documents, group_of or {}, group_fields or {})
        for doc_id, group in index.group_of.items():
            index.members.setdefault(group, []).append(doc_id)
        pieces: list[str] = []
        offset = 0

        def add(item: Field, owner: tuple[int | None, int | None], table: dict[str, set[int]], key: int) -> None:
            nonlocal offset
            for token in item.tokens:
                table.setdefault(token, set()).add(key)
            index.compact_starts.append(offset)
            index.compact_owners.append(owner)
            pieces.append(item.compact)
            offset += len(item.compact) + 1

        for doc_id, fields in documents.items():
            for item in fields:
                add(item, (doc_id, None), index.by_token, doc_id)
        for group, fields in index.group_fields.items():
            if group in index.members:
                for item in fields:
                    add(item, (None, group), index.groups_by_token, group)
        index.sorted_tokens = sorted(index.by_token.keys() | index.groups_by_token.keys())
        index.compact_text = "\n".join(pieces)
        return index

    def _with_token(self, word: str, *, allow_prefix: bool) -> set[int]:
        words = [word]
        if allow_prefix:
            at = bisect.bisect_left(self.sorted_tokens, word)
            words = []
            while at < len(self.sorted_tokens) and self.sorted_tokens[at].startswith(word):
                words.append(self.sorted_tokens[at])
                at += 1
        found: set[int] = set()
        for each in words:
            found |= self.by_token.get(each, set())
            for group in self.groups_by_token.get(each, ()):
                found.update(self.members[group])
        return found

    def candidates(self, query: Query) -> set[int]:
        """Documents that may match: every query word somewhere in them, or the joined-up query inside one."""
        found: set[int] | None = None
        for i, word in enumerate(query.tokens):
            with_word = self._with_token(word, allow_prefix=_allow_prefix(query, i))
            found = with_word if found is None else found & with_word
            if not found:
                break
        found = set(found or ())
        if len(query.compact) >= MIN_COMPACT_CHARS:
            where = self.compact_text.find(query.compact)
            while where >= 0:
                doc_id, group = self.compact_owners[bisect.bisect_right(self.compact_starts, where) - 1]
                if doc_id is not None:
                    found.add(doc_id)
                else:
                    found.update(self.members.get(group, ()))  # type: ignore[arg-type]
                where = self.compact_text.find(query.compact, where + 1)
        return found

    def ranked(self, query: Query) -> list[tuple[int, float]]:
        """(id, score) of every matching document, best first; ties by id. A group's aliases are scored once."""
        if not query:
            return []
        group_parts: dict[int, Parts] = {}
        scored = []
        for doc_id in self.candidates(query):
            own = parts(query, self.fields.get(doc_id, ()))
            group = self.group_of.get(doc_id)
            shared = NO_PARTS
            if group is not None:
                if group not in group_parts:
                    group_parts[group] = parts(query, self.group_fields.get(group, ()))
                shared = group_parts[group]
            value = combined(query, own, shared)
            if value > 0:
                scored.append((doc_id, value))
        return sorted(scored, key=lambda pair: (-pair[1], pair[0]))


@dataclass
class Indexes:
    offerings: Index
    models: Index


# A built index serves at most this long, so that a rename (which moves no count) shows soon.
INDEX_MAX_AGE_SECONDS = 600
_lock = threading.Lock()
_cached: tuple[tuple[object, ...], float, Indexes] | None = None


def _fingerprint() -> tuple[object, ...]:
    """What the index depends on, in two aggregate queries: offerings and models added, removed, relinked
    (a merge or relink changes the sum of model ids) or first seen. A rename alone is picked up within
    ``INDEX_MAX_AGE_SECONDS``."""
    from pricing.models import Model, Offering

    offerings = Offering.objects.order_by().aggregate(
        n=Count("id"), top=Max("id"), links=Sum("model_id"), linked=Count("model_id"), seen=Max("first_seen_at")
    )
    models = Model.objects.order_by().aggregate(n=Count("id"), top=Max("id"))
    return (*offerings.values(), *models.values())


def _build() -> Indexes:
    from pricing.models import Model, Offering

    rows = list(
        Offering.objects.order_by().values_list(
            "id", "provider_model_id", "name", "provider__slug", "provider__name", "model_id"
        )
    )
    models = {
        m[0]: m[1:] for m in Model.objects.order_by().values_list("id", "slug", "name", "identity_key", "creator")
    }
    aliases: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for _, seller_id, name, _slug, _seller, model_id in rows:
        if model_id is not None:
            aliases[model_id] += [(seller_id, ALIAS), (name, ALIAS)]
    alias_fields = {model_id: _fields(pairs) for model_id, pairs in aliases.items()}

    model_docs: dict[int, tuple[Field, ...]] = {}
    for model_id, (slug, name, identity_key, creator) in models.items():
        model_docs[model_id] = _fields(
            [
                (name, OWN),
                (slug, OWN),
                (identity_key, OWN),
                (f"{creator} {name}", COMBINED),
                (f"{creator} {identity_key}", COMBINED),
            ]
        )

    offering_docs: dict[int, tuple[Field, ...]] = {}
    offering_groups: dict[int, int] = {}
    for offering_id, seller_id, name, seller_slug, seller_name, model_id in rows:
        pairs = [
            (seller_id, OWN),
            (name, OWN),
            (seller_name, SELLER),
            (seller_slug, SELLER),
            (f"{seller_name} {seller_id}", COMBINED),
            (f"{seller_name} {name}", COMBINED),
        ]
        if model_id is not None and model_id in models:
            slug, model_name, identity_key, creator = models[model_id]
            pairs += [
                (model_name, MODEL),
                (slug, MODEL),
                (identity_key, MODEL),
                (f"{seller_name} {model_name}", COMBINED),
                (f"{creator} {model_name}", COMBINED),
            ]
            offering_groups[offering_id] = model_id
        offering_docs[offering_id] = _fields(pairs)
    return Indexes(
        offerings=Index.of(offering_docs, group_of=offering_groups, group_fields=alias_fields),
        models=Index.of(model_docs, group_of={m: m for m in model_docs}, group_fields=alias_fields),
    )


def indexes() -> Indexes:
    """The current indexes: rebuilt when the fingerprint moves or the index is old (two queries when not)."""
    global _cached
    key = _fingerprint()

    def fresh(cached: tuple[tuple[object, ...], float, Indexes] | None) -> bool:
        return cached is not None and cached[0] == key and time.monotonic() - cached[1] < INDEX_MAX_AGE_SECONDS

    cached = _cached
    if cached is not None and fresh(cached):
        return cached[2]
    with _lock:
        if _cached is not None and fresh(_cached):
            return _cached[2]
        built = _build()
        _cached = (key, time.monotonic(), built)
        return built


def offerings_ranked(text: str) -> list[tuple[int, float]]:
    """(offering id, score) of every offering matching ``text``, best first; [] for an empty query."""
    query = parse(text)
    return indexes().offerings.ranked(query) if query else []


def offering_ids(text: str) -> list[int]:
    """Ids of the offerings matching ``text``, best match first."""
    return [i for i, _ in offerings_ranked(text)]


def models_ranked(text: str) -> list[tuple[int, float]]:
    """(model id, score) of every canonical model matching ``text``, best first."""
    query = parse(text)
    return indexes().models.ranked(query) if query else []


def model_ids(text: str) -> list[int]:
    """Ids of the canonical models matching ``text``, best match first."""
    return [i for i, _ in models_ranked(text)]
