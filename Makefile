# Two commands: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_SERVER := $(VENV)/.installed-server
STAMP_DEV := $(VENV)/.installed-dev
STAMP_SCALE := $(VENV)/.installed-scale

.PHONY: demo test check bench soak lint clean i18n scale-test scale-up

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

# The suite waits on the homeserver more than it computes: four workers, each with its own
# Synapse, a test file at a time (TEST_WORKERS=0 runs it in one process).
TEST_WORKERS ?= 4

test: $(STAMP_DEV)
	$(PY) -m pytest -q -m "not slow" --durations=25 $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

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

# The scaled homeserver (README, "Past one machine"): PostgreSQL, Redis and nginx from the
# system's packages (installed when missing and run as root), Synapse's extras in the venv;
# then a fresh deployment in .samverkan-scale/, the exactly-once, E2EE and soak tests against
# it, and every process stopped. Not part of `make test`. SCALE_BENCH=10,100 adds the scaling
# bench against it.
$(STAMP_SCALE): pyproject.toml | $(STAMP_DEV)
	$(PY) -m pip install --quiet -e ".[server,dev,scale]"
	touch $@

scale-test: $(STAMP_SCALE)
	sh deploy/system-packages.sh
	$(PY) -m samverkan.scale test $(if $(SCALE_BENCH),--bench $(SCALE_BENCH))

scale-up: $(STAMP_SCALE)
	sh deploy/system-packages.sh
	$(PY) -m samverkan.scale up

clean:
	rm -rf $(VENV) .samverkan .samverkan-demo .samverkan-scale .pytest_cache .mypy_cache .ruff_cache

# Catalogues: extract each part's strings into messenger/locales/PART.pot and merge them into
# every language's PART.po (then translate the new entries; `make test` checks that none is
# missing). A new language: see README, "Languages".
PYBABEL := $(VENV)/bin/pybabel
define catalogue
	$(PYBABEL) extract -F babel.cfg -k N_ -k _ -k gettext -k ngettext:1,2 --no-location \
	  --omit-header -o messenger/locales/$(1).pot $(2)
	for po in messenger/locales/*/LC_MESSAGES/$(1).po; do \
	  lang=$$(basename $$(dirname $$(dirname $$po))); \
	  $(PYBABEL) update --no-fuzzy-matching --omit-header -i messenger/locales/$(1).pot \
	    -o $$po -l $$lang; \
	done
endef

i18n: $(STAMP_DEV)
	$(call catalogue,core,messenger/botkit messenger/session messenger/e2ee messenger/deploy)
	$(call catalogue,events,bots/events bots/examples.py)
	$(call catalogue,onboard,bots/onboard)
	$(call catalogue,resources,bots/resources)
	$(call catalogue,audit,bots/secaudit samverkan/transparency.py samverkan/transparency_doc.py)
	$(call catalogue,projects,bots/projects)
	$(call catalogue,translate,bots/translate)
	$(call catalogue,library,bots/library)
	$(call catalogue,tui,tui messenger/client samverkan/tui_entry.py)
