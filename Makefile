# Two commands: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_SERVER := $(VENV)/.installed-server
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: demo test check bench soak lint clean i18n

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_SERVER): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[server]"
	touch $@

$(STAMP_DEV): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[server,dev]"
	touch $@ $(STAMP_SERVER)

demo: $(STAMP_SERVER)
	$(VENV)/bin/samverkan demo

test: $(STAMP_DEV)
	$(PY) -m pytest -q -m "not slow"

lint: $(STAMP_DEV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

check: lint test

bench: $(STAMP_DEV)
	$(PY) -m bench

soak: $(STAMP_DEV)
	$(PY) -m pytest -q -m slow

clean:
	rm -rf $(VENV) .samverkan .samverkan-demo .pytest_cache .mypy_cache .ruff_cache

# Catalogues: extract each part's strings and merge them into every language's .po files
# (then translate the new entries, and `make test` checks them). See README, "Languages".
PARTS := core:messenger events:bots/events resources:bots/resources translate:bots/translate tui:tui
i18n: $(STAMP_DEV)
	@for part in $(PARTS); do \
	  name=$${part%%:*}; src=$${part#*:}; \
	  $(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k _ -k gettext -k ngettext:1,2 \
	    --no-location --omit-header -o messenger/locales/$$name.pot $$src; \
	  for po in messenger/locales/*/LC_MESSAGES/$$name.po; do \
	    [ -f "$$po" ] && $(VENV)/bin/pybabel update --quiet --no-fuzzy-matching --omit-header \
	      -i messenger/locales/$$name.pot -o $$po -l $$(basename $$(dirname $$(dirname $$po))); \
	  done; \
	done
