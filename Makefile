# The assistant's everyday commands. `make help` lists them.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help setup train run serve cluster chat test test-fast test-one lint validate check content bench clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt
	test -x $(PY) || $$(scripts/python310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<24.1"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip check
	touch $@

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(STAMP) ## create the Python 3.10 venv with the pinned requirements

train: $(STAMP) ## train the model if it is missing or stale
	$(PY) -m bot train

run: $(STAMP) ## set up, train if needed, and run the assistant (REST on :5005)
	$(PY) -m bot serve

serve: $(STAMP) ## run the already trained model without retraining
	$(PY) -m bot serve --no-train

N ?= 2
cluster: $(STAMP) ## PostgreSQL, Redis, nginx and N=2 Rasa servers on this machine (port 5005)
	$(PY) -m bot serve --replicas $(N)

chat: $(STAMP) ## chat in the terminal with the running assistant
	$(PY) -m bot chat

test: $(DEV_STAMP) ## set up, train if needed, and run every test
	$(PY) -m bot train
	$(PY) -m pytest

FAST := not model and not e2e and not rasa_cli
test-fast: $(DEV_STAMP) ## the unit tests: no model, no servers, no rasa command line
	$(PY) -m pytest -m "$(FAST)"

test-one: $(DEV_STAMP) ## one test or file: make test-one T=tests/bot/test_store.py::test_name
	@test -n "$(T)" || { echo 'usage: make test-one T=path[::name]'; exit 2; }
	$(PY) -m pytest $(T)

lint: $(DEV_STAMP) ## ruff check, ruff format --check, mypy
	$(PY) -m ruff check bot actions tests bench
	$(PY) -m ruff format --check bot actions tests bench
	$(PY) -m mypy

validate: $(STAMP) ## rasa data validate, warnings are errors
	$(PY) -m rasa data validate --fail-on-warnings

check: lint test ## what CI runs (.ci/run): lint, then make test

content: $(DEV_STAMP) ## the content report for clinicians: results/content.md
	$(PY) -m bot content

bench: $(DEV_STAMP) ## benchmarks against the stock rasa init setup (about 40 min), one table
	$(PY) -m bot train
	$(PY) -m bench.run_all

clean: ## remove the trained model and local data (not the venv)
	rm -rf models results var .rasa
