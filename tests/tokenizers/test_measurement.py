"""Measuring tokenizers, storing ratios with provenance, assigning models, and per-words prices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from pricing import corpus, measurement, selectors, tasks, units
from pricing.measurement import tokenizer_assign, tokenizer_slug_for, tokenizers_measure
from pricing.models import Tokenizer, TokenizerMeasurement
from tests.factories import ModelFactory, OfferingFactory, PriceFactory, TokenizerFactory

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


REGISTER_TEXTS = {
    "en-narrative.txt": "Hello world. The quick brown fox jumps over the lazy dog.\n",
    "en-news.txt": "The council voted eleven to four on Monday.\n",
    "en-technical.txt": "Open the settings window and select the Backup tab.\n",
    "en-legal.txt": "Either party may terminate this agreement.\n",
    "en-conversation.txt": "- Are you coming on Saturday?\n- I think so.\n",
}
OTHER_TEXTS = {
    "zh.txt": "你好，世界。敏捷的棕色狐狸跳过了懒狗。\n",
    "ja.txt": "こんにちは、世界。\n",
    "ko.txt": "안녕하세요 세계\n",
    "hi.txt": "नमस्ते दुनिया\n",
    "ar.txt": "مرحبا بالعالم\n",
    "ru.txt": "Привет, мир.\n",
    "de.txt": "Hallo Welt.\n",
    "fr.txt": "Bonjour le monde.\n",
    "es.txt": "Hola mundo.\n",
    "pt.txt": "Olá mundo.\n",
    "hu.txt": "Helló világ.\n",
    "code.txt": "def f(x):\n    return x + 1\n",
}


@pytest.fixture
def corpus_dir(tmp_path):
    for name, text in {**REGISTER_TEXTS, **OTHER_TEXTS}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def measure(corpus_dir, **kwargs):
    return tokenizers_measure(slugs=["openai-o200k"], corpus_dir=corpus_dir, now=MOMENT, **kwargs)


def test_it_stores_tokens_words_characters_and_provenance(corpus_dir):
    result = measure(corpus_dir, languages=["en-narrative"])

    assert result.created == 1
    row = TokenizerMeasurement.objects.get()
    assert (row.language, row.tokens, row.words, row.characters) == ("en-narrative", 13, 11, 47)
    assert row.words_per_token == Decimal("0.84615")
    assert row.chars_per_token == Decimal("3.61538")
    assert row.tokenizer_version.startswith("tiktoken==")
    assert row.corpus_name == "en-narrative.txt"
    assert len(row.corpus_sha256) == 64
    assert row.measured_at == MOMENT


def test_the_default_english_figure_is_the_five_registers_together(corpus_dir):
    measure(corpus_dir, languages=["en", *(f"en-{r}" for r in corpus.REGISTERS)])

    rows = {m.language: m for m in TokenizerMeasurement.objects.all()}
    mix = rows["en"]
    assert mix.corpus_name == "+".join(f"en-{r}.txt" for r in corpus.REGISTERS)
    # Words and characters add up exactly; tokens nearly (the blank lines between registers are tokens too).
    assert mix.words == sum(rows[f"en-{r}"].words for r in corpus.REGISTERS) == 42
    assert mix.characters == sum(rows[f"en-{r}"].characters for r in corpus.REGISTERS)
    assert 0 <= mix.tokens - sum(rows[f"en-{r}"].tokens for r in corpus.REGISTERS) <= 4
    tokenizer = Tokenizer.objects.get(slug="openai-o200k")
    assert tokenizer.provenance == "measured"
    assert tokenizer.words_per_token == mix.words_per_token
    assert "en-narrative.txt+en-news.txt" in tokenizer.provenance_detail
    assert "2026-11-01" in tokenizer.provenance_detail


def test_it_changes_nothing_when_measuring_unchanged_inputs_again(corpus_dir):
    measure(corpus_dir)
    before = list(TokenizerMeasurement.objects.values())
    tokenizer_before = Tokenizer.objects.values().get(slug="openai-o200k")

    again = tokenizers_measure(slugs=["openai-o200k"], corpus_dir=corpus_dir, now=MOMENT + dt.timedelta(days=3))

    assert (again.created, again.unchanged, again.tokenizers_updated) == (0, len(corpus.LANGUAGES), 0)
    assert list(TokenizerMeasurement.objects.values()) == before
    assert Tokenizer.objects.values().get(slug="openai-o200k") == tokenizer_before


def test_it_measures_again_when_a_register_of_the_mix_changes(corpus_dir):
    measure(corpus_dir, languages=["en"])
    (corpus_dir / "en-legal.txt").write_text("A different text, longer than the first one was.\n", encoding="utf-8")

    result = measure(corpus_dir, languages=["en"])

    assert result.created == 1
    assert TokenizerMeasurement.objects.filter(language="en").count() == 2


def test_it_rejects_unknown_tokenizers_and_languages_before_writing(corpus_dir):
    with pytest.raises(measurement.UnknownTokenizer, match="no-such"):
        tokenizers_measure(slugs=["no-such"], corpus_dir=corpus_dir)
    with pytest.raises(measurement.UnknownLanguage, match="klingon"):
        tokenizers_measure(slugs=["openai-o200k"], languages=["klingon"], corpus_dir=corpus_dir)
    assert not TokenizerMeasurement.objects.exists()


def test_it_reports_a_missing_package_and_still_measures_the_others(corpus_dir, monkeypatch):
    monkeypatch.setattr("pricing.tokenizers._package_dir", lambda module: None)

    result = tokenizers_measure(slugs=["llama3"], corpus_dir=corpus_dir)

    assert "llama3" in result.unavailable
    assert result.created == 0


def test_it_measures_the_shipped_corpus_in_every_language():
    result = tokenizers_measure(slugs=["openai-o200k"], now=MOMENT)

    by_language = {m.language: m for m in result.measurements}
    assert set(by_language) == set(corpus.LANGUAGES)
    assert len(set(corpus.PARALLEL)) >= 12
    assert by_language["en"].words > 700
    assert by_language["zh"].characters > 1000
    # Same content, so Hungarian's fewer, longer words and Hindi's script both cost more tokens per word.
    assert by_language["hu"].words_per_token < by_language["en"].words_per_token
    assert by_language["hi"].words_per_token < by_language["en"].words_per_token
    for language in corpus.PARALLEL:
        assert by_language[language].tokens > 0


# --- per-words figures -------------------------------------------------------------------------------


def offering_with(tokenizer: Tokenizer | None, *, amount: str = "3.00"):
    model = ModelFactory(tokenizer=tokenizer)
    offering = OfferingFactory(model=model)
    PriceFactory(offering=offering, component="input", amount_per_mtok=Decimal(amount))
    return offering


def test_the_per_words_price_follows_the_models_tokenizer():
    dense = TokenizerFactory(slug="dense", words_per_token=Decimal("0.9"), provenance="measured")
    sparse = TokenizerFactory(slug="sparse", words_per_token=Decimal("0.6"), provenance="measured")
    offering_with(dense)
    offering_with(sparse)
    display = selectors.Display(unit="mwords")

    rows = selectors.offering_rows(selectors.offerings_with_prices(), display=display, rates=selectors.rates_on())

    by_tokenizer = {row.offering.model.tokenizer.slug: row for row in rows}
    assert by_tokenizer["dense"].amounts["input"] == Decimal("3.00") / Decimal("0.9")
    assert by_tokenizer["sparse"].amounts["input"] == Decimal("5")
    assert by_tokenizer["dense"].ratio.provenance == "measured"


def test_switching_language_changes_the_figure(corpus_dir):
    measure(corpus_dir)
    offering = offering_with(Tokenizer.objects.get(slug="openai-o200k"))

    english = selectors.words_ratio(offering, "en")
    chinese = selectors.words_ratio(offering, "zh")

    assert english.provenance == chinese.provenance == "measured"
    assert english.words_per_token != chinese.words_per_token
    assert units.per_mwords(Decimal(3), words_per_token=english.words_per_token) != units.per_mwords(
        Decimal(3), words_per_token=chinese.words_per_token
    )


def test_unmeasured_models_say_curated_or_assumed():
    tokenizers = measurement.tokenizers_sync()
    claude = offering_with(tokenizers["anthropic-claude"])
    kimi = offering_with(tokenizers["moonshot-kimi"])
    unknown = offering_with(None)

    assert selectors.words_ratio(claude) == units.WordsRatio(Decimal("0.77"), "curated")
    assert selectors.words_ratio(claude, "zh") == units.ASSUMED_RATIO
    assert selectors.words_ratio(kimi) == units.WordsRatio(Decimal("0.75"), "assumed")
    assert selectors.words_ratio(unknown) == units.ASSUMED_RATIO
    assert tokenizers["google-gemini"].provenance == "curated"
    assert "ai.google.dev" in tokenizers["google-gemini"].provenance_detail


def test_syncing_keeps_a_curators_figures_and_fills_empty_rows():
    TokenizerFactory(
        slug="google-gemini",
        provenance="curated",
        words_per_token=Decimal("0.66"),
        curated_ratios={"en": {"words_per_token": "0.66", "source": "our own count_tokens run"}},
    )
    TokenizerFactory(slug="anthropic-claude", provenance="assumed", curated_ratios={})

    tokenizers = measurement.tokenizers_sync()

    assert tokenizers["google-gemini"].words_per_token == Decimal("0.66")
    assert tokenizers["anthropic-claude"].provenance == "curated"
    assert tokenizers["anthropic-claude"].curated_ratios["en"]["words_per_token"] == "0.77"
    assert set(measurement.TOKENIZERS) <= set(tokenizers)


def test_a_malformed_curated_figure_falls_back_to_assumed():
    broken = TokenizerFactory(slug="broken", provenance="curated", curated_ratios={"en": {"words_per_token": "lots"}})
    assert selectors.words_ratio(offering_with(broken)) == units.ASSUMED_RATIO


def test_an_unknown_language_is_assumed_not_an_error(corpus_dir):
    measure(corpus_dir, languages=["en"])
    offering = offering_with(Tokenizer.objects.get(slug="openai-o200k"))
    assert selectors.words_ratio(offering, "xx") == units.ASSUMED_RATIO


def test_ratios_for_many_offerings_cost_no_query_per_row(corpus_dir, django_assert_max_num_queries):
    measure(corpus_dir)
    o200k = Tokenizer.objects.get(slug="openai-o200k")
    for _ in range(5):
        offering_with(o200k)
    offerings = list(selectors.offerings_with_prices())

    with django_assert_max_num_queries(1):
        measured = selectors.measured_ratios(language="zh")
        ratios = [selectors.words_ratio(o, "zh", measured=measured) for o in offerings]

    assert {r.provenance for r in ratios} == {"measured"}


def test_the_methodology_table_lists_every_tokenizer_in_two_queries(corpus_dir, django_assert_max_num_queries):
    measure(corpus_dir)
    measurement.tokenizers_sync()
    with django_assert_max_num_queries(2):
        table = {t.slug: [m.language for m in t.measurements.all()] for t in selectors.tokenizers_with_measurements()}
    assert table["openai-o200k"] == sorted(corpus.LANGUAGES)
    assert table["google-gemini"] == []


# --- assignment ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("gpt-4o-mini", "openai-o200k"),
        ("gpt-5", "openai-o200k"),
        ("o3-mini", "openai-o200k"),
        ("gpt-4-turbo", "openai-cl100k"),
        ("gpt-3.5-turbo", "openai-cl100k"),
        ("claude-opus-4-7", "anthropic-claude-4-7"),
        ("claude-3-5-sonnet", "anthropic-claude"),
        ("gemini-2.5-pro", "google-gemini"),
        ("kimi-k2", "moonshot-kimi"),
        ("glm-4.6", "zhipu-glm"),
        ("deepseek-chat", "deepseek"),
        ("qwen3.5-27b", "qwen3-5"),
        ("qwen2.5-72b-instruct", "qwen"),
        ("llama-3.1-405b-instruct", "llama3"),
        ("mistral-small-3.1", "mistral-tekken"),
        ("mystery-model", None),
    ],
)
def test_it_finds_a_models_tokenizer_from_provider_facts(slug, expected):
    assert tokenizer_slug_for(model_slug=slug) == expected


def test_it_falls_back_on_the_creator_then_on_openrouters_tokenizer_family():
    assert tokenizer_slug_for(model_slug="r2-preview", creator="deepseek") == "deepseek"
    assert tokenizer_slug_for(model_slug="hermes-405b", hints=["Llama3"]) == "llama3"
    assert tokenizer_slug_for(model_slug="some-gpt", hints=["GPT", "Other"]) is None


def test_it_assigns_models_and_keeps_a_curators_choice(django_assert_max_num_queries):
    chosen = TokenizerFactory(slug="curators-pick")
    gpt = ModelFactory(slug="gpt-4o")
    hinted = ModelFactory(slug="hermes-3-405b", creator="nousresearch")
    OfferingFactory(model=hinted, tokenizer_hint="Llama3")
    curated = ModelFactory(slug="claude-sonnet-4", tokenizer=chosen)
    ModelFactory(slug="mystery-model")
    measurement.tokenizers_sync()

    # Six reads and writes of the assignment, and the change stamp (a database cache row: read, count, write)
    # that tells every cached reader the per-word figures moved.
    with django_assert_max_num_queries(12):
        result = tokenizer_assign()

    gpt.refresh_from_db()
    hinted.refresh_from_db()
    curated.refresh_from_db()
    assert gpt.tokenizer.slug == "openai-o200k"
    assert hinted.tokenizer.slug == "llama3"
    assert curated.tokenizer == chosen
    assert result.unmatched == ["mystery-model"]
    assert tokenizer_assign().assigned == 0


def test_overwrite_reassigns_from_provider_facts():
    model = ModelFactory(slug="gpt-4o", tokenizer=TokenizerFactory(slug="wrong"))
    tokenizer_assign(overwrite=True)
    model.refresh_from_db()
    assert model.tokenizer.slug == "openai-o200k"


# --- command and task ----------------------------------------------------------------------------------


def test_the_command_measures_and_prints_the_ratios(capsys):
    call_command("measure_tokenizers", "--tokenizer", "openai-o200k", "--language", "en")
    out = capsys.readouterr().out
    assert "openai-o200k" in out
    assert "words/token" in out
    assert "1 measured" in out


def test_the_command_explains_a_bad_language():
    with pytest.raises(CommandError, match="unknown language"):
        call_command("measure_tokenizers", "--language", "xx")


def test_the_command_lists_tokenizers(capsys):
    call_command("measure_tokenizers", "--list")
    assert "openai-cl100k" in capsys.readouterr().out


def test_the_task_measures_and_assigns(monkeypatch):
    ModelFactory(slug="gpt-4o")
    # One tokenizer is enough to show the task calls both services; all of them is the command's job.
    monkeypatch.setattr(measurement, "TOKENIZERS", {"openai-o200k": measurement.TOKENIZERS["openai-o200k"]})
    result = tasks.measure_tokenizers()
    assert result["created"] == len(corpus.LANGUAGES)
    assert result["models_assigned"] == 1
