# AstroConsult: the two commands of the README, and the tools around them.
#   make run    serve the product with demo data on the embedded SQLite database
#   make test   run the whole suite (PostgreSQL when TEST_DATABASE_URL is set)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app webapp
PIP := $(BIN)/pip --disable-pip-version-check -q

.PHONY: run test e2e chromium bench bench-smoke lint clean translations translations-update translations-new

# Installs are stamped, so a second `make run` starts at once and a changed
# requirements file reinstalls.
$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PIP) install -r requirements-dev.txt
	touch $@

# Translations (issue 41): webapp/translations/<language>/LC_MESSAGES/messages.po are the sources,
# committed and reviewed; the compiled .mo beside each is built from it here (a second or less, by
# `make run` and `make test`, so a .mo can never be older than its .po) and never committed.
CATALOGS := $(wildcard webapp/translations/*/LC_MESSAGES/messages.po)
EXTRACT := $(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_ngettext:1,2 -k NN_:1,2 -k t -k pgettext:1c,2 --no-location --sort-output

%.mo: %.po $(VENV)/.runtime
	$(BIN)/pybabel -q compile --statistics -i $< -o $@ 2>&1 | grep -v "^compiling" || true
	test -s $@

translations: $(CATALOGS:.po=.mo)

# After changing a sentence in the code: every catalog gets the new messages (then translate them;
# `make lint` lists what is missing, untranslated or fuzzy).
translations-update: $(VENV)/.runtime
	$(EXTRACT) -o webapp/translations/messages.pot webapp
	$(BIN)/pybabel -q update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching --ignore-obsolete
	rm webapp/translations/messages.pot

# A new language (make translations-new LANGUAGE=ta), then translate it and add it to LANGUAGES.
translations-new: $(VENV)/.runtime
	$(EXTRACT) -o webapp/translations/messages.pot webapp
	$(BIN)/pybabel -q init -i webapp/translations/messages.pot -d webapp/translations -l $(LANGUAGE)
	rm webapp/translations/messages.pot

run: $(VENV)/.runtime translations
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo "Serving on http://$${HOST:-127.0.0.1}:$${PORT:-5000} (Ctrl-C stops)"
	$(BIN)/python wsgi.py

# Browser tests drive Debian's Chromium (never a downloaded browser); installed here when missing and
# possible (root), else they skip (with CI=true they fail instead: see tests/e2e/conftest.py).
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "Chromium is not installed: the browser tests will be skipped"

# The unit tests on TEST_WORKERS processes (pytest-xdist, a database each); then the integration and
# browser tests, which start servers and watch their timing, one at a time.
TEST_WORKERS ?= 2
test: $(VENV)/.dev chromium translations
	$(BIN)/python -m pytest tests/unit -n $(TEST_WORKERS)
	$(BIN)/python -m pytest tests --ignore=tests/unit

# Only the browser journeys; HEADED=1 shows the browser (needs a display).
e2e: $(VENV)/.dev chromium translations
	$(BIN)/python -m pytest tests/e2e $(if $(HEADED),--headed --slowmo 300,)

# Benchmarks beside their baselines -> bench/RESULTS.md (needs PostgreSQL; BENCH_DATABASE_URL).
bench: $(VENV)/.dev
	$(BIN)/python -m bench.run

# Every benchmark's code path at tiny sizes, in seconds (figures meaningless; RESULTS.md untouched).
bench-smoke: $(VENV)/.dev
	BENCH_SMOKE=1 $(BIN)/python -m bench.run

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check webapp tests wsgi.py
	$(BIN)/lint-imports
	$(BIN)/python -m tools.i18n_lint

clean:
	rm -rf $(VENV) .pytest_cache
