"""The reference corpus: the languages we measure words per token in, their files and how words are counted.

Every text here was written for this project and is dedicated to the public domain (CC0 1.0; see
README.md). The prose languages are renderings of one English set, five short texts in five
registers (narrative, news, technical documentation, legal, conversation), so every language
measures the same content and its ratio compares like for like. ``en`` is the five English registers
together, the documented default mix; each register is also a language code of its own.

No Django here: ``pricing.measurement`` reads the files, ``pricing.selectors`` offers the codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent

# How words are counted (pricing.tokenizers.count_text applies one rule to every text, by script).
WHITESPACE = "whitespace-separated runs holding a letter or digit"
CHARACTERS = "one word per Han or kana character (no spaces between words); other runs by whitespace"


@dataclass(frozen=True)
class CorpusLanguage:
    code: str
    label: str
    files: tuple[str, ...]  # read in this order and joined by a blank line
    word_rule: str


REGISTERS = ("narrative", "news", "technical", "legal", "conversation")
REGISTER_LABELS = {
    "narrative": "narrative",
    "news": "news",
    "technical": "technical documentation",
    "legal": "legal",
    "conversation": "conversation",
}

CORPUS: tuple[CorpusLanguage, ...] = (
    CorpusLanguage("en", "English (mix of five registers)", tuple(f"en-{r}.txt" for r in REGISTERS), WHITESPACE),
    *(CorpusLanguage(f"en-{r}", f"English: {REGISTER_LABELS[r]}", (f"en-{r}.txt",), WHITESPACE) for r in REGISTERS),
    CorpusLanguage("zh", "Chinese", ("zh.txt",), CHARACTERS),
    CorpusLanguage("ja", "Japanese", ("ja.txt",), CHARACTERS),
    CorpusLanguage("ko", "Korean", ("ko.txt",), WHITESPACE),
    CorpusLanguage("hi", "Hindi", ("hi.txt",), WHITESPACE),
    CorpusLanguage("ar", "Arabic", ("ar.txt",), WHITESPACE),
    CorpusLanguage("ru", "Russian", ("ru.txt",), WHITESPACE),
    CorpusLanguage("de", "German", ("de.txt",), WHITESPACE),
    CorpusLanguage("fr", "French", ("fr.txt",), WHITESPACE),
    CorpusLanguage("es", "Spanish", ("es.txt",), WHITESPACE),
    CorpusLanguage("pt", "Portuguese", ("pt.txt",), WHITESPACE),
    CorpusLanguage("hu", "Hungarian", ("hu.txt",), WHITESPACE),
    CorpusLanguage("code", "source code", ("code.txt",), WHITESPACE),
)
BY_CODE = {language.code: language for language in CORPUS}
# Code -> label: the choice every reader of words offers (API ``language``, the site's "Words in").
LANGUAGES = {language.code: language.label for language in CORPUS}
# The prose languages that render the same English set: the methodology page's comparison.
PARALLEL = ("en", "zh", "ja", "ko", "hi", "ar", "ru", "de", "fr", "es", "pt", "hu")
