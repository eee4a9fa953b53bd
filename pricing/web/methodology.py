"""The methodology page's words-per-token tables: what each tokenizer does to each language and register.

Built from what the view already loaded (tokenizers with their measurements prefetched), so the
tables cost no query of their own. Read on the page in three ways:

- words per token, per tokenizer and language (measured, or curated where no tokenizer can be run);
- the price of a word relative to English: English words per token ÷ the language's, so 2.0 means
  a reader of that language pays twice as much per word, at the same price per token;
- the tokens the same text takes relative to English: every prose language is a rendering of the
  English set, so this compares like with like whatever the language's word lengths;
- English against the rules of thumb (0.75 and 0.7 words per token): how far a per-words figure
  computed with them would be from the measured one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pricing import corpus, units
from pricing.measurement import Coverage as Coverage
from pricing.measurement import offering_coverage as offering_coverage
from pricing.models import Tokenizer, TokenizerMeasurement

RULES_OF_THUMB = (units.ASSUMED_WORDS_PER_TOKEN, Decimal("0.7"))


@dataclass
class Cell:
    words_per_token: Decimal | None
    source: str  # "measured", "curated" or "" (nothing known)
    chars_per_token: Decimal | None = None


@dataclass
class TokenizerRow:
    tokenizer: Tokenizer
    cells: dict[str, Cell]
    # Relative price of a word, and relative tokens for the same text, against English (None: unknown).
    per_word: dict[str, Decimal | None] = field(default_factory=dict)
    same_text: dict[str, Decimal | None] = field(default_factory=dict)
    # English mix against each rule of thumb: per-words price error if that rule were used, in percent.
    thumb_error_pct: list[Decimal | None] = field(default_factory=list)

    @property
    def english_cells(self) -> list[Cell]:
        return [self.cells[code] for code in english_codes()]

    @property
    def other_cells(self) -> list[Cell]:
        return [self.cells[code] for code in other_codes()]

    @property
    def per_word_others(self) -> list[Decimal | None]:
        return [self.per_word.get(code) for code in other_codes()]

    @property
    def same_text_others(self) -> list[Decimal | None]:
        return [self.same_text.get(code) for code in parallel_others()]


def _latest(tokenizer: Tokenizer) -> dict[str, TokenizerMeasurement]:
    latest: dict[str, TokenizerMeasurement] = {}
    for measurement in tokenizer.measurements.all():  # newest first per language
        latest.setdefault(measurement.language, measurement)
    return latest


def _curated(tokenizer: Tokenizer, code: str) -> Decimal | None:
    entry = (tokenizer.curated_ratios or {}).get(code) or {}
    try:
        value = Decimal(str(entry.get("words_per_token", "")))
    except ArithmeticError:
        return None
    return value if value.is_finite() and value > 0 else None


def tokenizer_rows(tokenizers: Sequence[Tokenizer]) -> list[TokenizerRow]:
    """One row per tokenizer, measured ones first, with every language's cell and the comparisons."""
    rows = []
    for tokenizer in tokenizers:
        latest = _latest(tokenizer)
        cells = {}
        for code in corpus.LANGUAGES:
            measured = latest.get(code)
            if measured is not None:
                cells[code] = Cell(measured.words_per_token, "measured", measured.chars_per_token)
            else:
                curated = _curated(tokenizer, code)
                cells[code] = Cell(curated, "curated" if curated else "")
        row = TokenizerRow(tokenizer, cells)
        english = cells["en"].words_per_token
        english_tokens = latest["en"].tokens if "en" in latest else None
        for code in corpus.LANGUAGES:
            value = cells[code].words_per_token
            row.per_word[code] = (english / value).quantize(Decimal("0.01")) if english and value else None
            if english_tokens and code in latest and code in corpus.PARALLEL:
                row.same_text[code] = (Decimal(latest[code].tokens) / english_tokens).quantize(Decimal("0.01"))
        row.thumb_error_pct = [
            ((english / thumb - 1) * 100).quantize(Decimal("1")) if english else None for thumb in RULES_OF_THUMB
        ]
        rows.append(row)
    rows.sort(key=lambda r: (r.cells["en"].source != "measured", r.tokenizer.name))
    return rows


def language_rows() -> list[dict[str, object]]:
    """Each language or register: its files, word-counting rule and licence (no query)."""
    return [
        {"code": language.code, "label": language.label, "files": language.files, "rule": language.word_rule}
        for language in corpus.CORPUS
    ]


def english_codes() -> list[str]:
    return ["en", *(f"en-{register}" for register in corpus.REGISTERS)]


def other_codes() -> list[str]:
    return [code for code in corpus.LANGUAGES if not code.startswith("en")]


def parallel_others() -> list[str]:
    return [code for code in corpus.PARALLEL if code != "en"]


def headers(codes: Iterable[str]) -> list[tuple[str, str]]:
    """(code, column label): English registers by their register alone, the mix as the default."""
    labels = {"en": "mix (default)", **{f"en-{r}": corpus.REGISTER_LABELS[r] for r in corpus.REGISTERS}}
    return [(code, labels.get(code, corpus.LANGUAGES[code])) for code in codes]


@dataclass(frozen=True)
class EnglishRange:
    low: TokenizerRow
    high: TokenizerRow
    registers: list[tuple[str, Decimal, Decimal]]  # register label, lowest and highest measured words per token


def english_range(rows: Sequence[TokenizerRow]) -> EnglishRange | None:
    """The measured English mix from its lowest to its highest tokenizer, and each register's spread."""
    measured = [r for r in rows if r.cells["en"].source == "measured" and r.cells["en"].words_per_token]
    if not measured:
        return None
    by_mix = sorted(measured, key=lambda r: r.cells["en"].words_per_token or Decimal(0))
    registers = []
    for register in corpus.REGISTERS:
        values = [
            value
            for r in measured
            if r.cells[f"en-{register}"].source == "measured"
            and (value := r.cells[f"en-{register}"].words_per_token) is not None
        ]
        if values:
            registers.append((corpus.REGISTER_LABELS[register], min(values), max(values)))
    return EnglishRange(by_mix[0], by_mix[-1], registers)
