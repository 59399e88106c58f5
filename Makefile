# perp-spec developer entry points. `make test` sets everything up on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
ARGS ?=
PYTEST_ARGS ?=
# ape's pytest plugin is only needed under `ape test`; loading it costs ~2 s per run.
PYTEST_FLAGS ?= -p no:ape_test

# ape-vyper runs the `vyper` found on PATH: make it the venv's pinned one.
# ape-foundry starts the `anvil` it finds on PATH: make it the npm-pinned one.
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
# ape-vyper's own config model (its `import_remapping` field, a forward reference) makes
# pydantic-settings warn on every ape command; not our config: silence that one message.
export PYTHONWARNINGS := ignore:Field 'import_remapping' has an incomplete definition

.PHONY: help smoke venv setup test fuzz adl-lab audit bench bench-chains gas replay export report-merge vectors mutate lint fmt compile clean

help:
	@echo "perp-spec make targets (options through ARGS='...'; see README.md):"
	@echo "  setup / venv   create .venv, pip install -e ., npm ci (anvil); every target does it first"
	@echo "  test           the whole test suite, make smoke included (PYTEST_ARGS='...' for pytest)"
	@echo "  smoke          every command the README shows, in tiny form (under a minute)"
	@echo "  fuzz           differential fuzz campaign: ARGS='--seconds 30 --seed 7 --chain anvil';"
	@echo "                 python -m harness.campaign --help lists options, exit codes, report"
	@echo "  replay         rerun a counterexample: TRACE=reports/<run>/counterexample.json"
	@echo "  export         write it as a regression test: TRACE=... NAME=... [ARGS=--force]"
	@echo "  report-merge   one report from several runs: REPORTS='reports/a reports/b' OUT=DIR"
	@echo "  adl-lab        the ADL stress lab, spec only: ARGS='--scenario sybil'"
	@echo "  audit          a deployed instance checked, imported on a fork, then fuzzed from there:"
	@echo "                 ARGS='--manifest deployments/<chain-id>.json --fork-url <rpc> --seconds 10'"
	@echo "                 (report and counterexample in --out DIR; ARGS='--replay DIR/counterexample.json --fork-url <rpc>')"
	@echo "  bench          steps/s on the embedded chain, anvil and ape"
	@echo "  bench-chains   the bare chains' transactions/s"
	@echo "  gas            gas of every call on anvil into docs/gas.md (ARGS='--quick --out DIR')"
	@echo "  vectors        write tests/vectors from tests/cases"
	@echo "  mutate         mutation testing: ARGS='--max 24 --seconds 12 --seed 12'"
	@echo "  compile        ape compile"
	@echo "  lint / fmt     ruff check and format (check only / fix)"
	@echo "  clean          remove .build, .hypothesis, .pytest_cache"

venv setup: $(STAMP)

$(STAMP): pyproject.toml package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e .
	npm ci --no-audit --no-fund --loglevel=error
	test -x node_modules/.bin/anvil
	# redis-server for the Redis-shared failure database and its test (as root: apt-get)
	command -v redis-server >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		apt-get install -y -qq redis-server; } || \
		echo "redis-server missing: apt-get install redis-server (its test skips without it)"
	touch $@

test: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_FLAGS) $(PYTEST_ARGS) tests

fuzz: $(STAMP)
	$(BIN)/python -m harness.campaign $(ARGS)

# the ADL stress lab, spec only: make adl-lab [ARGS='--seed 7 --cascades 20'] or
# ARGS='--rounds FILE.csv --reference NAME' to score anyone's per-round data
adl-lab: $(STAMP)
	$(BIN)/python -m harness.lab $(ARGS)

# make audit ARGS='--manifest deployments/<chain-id>.json --fork-url <rpc>'
# make audit ARGS='--replay reports/audit-<time>/counterexample.json --fork-url <rpc>'
audit: $(STAMP)
	$(BIN)/python -m harness.deployed.audit $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m harness.measure.bench $(ARGS)

# make replay TRACE=reports/<run>/counterexample.json [ARGS='--chain anvil']
replay: $(STAMP)
	$(BIN)/python -m harness.campaign.trace replay $(TRACE) $(ARGS)

# make export TRACE=reports/<run>/counterexample.json NAME=short_description [ARGS=--force]
# (refuses to overwrite an existing tests/regressions/test_<NAME>.py without --force)
export: $(STAMP)
	$(BIN)/python -m harness.campaign.trace export $(TRACE) --name $(NAME) $(ARGS)

# make report-merge REPORTS='reports/<run1> reports/<run2>' OUT=reports/merged
report-merge: $(STAMP)
	$(BIN)/python -m harness.campaign.merge $(REPORTS) --out $(OUT)

# write tests/vectors/ from the cases in tests/cases (make test fails while they are stale)
vectors: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_FLAGS) $(PYTEST_ARGS) tests/cases --write-vectors

# every command the README shows, in tiny form; fails naming the command that broke
smoke: $(STAMP)
	$(BIN)/python -m harness.smoke $(ARGS)

# mutation testing: short campaigns against sampled one-token mutants of the engine
mutate: $(STAMP)
	$(BIN)/python -m harness.campaign.mutate $(ARGS)

gas: $(STAMP)
	$(BIN)/python -m harness.measure.gas $(ARGS)

bench-chains: $(STAMP)
	$(BIN)/python -m harness.measure.bench_chains $(ARGS)

compile: $(STAMP)
	$(BIN)/ape compile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf .build .hypothesis .pytest_cache
