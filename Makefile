# The two commands of the README, and the few around them.
#   make demo   the whole flow on the embedded local cloud (offline)
#   make test   lint + the whole test suite
# Needs Python 3.13 and make. uv is used if it is on PATH, else installed once into .tools/.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.13 2>/dev/null || echo python3)
UV_VERSION := 0.13.8
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
# pytest-xdist workers: three on the 2-core machines we measure on, since many tests spend their
# time waiting (on a paced stream, a subprocess, a notebook's kernel), so a third worker uses
# cores the other two leave idle (pytest: 292 s with 2, 262 s with 3, same machine, one run each).
# Tests of one file stay on one worker (--dist loadfile): module fixtures run once. Files are
# handed out in the order of pyproject's testpaths (--no-loadscope-reorder): the notebooks'
# execution starts first, the tests that read the built site come last. The longest end-to-end
# tests have a file each, so that the workers share them.
TEST_WORKERS ?= 3

export UV_PYTHON_DOWNLOADS := never
# Install the packages with their bytecode compiled (uv does it on both cores). Without it, a
# machine that sets PYTHONDONTWRITEBYTECODE (CI images, containers) compiles moto, botocore and
# the rest again in every process: each local cloud started 4 s later, every `bankdemo` command
# and notebook kernel paid its share (tests/unit/test_environment.py checks the result).
export UV_COMPILE_BYTECODE := 1
export NO_MKDOCS_2_WARNING := 1
export AWS_EC2_METADATA_DISABLED := true

# The stage `make package`, `make deploy` and `make destroy` ship (.chalice/config.json: dev, prod).
STAGE ?= dev

.PHONY: help demo test lint format docs docs-build slides slides-pdf lab benchmark soak mutation coverage types package deploy destroy clean env env-dev env-docs env-lab

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

env: $(UV) ## Create or update the environment (runtime dependencies only)
	$(UV) sync --frozen --inexact --quiet

env-dev: $(UV)
	$(UV) sync --frozen --inexact --quiet --extra dev --extra docs

env-lab: $(UV)
	$(UV) sync --frozen --inexact --quiet --extra dev --extra docs --extra lab

demo: env ## Run the demo: local cloud up, 200 signed notifications in, balances checked, then the storm scorecard
	$(BIN)/bankdemo demo

# The suite runs under branch coverage (pyproject.toml's [tool.coverage]; the subprocesses too,
# writing beside one data file named absolutely): a report in the terminal, the HTML one in
# test-artefacts/coverage/, the JSON one beside it (make coverage reads it), and two gates: 90%
# over demo/ (fail_under), 100% over demo/bank/.
COVERAGE_RUN := COVERAGE_FILE=$(CURDIR)/.coverage
COVERAGE_ARGS := --cov --cov-report=term:skip-covered --cov-report=html:test-artefacts/coverage \
	--cov-report=json:test-artefacts/coverage.json

test: env-dev ## Lint (ruff, mypy strict), then the whole test suite under branch coverage, with its gates
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(COVERAGE_RUN) $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(COVERAGE_ARGS)
	$(COVERAGE_RUN) $(BIN)/coverage report --include='demo/bank/*' --fail-under=100 --skip-covered --skip-empty

lint: env-dev ## Lint only
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=demo/serverless $(BIN)/lint-imports  # the import contracts (pyproject.toml)
	$(BIN)/mypy  # static types, strict (pyproject.toml; make test runs it as tests/unit/test_types.py)

format: env-dev ## Format and fix what ruff can fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs: env-dev ## Serve the docs site on http://127.0.0.1:8001
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

docs-build: env-dev ## Build the docs site into site/
	$(BIN)/mkdocs build --strict

slides: env-dev ## Build the talk's deck into dist/slides/ and serve it on http://127.0.0.1:8002
	$(BIN)/python -m demo.workshop.slides serve --port 8002

slides-pdf: env-dev ## Export the talk's deck to dist/slides.pdf (Debian's Chromium: apt-get install chromium)
	$(BIN)/python -m demo.workshop.slides pdf --out dist/slides.pdf

lab: env-lab ## Open the notebooks in JupyterLab
	@# The notebooks are jupytext .py files: open them as notebooks with a click, not as text.
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp notebooks/jupyterlab-settings.json $(VENV)/share/jupyter/lab/settings/overrides.json
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

benchmark: env ## Cold start, zip size, latency and throughput of both systems -> benchmarks/results/
	$(BIN)/python benchmarks/performance.py

coverage: test ## make test, then its branch coverage by folder (its JSON report) -> benchmarks/results/coverage.json
	$(BIN)/python benchmarks/branch_coverage.py

types: env-dev ## Count what mypy strict checks (0 errors, modules, each ignore's reason) -> benchmarks/results/types.json
	$(BIN)/python benchmarks/type_check.py

mutation: env-dev ## Mutation testing of the domain (demo/bank/, mutmut, ~2 min) -> benchmarks/results/mutation.json
	$(BIN)/python benchmarks/mutation.py

soak: env ## The storm with 10,000 notifications against both systems, 25/s (~8 min) -> benchmarks/results/
	$(BIN)/python benchmarks/storm.py

package: env ## Package STAGE (default dev) for AWS into dist/STAGE/: template and zip, offline
	$(BIN)/bankdemo package --stage $(STAGE)

deploy: env ## Deploy STAGE to AWS: credentials checked, plan shown, asks before creating
	$(BIN)/bankdemo deploy --stage $(STAGE)

destroy: env ## Destroy STAGE on AWS, then list what is left behind
	$(BIN)/bankdemo destroy --stage $(STAGE)

clean: ## Remove the environment, caches and built files
	rm -rf $(VENV) .tools site .pytest_cache .ruff_cache .mypy_cache .hypothesis test-artefacts mutants dist .coverage .coverage.*
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
