"""Writes: measure tokenizers on the reference corpus, and link Models to Tokenizers.

A measurement is keyed on (tokenizer, language, tokenizer version, corpus hash): re-measuring
unchanged inputs writes nothing. The English measurement is copied onto the Tokenizer row
(``words_per_token``, ``chars_per_token``, ``provenance``), the figure every per-words price uses by
default. Where no tokenizer can be run (Claude, Gemini, Kimi, GLM) a curated ratio with its public
source stands in, labelled ``curated``; without one, the rule of thumb 0.75, labelled ``assumed``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from pricing import corpus, services
from pricing.models import Model, Offering, Tokenizer, TokenizerMeasurement
from pricing.tokenizers import TOKENIZERS, TokenizerUnavailable, count_text

log = logging.getLogger(__name__)

CORPUS_DIR = corpus.CORPUS_DIR
# Language code -> the corpus files measured for it (pricing/corpus/__init__.py, described in its README).
CORPUS_FILES = {language.code: language.files for language in corpus.CORPUS}
LANGUAGES = corpus.LANGUAGES
RATIO_QUANTUM = Decimal("0.00001")


class UnknownTokenizer(ValueError):
    pass


class UnknownLanguage(ValueError):
    pass


@dataclass(frozen=True)
class CorpusText:
    language: str
    name: str
    text: str
    sha256: str


def corpus_load(*, languages: Iterable[str] = (), corpus_dir: Path | None = None) -> list[CorpusText]:
    """The reference texts for ``languages`` (default: all), with their SHA-256.

    A language measured on several files (``en``: the five registers) reads them in order, joined by a
    blank line, as one text: its name lists the files and its hash covers the joined bytes."""
    wanted = list(languages) or list(CORPUS_FILES)
    unknown = [lang for lang in wanted if lang not in CORPUS_FILES]
    if unknown:
        raise UnknownLanguage(f"unknown language {', '.join(unknown)}; choose from {', '.join(CORPUS_FILES)}")
    directory = corpus_dir or CORPUS_DIR
    texts = []
    for language in wanted:
        parts = [(directory / name).read_bytes().strip(b"\n") for name in CORPUS_FILES[language]]
        data = b"\n\n".join(parts) + b"\n"
        name = "+".join(CORPUS_FILES[language])
        texts.append(CorpusText(language, name, data.decode("utf-8"), hashlib.sha256(data).hexdigest()))
    return texts


def ratio(numerator: int, denominator: int) -> Decimal:
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATIO_QUANTUM, rounding=ROUND_HALF_EVEN)


@dataclass
class MeasureResult:
    created: int = 0
    unchanged: int = 0
    tokenizers_updated: int = 0
    unavailable: dict[str, str] = field(default_factory=dict)
    measurements: list[TokenizerMeasurement] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.created} measured, {self.unchanged} unchanged, {self.tokenizers_updated} tokenizers updated"
        if self.unavailable:
            text += f"; unavailable: {', '.join(sorted(self.unavailable))}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "unchanged": self.unchanged,
            "tokenizers_updated": self.tokenizers_updated,
            "unavailable": dict(self.unavailable),
        }


def tokenizers_measure(
    *,
    slugs: Iterable[str] = (),
    languages: Iterable[str] = (),
    corpus_dir: Path | None = None,
    now: dt.datetime | None = None,
) -> MeasureResult:
    """Count tokens, words and characters of each corpus text under each tokenizer and store them.

    Unknown slugs or languages raise before anything is written; a tokenizer whose package is not
    installed is reported in ``unavailable`` and the others are still measured.
    """
    wanted = list(slugs) or list(TOKENIZERS)
    unknown = [slug for slug in wanted if slug not in TOKENIZERS]
    if unknown:
        raise UnknownTokenizer(f"unknown tokenizer {', '.join(unknown)}; choose from {', '.join(TOKENIZERS)}")
    texts = corpus_load(languages=languages, corpus_dir=corpus_dir)
    moment = now or timezone.now()
    result = MeasureResult()
    for slug in wanted:
        spec = TOKENIZERS[slug]
        try:
            loaded = spec.load()
        except (TokenizerUnavailable, ImportError, OSError) as exc:
            log.warning("tokenizer %s unavailable: %s", slug, exc)
            result.unavailable[slug] = str(exc)
            continue
        with transaction.atomic():
            tokenizer, created = Tokenizer.objects.get_or_create(slug=slug, defaults={"name": spec.name})
            if not created and tokenizer.name != spec.name:
                tokenizer.name = spec.name
                tokenizer.save(update_fields=["name"])
            done = set(
                TokenizerMeasurement.objects.filter(tokenizer=tokenizer, tokenizer_version=loaded.version).values_list(
                    "language", "corpus_sha256"
                )
            )
            for corpus in texts:
                if (corpus.language, corpus.sha256) in done:
                    result.unchanged += 1
                    continue
                tokens = loaded.count_tokens(corpus.text)
                counts = count_text(corpus.text)
                if tokens == 0 or counts.words == 0:
                    raise ValueError(f"corpus {corpus.name} is empty")
                measurement = TokenizerMeasurement.objects.create(
                    tokenizer=tokenizer,
                    language=corpus.language,
                    tokenizer_version=loaded.version,
                    corpus_name=corpus.name,
                    corpus_sha256=corpus.sha256,
                    tokens=tokens,
                    words=counts.words,
                    characters=counts.characters,
                    words_per_token=ratio(counts.words, tokens),
                    chars_per_token=ratio(counts.characters, tokens),
                    measured_at=moment,
                )
                result.created += 1
                result.measurements.append(measurement)
            if _tokenizer_follow_english(tokenizer):
                result.tokenizers_updated += 1
    if result.created or result.tokenizers_updated:
        # Per-words figures changed: pages keyed on "prices changed at" must not serve stale ones.
        services.prices_changed()
    return result


def _tokenizer_follow_english(tokenizer: Tokenizer) -> bool:
    """Copy the latest English measurement onto the Tokenizer row; write only on a real change."""
    latest = tokenizer.measurements.filter(language="en").order_by("-measured_at", "-id").first()
    if latest is None:
        return False
    detail = (
        f"Measured {latest.measured_at:%Y-%m-%d} with {latest.tokenizer_version} on corpus "
        f"{latest.corpus_name} (sha256 {latest.corpus_sha256[:16]}): {latest.words} words, "
        f"{latest.characters} characters, {latest.tokens} tokens."
    )
    wanted = {
        "words_per_token": latest.words_per_token,
        "chars_per_token": latest.chars_per_token,
        "provenance": Tokenizer.Provenance.MEASURED,
        "provenance_detail": detail,
    }
    changed = [name for name, value in wanted.items() if getattr(tokenizer, name) != value]
    if not changed:
        return False
    for name in changed:
        setattr(tokenizer, name, wanted[name])
    tokenizer.save(update_fields=changed)
    return True


# --- curated and assumed tokenizers -----------------------------------------------------------------

# Where the model's tokenizer cannot be run offline, a figure from a public source. English figures
# given in characters per token are turned into words with our English corpus's 5.63 characters
# per word (spaces included: 12,362 characters / 2,196 words), stated in each source text.
CURATED_TOKENIZERS: dict[str, dict[str, Any]] = {
    "anthropic-claude": {
        "name": "Anthropic Claude (Claude 3 to Opus 4.6)",
        "ratios": {
            "en": {
                "words_per_token": "0.77",
                "chars_per_token": "4.33",
                "source": "4.33 characters per token on English, measured with Anthropic's count_tokens endpoint "
                "for Claude Opus 4.6 (claudecodecamp.com, 'I measured Claude 4.7's new tokenizer', April 2026); "
                "4.33 / 5.63 characters per word = 0.77 words per token.",
            }
        },
    },
    "anthropic-claude-4-7": {
        "name": "Anthropic Claude (Opus 4.7 and later)",
        "ratios": {
            "en": {
                "words_per_token": "0.64",
                "chars_per_token": "3.60",
                "source": "3.60 characters per token on English for Claude Opus 4.7 (claudecodecamp.com, April 2026; "
                "Anthropic's migration guide states 1.0-1.35x the tokens of Opus 4.6); "
                "3.60 / 5.63 characters per word = 0.64 words per token.",
            }
        },
    },
    "google-gemini": {
        "name": "Google Gemini",
        "ratios": {
            "en": {
                "words_per_token": "0.70",
                "chars_per_token": "4",
                "source": "Google's Gemini API documentation, 'Understand and count tokens' "
                "(ai.google.dev/gemini-api/docs/tokens): a token is about 4 characters and 100 tokens are "
                "about 60-80 English words; 0.70 is the middle of that range.",
            }
        },
    },
    # No public words-per-token figure was found for these; both vendors offer a token-counting
    # endpoint a curator can run on our corpus (then fill curated_ratios in the admin).
    "moonshot-kimi": {
        "name": "Moonshot Kimi",
        "ratios": {},
        "detail": "No public ratio found; Moonshot's estimate-token-count endpoint "
        "(platform.moonshot.cn/docs/api/misc) can count our corpus. Until then the 0.75 rule of thumb.",
    },
    "zhipu-glm": {
        "name": "Zhipu GLM",
        "ratios": {},
        "detail": "No public ratio found; Zhipu's tokenizer endpoint (docs.bigmodel.cn, /paas/v4/tokenizer) "
        "can count our corpus. Until then the 0.75 rule of thumb.",
    },
    # Known families whose tokenizer no package ships and for which we found no public figure: named, so
    # each model says which tokenizer it uses and why its figure is the rule of thumb.
    "xai-grok": {
        "name": "xAI Grok",
        "ratios": {},
        "detail": "No package ships Grok's tokenizer and xAI publishes no words-per-token figure; its tokenize-text "
        "API endpoint (docs.x.ai) can count our corpus. Until then the 0.75 rule of thumb.",
    },
    "minimax": {
        "name": "MiniMax",
        "ratios": {},
        "detail": "No package ships MiniMax's tokenizer and we found no public words-per-token figure. "
        "Until one is curated, the 0.75 rule of thumb.",
    },
    "cohere-command": {
        "name": "Cohere Command",
        "ratios": {},
        "detail": "No package ships Command's tokenizer; Cohere's tokenize endpoint (docs.cohere.com, Tokens and "
        "Tokenizers) can count our corpus. Until then the 0.75 rule of thumb.",
    },
    "amazon-nova": {
        "name": "Amazon Nova",
        "ratios": {},
        "detail": "No package ships Nova's tokenizer and we found no public words-per-token figure. "
        "Until one is curated, the 0.75 rule of thumb.",
    },
}


def _with_registers(ratios: dict[str, Any]) -> dict[str, Any]:
    """A source's one English figure stands for every English register too, saying so."""
    english = ratios.get("en")
    if not english:
        return dict(ratios)
    filled = dict(ratios)
    for register in corpus.REGISTERS:
        filled.setdefault(
            f"en-{register}",
            {**english, "source": english["source"] + " The source gives one English figure, used for every register."},
        )
    return filled


def _curated_fields(entry: dict[str, Any]) -> dict[str, Any]:
    english = entry["ratios"].get("en")
    if english:
        return {
            "name": entry["name"],
            "words_per_token": Decimal(english["words_per_token"]),
            "chars_per_token": Decimal(english["chars_per_token"]) if english.get("chars_per_token") else None,
            "provenance": Tokenizer.Provenance.CURATED,
            "provenance_detail": english["source"],
            "curated_ratios": _with_registers(entry["ratios"]),
        }
    return {
        "name": entry["name"],
        "words_per_token": Decimal("0.75"),
        "chars_per_token": None,
        "provenance": Tokenizer.Provenance.ASSUMED,
        "provenance_detail": entry.get("detail", ""),
        "curated_ratios": entry["ratios"],
    }


def tokenizers_sync() -> dict[str, Tokenizer]:
    """Make sure every runnable and every curated tokenizer has its row (one query when nothing changed).

    Runnable tokenizers start as ``assumed`` until measured. A row that already holds curated figures
    keeps them (curators edit them in the admin); only rows still empty get ours.
    """
    existing = {t.slug: t for t in Tokenizer.objects.all()}
    for slug, spec in TOKENIZERS.items():
        if slug not in existing:
            existing[slug] = Tokenizer.objects.create(slug=slug, name=spec.name)
    for slug, entry in CURATED_TOKENIZERS.items():
        wanted = _curated_fields(entry)
        tokenizer = existing.get(slug)
        if tokenizer is None:
            existing[slug] = Tokenizer.objects.create(slug=slug, **wanted)
            continue
        # Rows that already hold curated figures belong to the curators; fill only empty ones, and give
        # a row still holding exactly our earlier figures the English registers they now stand for.
        if tokenizer.curated_ratios == entry["ratios"] and entry["ratios"]:
            tokenizer.curated_ratios = _with_registers(entry["ratios"])
            tokenizer.save(update_fields=["curated_ratios"])
            continue
        if tokenizer.provenance != Tokenizer.Provenance.ASSUMED or tokenizer.curated_ratios or not entry["ratios"]:
            continue
        changed = [name for name, value in wanted.items() if getattr(tokenizer, name) != value]
        for name in changed:
            setattr(tokenizer, name, wanted[name])
        if changed:
            tokenizer.save(update_fields=changed)
    return existing


# --- assignment ---------------------------------------------------------------------------------------

# Provider facts: the tokenizer each creator documents or ships for a model family, matched on the
# model's slug and name. First match wins, so the narrower patterns come first. Each entry says where
# the fact comes from; that text becomes the model's ``tokenizer_rule`` (its provenance).
_RULES: tuple[tuple[str, str, str], ...] = (
    # Known, but no tokenizer to run: stop here rather than let a later pattern or a hint guess. Llama 2
    # and its fine-tunes ("l2-13b") and Code Llama are Llama 2's SentencePiece vocabulary, which no
    # package ships; a fine-tune named after its teacher ("airoboros-l2-70b-gpt-4") is not that teacher.
    (r"llama[-. ]?2(?!\d)|code[-. ]?llama|(^|[^a-z])l[-. ]?2[-. ]\d+b", "", "Llama 2 family: no tokenizer shipped"),
    # Open base models first: a fine-tune or distill named after a closed teacher ("gemma-...-claude-
    # distilled") keeps its base model's tokenizer. Distilled R1s keep their base's too.
    (r"distill[-. ]?llama", "llama3", "R1 distills keep the Llama 3 base's tokenizer"),
    (r"distill[-. ]?qwen", "qwen", "R1 distills keep the Qwen 2.5 base's tokenizer"),
    (r"gemma", "google-gemini", "Gemma shares Gemini's SentencePiece vocabulary (Gemma 2 and 3 reports)"),
    (r"qwen[-. ]?3[-. ][56]\b", "qwen3-5", "Qwen 3.5/3.6 model"),
    (r"qwen|qwq|qvq", "qwen", "Qwen model"),
    # A version, not the start of a size: "llama-34b" is Code Llama 34B (Llama 2), "llama-3b" a 3B model.
    (r"llama[-. ]?(guard[-. ]?)?4(?!\d|b\b)", "llama4", "Llama 4 model (Llama Guard 4 is pruned from Llama 4 Scout)"),
    (
        r"llama[-. ]?(guard[-. ]?)?3(?!\d|b\b)",
        "llama3",
        "Llama 3.x model or fine-tune (Llama Guard 3 is a Llama 3.1 fine-tune)",
    ),
    (
        r"mistral[-. ]?7b|mixtral|wizardlm[-. ]?2[-. ]?8x[-. ]?22b|mistral[-. ]large[-. ]?(2402|2407|2411)"
        r"|pixtral[-. ]large|codestral[-. ]?(2405|22b)|codestral[-. ]mamba"
        r"|mistral[-. ](small|medium)[-. ]?(2402|2312)|mistral[-. ]tiny",
        "mistral-sentencepiece",
        "mistral-common's model table (SentencePiece v1-v7); WizardLM-2 8x22B is a Mixtral 8x22B fine-tune",
    ),
    (
        r"mistral[-. ]nemo|pixtral|ministral|voxtral|mistral[-. ]small[-. ]?(3|2[4-9])"
        r"|mistral[-. ]medium[-. ]?(3|2[5-9])|magistral|devstral|codestral[-. ]?2[5-9]",
        "mistral-tekken",
        "Mistral model on Tekken (mistral-common)",
    ),
    (r"phi[-. ]?4[-. ]?(mini|multimodal)", "openai-o200k", "Phi-4-mini report: o200k_base, 200,064 tokens"),
    (r"phi[-. ]?4", "openai-cl100k", "Phi-4 report: tiktoken cl100k_base, 100,352 tokens"),
    (r"phi[-. ]?3[-. ]?small", "openai-cl100k", "Phi-3 report: phi-3-small uses tiktoken cl100k_base"),
    (r"deepseek", "deepseek", "DeepSeek model"),
    (r"mai[-. ]?ds[-. ]?r[-. ]?1", "deepseek", "Microsoft: MAI-DS-R1 is DeepSeek-R1 post-trained"),
    (r"kimi|moonshot", "moonshot-kimi", "Moonshot Kimi model"),
    (r"(^|[^a-z])(chat)?glm", "zhipu-glm", "Zhipu GLM model"),
    (r"(^|[^a-z])grok", "xai-grok", "xAI Grok model"),
    (r"minimax", "minimax", "MiniMax model"),
    (r"(^|[^a-z])command[-. ]?(r|a)($|[^a-z])", "cohere-command", "Cohere Command model"),
    (r"(^|[^a-z])nova[-. ]?(micro|lite|pro|premier|sonic|2)", "amazon-nova", "Amazon Nova model"),
    (r"claude.*opus[-. ]?4[-. ]?[7-9]\b", "anthropic-claude-4-7", "Anthropic: Opus 4.7 has a new tokenizer"),
    (r"claude", "anthropic-claude", "Anthropic model"),
    (r"gemini", "google-gemini", "Google Gemini model"),
    (
        r"gpt-oss|gpt-4o|chatgpt-4o|gpt-4\.[15]|gpt-5|(^|[^a-z0-9])o[134]($|[^a-z0-9])",
        "openai-o200k",
        "OpenAI model on o200k_base",
    ),
    (r"codex[-. ]mini", "openai-o200k", "OpenAI: codex-mini is a fine-tuned o4-mini (o200k_base)"),
    (r"gpt-4|gpt-3\.5", "openai-cl100k", "OpenAI model on cl100k_base"),
)
MODEL_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), slug) for p, slug, _ in _RULES)
_RULE_SOURCES = {p: source for p, _, source in _RULES}

# Creators whose every model uses one tokenizer family (used when the name says nothing).
CREATOR_RULES = {
    "anthropic": "anthropic-claude",
    "deepseek": "deepseek",
    "moonshotai": "moonshot-kimi",
    "moonshot": "moonshot-kimi",
    "z-ai": "zhipu-glm",
    "zhipu": "zhipu-glm",
    "zhipuai": "zhipu-glm",
    "x-ai": "xai-grok",
    "minimax": "minimax",
}

# OpenRouter's tokenizer family (Offering.tokenizer_hint), lower-cased. GPT and Mistral name
# families whose members use different tokenizers, so they decide nothing on their own.
HINT_RULES = {
    "claude": "anthropic-claude",
    "gemini": "google-gemini",
    "deepseek": "deepseek",
    "qwen": "qwen",
    "qwen3": "qwen",
    "llama3": "llama3",
    "llama4": "llama4",
    "gemma": "google-gemini",
    "grok": "xai-grok",
    "cohere": "cohere-command",
    "nova": "amazon-nova",
}


@dataclass(frozen=True)
class Resolved:
    """A tokenizer chosen for a model, and the rule that chose it (its provenance)."""

    slug: str
    rule: str


def tokenizer_resolve(
    *, model_slug: str, model_name: str = "", creator: str = "", hints: Iterable[str] = ()
) -> Resolved | None:
    """The tokenizer a model uses: provider facts first (its name), then its creator, then a source's
    tokenizer family; None when nothing is known (the model's ratio is then assumed)."""
    text = f"{model_slug} {model_name}".lower()
    for pattern, slug in MODEL_RULES:
        if pattern.search(text):
            # An empty slug: the family is known and has no tokenizer we can run; nothing later may guess.
            return Resolved(slug, f"name rule: {_RULE_SOURCES[pattern.pattern]}") if slug else None
    openai = _openai_table(model_slug) if creator.lower() in {"openai", ""} else None
    if openai:
        return openai
    if creator.lower() in CREATOR_RULES:
        return Resolved(CREATOR_RULES[creator.lower()], f"creator {creator.lower()}")
    for hint in hints:
        hinted = HINT_RULES.get(hint.strip().lower())
        if hinted:
            return Resolved(hinted, f"source's tokenizer hint {hint.strip()!r}")
    return None


def _openai_table(model_slug: str) -> Resolved | None:
    """OpenAI's own model -> encoding table, as tiktoken ships it (embeddings, instruct and base models)."""
    import tiktoken.model

    try:
        encoding = tiktoken.model.encoding_name_for_model(model_slug.lower())
    except KeyError:
        return None
    slug = {"o200k_base": "openai-o200k", "cl100k_base": "openai-cl100k"}.get(encoding)
    return Resolved(slug, f"tiktoken's OpenAI model table: {encoding}") if slug else None


def tokenizer_slug_for(
    *, model_slug: str, model_name: str = "", creator: str = "", hints: Iterable[str] = ()
) -> str | None:
    """:func:`tokenizer_resolve`'s slug only."""
    resolved = tokenizer_resolve(model_slug=model_slug, model_name=model_name, creator=creator, hints=hints)
    return resolved.slug if resolved else None


@dataclass
class AssignResult:
    assigned: int = 0
    kept: int = 0
    unmatched: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.assigned} models assigned, {self.kept} kept, {len(self.unmatched)} without a known tokenizer"


# The rule a curator's choice records (pricing.curation.model_set_tokenizer): never overwritten by rules.
CURATOR_RULE = "curator"
_AUTOMATIC_RULES = ("name rule", "creator ", "source's tokenizer hint", "tiktoken's")


def rule_is_automatic(rule: str) -> bool:
    """Whether a model's tokenizer was chosen by a rule here (re-resolved when the rules change)."""
    return rule.startswith(_AUTOMATIC_RULES)


def tokenizer_assign(*, overwrite: bool = False) -> AssignResult:
    """Point each Model at its Tokenizer and record the rule that chose it (``tokenizer_rule``).

    A model whose tokenizer a curator chose (or removed), or that has one from before rules were
    recorded, keeps it unless ``overwrite``; one a rule chose follows the current rules, so a corrected
    rule corrects it.
    A constant number of queries whatever the number of models."""
    result = AssignResult()
    with transaction.atomic():
        tokenizers = tokenizers_sync()
        to_update = []
        for model in Model.objects.prefetch_related("offerings").order_by("slug"):
            curators = model.tokenizer_rule == CURATOR_RULE or (model.tokenizer_id and not model.tokenizer_rule)
            if curators and not overwrite:
                result.kept += 1
                continue
            hints = [o.tokenizer_hint for o in model.offerings.all() if o.tokenizer_hint]
            resolved = tokenizer_resolve(
                model_slug=model.identity_key or model.slug, model_name=model.name, creator=model.creator, hints=hints
            )
            if resolved is None:
                if model.tokenizer_id:  # a rule chose it, and no rule does now: the figure becomes assumed
                    model.tokenizer, model.tokenizer_rule = None, ""
                    to_update.append(model)
                    result.assigned += 1
                result.unmatched.append(model.slug)
                continue
            tokenizer, rule = tokenizers[resolved.slug], resolved.rule[:120]
            if model.tokenizer_id != tokenizer.id:
                result.assigned += 1
            else:
                result.kept += 1
            if model.tokenizer_id != tokenizer.id or model.tokenizer_rule != rule:
                model.tokenizer, model.tokenizer_rule = tokenizer, rule
                to_update.append(model)
        Model.objects.bulk_update(to_update, ["tokenizer", "tokenizer_rule"], batch_size=500)
    if result.assigned:
        services.prices_changed()
    return result


# --- coverage: how many offerings' words figures are measured, curated or assumed -----------------------


@dataclass(frozen=True)
class Coverage:
    total: int
    measured: int
    curated: int
    assumed: int  # the model is not identified, its tokenizer is not known, or it has no figure
    # How each offering's tokenizer was chosen: "name rule", "creator", "source's hint", "OpenAI's table",
    # "curator", "none" (no tokenizer) -> offerings.
    by_rule: dict[str, int] = field(default_factory=dict)

    def share(self, part: int) -> Decimal:
        return (Decimal(100 * part) / self.total).quantize(Decimal("0.1")) if self.total else Decimal(0)

    @property
    def measured_pct(self) -> Decimal:
        return self.share(self.measured)

    @property
    def curated_pct(self) -> Decimal:
        return self.share(self.curated)

    @property
    def assumed_pct(self) -> Decimal:
        return self.share(self.assumed)

    def summary(self) -> str:
        rules = ", ".join(f"{kind} {count}" for kind, count in self.by_rule.items())
        return (
            f"{self.total} offerings: {self.measured} measured ({self.measured_pct}%), {self.curated} curated "
            f"({self.curated_pct}%), {self.assumed} assumed ({self.assumed_pct}%); tokenizer chosen by: {rules}"
        )


_RULE_KINDS = (
    ("name rule", "name rule"),
    ("creator ", "creator"),
    ("source's tokenizer hint", "source's hint"),
    ("tiktoken's", "OpenAI's table"),
    (CURATOR_RULE, "curator"),
)


def _rule_kind(rule: str | None, has_tokenizer: bool) -> str:
    if not has_tokenizer:
        return "none"
    for prefix, kind in _RULE_KINDS:
        if (rule or "").startswith(prefix):
            return kind
    return "earlier assignment"


def offering_coverage() -> Coverage:
    """How many offerings' English words figure is measured, curated or assumed, and how each
    offering's tokenizer was chosen (one query)."""
    rows = Offering.objects.values("model__tokenizer__provenance", "model__tokenizer_rule").annotate(n=Count("id"))
    by_provenance: dict[str, int] = {}
    by_rule: dict[str, int] = {}
    for row in rows:
        provenance = row["model__tokenizer__provenance"]
        by_provenance[provenance or "none"] = by_provenance.get(provenance or "none", 0) + row["n"]
        kind = _rule_kind(row["model__tokenizer_rule"], provenance is not None)
        by_rule[kind] = by_rule.get(kind, 0) + row["n"]
    total = sum(by_provenance.values())
    measured = by_provenance.get(Tokenizer.Provenance.MEASURED, 0)
    curated = by_provenance.get(Tokenizer.Provenance.CURATED, 0)
    ordered = dict(sorted(by_rule.items(), key=lambda item: -item[1]))
    return Coverage(total, measured, curated, total - measured - curated, ordered)
