"""Languages and registers: the counting rule per script, the shipped corpus, provenance of each
tokenizer rule, coverage of a realistic catalogue, and the methodology page's comparison tables."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pricing import corpus, measurement, selectors
from pricing.measurement import tokenizer_resolve
from pricing.tokenizers import count_text
from pricing.web import methodology
from tests.factories import ModelFactory, OfferingFactory, TokenizerFactory, TokenizerMeasurementFactory

# --- the word-counting rule, per script ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("The well-known price is $3.50 — per token.", 7),  # whitespace; a lone dash is no word
        ("Árvíztűrő tükörfúrógép, köszönöm.", 3),  # Hungarian: whitespace
        ("Привет, мир — это тест.", 4),  # Cyrillic: whitespace
        ("नमस्ते दुनिया, यह परीक्षा है।", 5),  # Devanagari: vowel signs stay inside their word
        ("مرحبا بالعالم، هذا اختبار.", 4),  # Arabic: whitespace
        ("안녕하세요 세계, 시험입니다.", 3),  # Korean puts spaces between words: counted by them
        ("你好，世界。", 4),  # Chinese: one per Han character, punctuation none
        ("ありがとう、世界。", 7),  # Japanese: kana and kanji one each
        ("コーヒー", 2),  # the prolonged-sound marks are no word
        ("สวัสดีครับ", 7),  # Thai: the seven letters count, the vowel marks above them do not
        ("GPT-4o 你好", 3),  # mixed: the Latin run by whitespace, each Han character one
    ],
)
def test_it_counts_words_by_the_rule_of_each_script(text, words):
    assert count_text(text).words == words


def test_characters_exclude_whitespace_and_are_nfc_code_points():
    decomposed = "cafe\u0301 au lait"  # é as e + combining accent: NFC makes it one code point
    assert count_text(decomposed).characters == len("caféaulait")


def test_every_language_states_its_rule_and_has_a_file():
    assert len(corpus.PARALLEL) >= 12
    assert {"ja", "ko", "hi", "ar", "ru", "de", "fr", "es", "pt", "hu", "zh", "en"} <= set(corpus.PARALLEL)
    for language in corpus.CORPUS:
        assert language.word_rule in {corpus.WHITESPACE, corpus.CHARACTERS}
        for name in language.files:
            assert (corpus.CORPUS_DIR / name).read_text(encoding="utf-8").strip()
    assert corpus.BY_CODE["ja"].word_rule == corpus.CHARACTERS
    assert corpus.BY_CODE["ko"].word_rule == corpus.WHITESPACE


def test_the_corpus_states_its_licence():
    readme = (corpus.CORPUS_DIR / "README.md").read_text(encoding="utf-8")
    assert "CC0" in readme
    for language in corpus.CORPUS:
        for name in language.files:
            assert name in readme


def test_the_parallel_texts_carry_the_same_content():
    # Five registers each: the same numbers appear in every rendering (sixty days, 4.2 million, 7.1-7.5).
    for code in corpus.PARALLEL:
        text = measurement.corpus_load(languages=[code])[0].text
        assert "7.5" in text or "７．５" in text, code
    # Word counts stay within a plausible band of English's (Chinese and Japanese count characters).
    english = count_text(measurement.corpus_load(languages=["en"])[0].text).words
    for code in ("de", "fr", "es", "pt", "ru", "hu", "hi", "ar", "ko"):
        words = count_text(measurement.corpus_load(languages=[code])[0].text).words
        assert 0.6 * english < words < 1.25 * english, code


def test_every_language_is_offered_wherever_words_are_shown():
    from pricing.api import params
    from pricing.web import forms

    assert selectors.LANGUAGES == corpus.LANGUAGES
    assert [code for code, _ in forms.LANGUAGE_CHOICES] == list(corpus.LANGUAGES)
    assert set(corpus.LANGUAGES) == set(params.DisplayParams().fields["language"].choices)


# --- provenance of each rule and coverage of a realistic catalogue -------------------------------------


@pytest.mark.parametrize(
    ("slug", "creator", "expected", "says"),
    [
        ("mixtral-8x-7b-v-0.1", "mistralai", "mistral-sentencepiece", "mistral-common"),
        ("mistral-large-2411", "mistralai", "mistral-sentencepiece", "SentencePiece"),
        ("wizardlm-2-8x-22b", "microsoft", "mistral-sentencepiece", "Mixtral 8x22B fine-tune"),
        ("voxtral-small-24b-2507", "mistralai", "mistral-tekken", "Tekken"),
        ("gemma-4-31b", "google", "google-gemini", "Gemma 2 and 3 reports"),
        ("phi-4", "microsoft", "openai-cl100k", "Phi-4 report"),
        ("phi-4-mini", "microsoft", "openai-o200k", "Phi-4-mini report"),
        ("phi-3-small-8k", "microsoft", "openai-cl100k", "Phi-3 report"),
        ("deepseek-r1-distill-llama-70b", "deepseek", "llama3", "distills"),
        ("deepseek-r1-distill-qwen-32b", "deepseek", "qwen", "distills"),
        ("text-embedding-3-small", "openai", "openai-cl100k", "tiktoken's OpenAI model table"),
        ("davinci-002", "openai", "openai-cl100k", "tiktoken's OpenAI model table"),
        ("r2-preview", "deepseek", "deepseek", "creator deepseek"),
        ("llama-4-scout-17b-16e", "meta-llama", "llama4", "Llama 4 model"),
        ("llama-guard-4-12b", "meta-llama", "llama4", "pruned from Llama 4 Scout"),
        ("llama-guard-3-8b", "meta-llama", "llama3", "Llama 3.1 fine-tune"),
        ("codex-mini", "openai", "openai-o200k", "fine-tuned o4-mini"),
        ("mai-ds-r-1", "microsoft", "deepseek", "DeepSeek-R1 post-trained"),
        ("mistral-tiny", "mistralai", "mistral-sentencepiece", "mistral-common"),
        # A fine-tune or distill named after a closed teacher keeps its open base's tokenizer.
        ("gemma-4-31b-claude-4.6-opus-reasoning-distilled", "", "google-gemini", "Gemma shares"),
        ("deepseek-r-1-7b-qwen", "deepseek", "qwen", "Qwen model"),
    ],
)
def test_each_rule_names_where_its_fact_comes_from(slug, creator, expected, says):
    resolved = tokenizer_resolve(model_slug=slug, creator=creator)
    assert resolved is not None
    assert resolved.slug == expected
    assert says in resolved.rule


@pytest.mark.django_db
def test_known_families_without_a_tokenizer_say_so_and_stay_assumed():
    tokenizers = measurement.tokenizers_sync()
    for slug, creator, expected in (
        ("grok-4", "x-ai", "xai-grok"),
        ("nova-pro", "amazon", "amazon-nova"),
        ("minimax-m-2.5", "minimax", "minimax"),
        ("command-r-plus-08-2024", "cohere", "cohere-command"),
    ):
        resolved = tokenizer_resolve(model_slug=slug, creator=creator)
        assert resolved is not None and resolved.slug == expected
        tokenizer = tokenizers[expected]
        assert tokenizer.provenance == "assumed"
        assert "0.75 rule of thumb" in tokenizer.provenance_detail
        assert selectors.tokenizer_ratio(tokenizer, "en").provenance == "assumed"
    assert tokenizer_resolve(model_slug="bossanova-7b") is None


def test_unknown_tokenizers_stay_unresolved_rather_than_guessed():
    for slug, creator in (
        ("mistral-medium", "mistralai"),
        ("phind-code-llama-34b-v2", "phind"),  # Code Llama is Llama 2: "llama-34b" is a size, not Llama 3
        ("open-llama-3b", "openlm"),
        ("llama-4b-experiment", "acme"),
        ("airoboros-l-2-70b-gpt-4-1.4.1", ""),  # a Llama 2 fine-tune trained on GPT-4 output, not GPT-4
        ("llama-2-70b-chat", "meta-llama"),
    ):
        assert tokenizer_resolve(model_slug=slug, creator=creator) is None, slug
    # A known family without a runnable tokenizer stops the search: no hint or creator guesses after it.
    assert tokenizer_resolve(model_slug="mythomax-l2-13b", creator="deepseek", hints=["Llama3"]) is None
    # "Mistral" as a family names several tokenizers: a hint alone decides nothing.
    assert tokenizer_resolve(model_slug="mistral-saba", hints=["Mistral"]) is None


# A fixture-sized catalogue in the id shapes real sellers use (one row per offering).
CATALOGUE = [
    ("gpt-4o-mini", "openai"),
    ("gpt-5", "openai"),
    ("o3", "openai"),
    ("gpt-3.5-turbo", "openai"),
    ("text-embedding-3-large", "openai"),
    ("claude-sonnet-4", "anthropic"),
    ("claude-opus-4.7", "anthropic"),
    ("gemini-2.5-pro", "google"),
    ("gemma-3-27b", "google"),
    ("llama-3.3-70b", "meta-llama"),
    ("llama-3.1-8b", "meta-llama"),
    ("deepseek-v3.1", "deepseek"),
    ("deepseek-r1-distill-llama-70b", "deepseek"),
    ("qwen3-235b-a22b", "qwen"),
    ("qwen3.5-27b", "qwen"),
    ("mistral-small-3.2-24b", "mistralai"),
    ("mixtral-8x22b", "mistralai"),
    ("mistral-7b-v0.3", "mistralai"),
    ("codestral-2501", "mistralai"),
    ("phi-4", "microsoft"),
    ("grok-4", "x-ai"),  # no tokenizer we can run nor a public figure: assumed, counted against the share
]


def test_at_least_nine_in_ten_of_a_realistic_catalogue_are_measured_or_curated(db):
    tokenizers = measurement.tokenizers_sync()
    for slug in measurement.TOKENIZERS:  # as if measured: the rows say so
        tokenizers[slug].provenance = "measured"
        tokenizers[slug].save(update_fields=["provenance"])
    provenances = []
    for slug, creator in CATALOGUE:
        resolved = tokenizer_resolve(model_slug=slug, creator=creator)
        provenances.append(tokenizers[resolved.slug].provenance if resolved else "assumed")
    known = sum(1 for p in provenances if p in {"measured", "curated"})
    assert known / len(CATALOGUE) >= 0.9
    assert provenances[-1] == "assumed"


# --- the methodology page's tables ---------------------------------------------------------------------


def _measured(name: str, ratios: dict[str, tuple[int, int]]):
    tokenizer = TokenizerFactory(slug=name, name=name)
    for language, (words, tokens) in ratios.items():
        TokenizerMeasurementFactory(tokenizer=tokenizer, language=language, words=words, tokens=tokens)
    return tokenizer


@pytest.mark.django_db
def test_the_spread_table_prices_a_word_and_the_same_text_against_english():
    _measured("toy", {"en": (800, 1000), "hu": (600, 1600), "hi": (850, 2000), "en-legal": (700, 1000)})

    (row,) = methodology.tokenizer_rows(list(selectors.tokenizers_with_measurements()))

    assert row.cells["en"].words_per_token == Decimal("0.8")
    assert row.per_word["hu"] == Decimal("2.13")  # 0.8 / 0.375: a Hungarian word costs 2.13 English words
    assert row.same_text["hu"] == Decimal("1.60")  # the same text takes 1.6 times the tokens
    assert row.same_text["hi"] == Decimal("2.00")
    assert row.per_word["ja"] is None and row.same_text.get("ja") is None  # not measured: no figure invented
    assert row.thumb_error_pct == [Decimal("7"), Decimal("14")]  # 0.8 vs 0.75 and 0.7
    assert "en-legal" not in row.same_text  # registers are not renderings


@pytest.mark.django_db
def test_curated_figures_show_as_curated_and_compare_only_where_given():
    measurement.tokenizers_sync()
    rows = {r.tokenizer.slug: r for r in methodology.tokenizer_rows(list(selectors.tokenizers_with_measurements()))}

    claude = rows["anthropic-claude"]
    assert claude.cells["en"].source == "curated"
    assert claude.cells["en-news"].source == "curated"  # the one English figure stands for each register
    assert claude.cells["hu"].source == ""
    assert claude.per_word["hu"] is None
    assert rows["moonshot-kimi"].cells["en"].source == ""


@pytest.mark.django_db
def test_the_coverage_counts_offerings_by_the_provenance_of_their_figure():
    measured = TokenizerFactory(slug="m", provenance="measured")
    curated = TokenizerFactory(slug="c", provenance="curated")
    for tokenizer, rule, count in ((measured, "name rule: Llama 3.x model", 3), (curated, "curator", 1)):
        model = ModelFactory(tokenizer=tokenizer, tokenizer_rule=rule)
        for _ in range(count):
            OfferingFactory(model=model)
    OfferingFactory(model=None)

    coverage = methodology.offering_coverage()

    assert (coverage.total, coverage.measured, coverage.curated, coverage.assumed) == (5, 3, 1, 1)
    assert coverage.measured_pct == Decimal("60.0")
    assert coverage.by_rule == {"name rule": 3, "curator": 1, "none": 1}
    assert "3 measured (60.0%)" in coverage.summary()


@pytest.mark.django_db
def test_the_methodology_page_shows_the_spread_in_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    _measured("toy", {"en": (800, 1000), "hu": (600, 1600), "hi": (850, 2000)})
    _measured("other", {"en": (860, 1000), "hu": (700, 1500)})
    model = ModelFactory(tokenizer=TokenizerFactory(slug="toy"))
    for _ in range(4):
        OfferingFactory(model=model)

    with django_assert_max_num_queries(4):
        body = client.get("/methodology/").content.decode()

    assert "Hungarian" in body and "Hindi" in body and "Japanese" in body
    assert "2.13×" in body and "1.60×" in body and "2.00×" in body
    assert "English: legal" in body and "error at 0.75" in body
    assert "CC0" in body
    assert "4 (100.0%) is measured" in body
    assert "English runs from 0.800 words per token (toy)" in body and "to 0.860 (other)" in body
    assert "style=" not in body and "<script>" not in body


# --- the rule is recorded, follows corrected rules, and never overrides a curator ----------------------


@pytest.mark.django_db
def test_assignment_records_the_rule_and_follows_a_corrected_rule():
    measurement.tokenizers_sync()
    # Chosen by an older rule that called every R1 distill a DeepSeek tokenizer.
    distill = ModelFactory(
        slug="deepseek-r1-distill-llama-70b",
        creator="deepseek",
        tokenizer=TokenizerFactory(slug="deepseek"),
        tokenizer_rule="name rule: DeepSeek model",
    )
    fresh = ModelFactory(slug="phi-4", creator="microsoft")

    measurement.tokenizer_assign()

    distill.refresh_from_db()
    fresh.refresh_from_db()
    assert distill.tokenizer.slug == "llama3"
    assert "distills keep the Llama 3 base" in distill.tokenizer_rule
    assert fresh.tokenizer.slug == "openai-cl100k"
    assert fresh.tokenizer_rule.startswith("name rule: Phi-4 report")


@pytest.mark.django_db
def test_a_rule_that_no_longer_matches_leaves_the_figure_assumed():
    measurement.tokenizers_sync()
    wrong = ModelFactory(
        slug="cogito-v2-preview-llama-405b",
        tokenizer=TokenizerFactory(slug="llama4"),
        tokenizer_rule="name rule: Llama 4 model",
    )

    result = measurement.tokenizer_assign()

    wrong.refresh_from_db()
    assert (wrong.tokenizer, wrong.tokenizer_rule) == (None, "")
    assert "cogito-v2-preview-llama-405b" in result.unmatched


@pytest.mark.django_db
def test_a_curators_choice_or_removal_stays(admin_user):
    from pricing import curation

    measurement.tokenizers_sync()
    picked = ModelFactory(slug="gpt-4o", creator="openai")
    removed = ModelFactory(slug="gpt-5", creator="openai")
    curation.model_set_tokenizer(model=picked, tokenizer=TokenizerFactory(slug="openai-cl100k"), actor=admin_user)
    measurement.tokenizer_assign()
    removed.refresh_from_db()
    curation.model_set_tokenizer(model=removed, tokenizer=None, actor=admin_user)

    measurement.tokenizer_assign()

    picked.refresh_from_db()
    removed.refresh_from_db()
    assert (picked.tokenizer.slug, picked.tokenizer_rule) == ("openai-cl100k", "curator")
    assert (removed.tokenizer, removed.tokenizer_rule) == (None, "curator")


@pytest.mark.django_db
def test_a_curated_row_from_before_the_registers_gets_them_and_a_curators_edit_stays():
    original = measurement.CURATED_TOKENIZERS["anthropic-claude"]["ratios"]
    TokenizerFactory(slug="anthropic-claude", provenance="curated", curated_ratios=original)
    edited = {"en": {"words_per_token": "0.80", "source": "a curator's own count_tokens run"}}
    TokenizerFactory(slug="google-gemini", provenance="curated", curated_ratios=edited)

    tokenizers = measurement.tokenizers_sync()

    claude = tokenizers["anthropic-claude"]
    claude.refresh_from_db()
    assert claude.curated_ratios["en-legal"]["words_per_token"] == "0.77"
    assert "used for every register" in claude.curated_ratios["en-legal"]["source"]
    tokenizers["google-gemini"].refresh_from_db()
    assert tokenizers["google-gemini"].curated_ratios == edited
    assert selectors.words_ratio(OfferingFactory(model=ModelFactory(tokenizer=claude)), "en-news").provenance == (
        "curated"
    )
