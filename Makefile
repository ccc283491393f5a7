# slotbot: `make run` serves the demo business, `make test` runs the whole suite.
# Both create the virtualenv and install on first use (and again when pyproject.toml changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint system-deps postgres-up bench catalogue clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/slotbot db upgrade
	$(BIN)/slotbot serve --host $(HOST) --port $(PORT)

# Debian packages the browser and PDF tests use; installed when missing and we may (root + apt).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null; \
	  else \
	    echo "note:$$missing not installed; the tests that need them will say so"; \
	  fi; \
	fi

# Under CI the PostgreSQL tests must run: start the local server if it is down.
postgres-up:
	@if [ "$$CI" = "true" ] && command -v pg_isready >/dev/null 2>&1 \
	    && ! pg_isready -q -h 127.0.0.1 -p 5432 && command -v pg_ctlcluster >/dev/null 2>&1; then \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# One test process per core (each test has its own database; see tests/conftest.py).
# worksteal: a worker that runs out takes tests queued for the other, so the long ones
# (the 1,000-conversation property test, the fuzzes) do not leave a core idle at the end.
TEST_WORKERS ?= auto
test: $(STAMP) system-deps postgres-up lint
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=25

# Each prints a Markdown table; docs/BENCHMARKS.md has the figures and how to read them.
bench: $(STAMP)
	$(BIN)/python bench/slots.py
	$(BIN)/python bench/turns.py
	$(BIN)/python bench/when_cost.py
	$(BIN)/python bench/reading.py
	$(BIN)/python bench/outbox.py
	$(BIN)/python bench/webhooks.py

# After adding or changing a reply text: re-extract messages.pot and bring each language's
# catalogue up to date (new texts arrive untranslated; tests/core/test_catalogue.py checks both).
# Sorted by text, without line numbers, so moving code does not change the files.
POT := bot/locale/messages.pot
catalogue: $(STAMP)
	$(BIN)/pybabel extract -F pyproject.toml --sort-output --no-location --no-wrap --omit-header \
	  --project slotbot -o $(POT) .
	$(BIN)/pybabel update -i $(POT) -d bot/locale -D slotbot --no-wrap --ignore-obsolete
	sed -i '/^"POT-Creation-Date: /d' bot/locale/*/LC_MESSAGES/slotbot.po  # no churn to merge

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis tests/artifacts
