# Every target bootstraps .venv/ from the lock file; only Python 3.11+ and make are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EUM := src/standoff/bargaining/eum
# the EUM kernel compiled ahead of time (native.py), rebuilt when its sources change
NATIVE := $(EUM)/_native.json

.PHONY: forecast test lint bench lock clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q src
	$(BIN)/python -m standoff.bargaining.eum.warm
	@touch $(STAMP)

$(NATIVE): $(STAMP) $(addprefix $(EUM)/,kernel.py kernel_args.py constants.py equations.py native.py native_build.py)
	$(BIN)/python -m standoff.bargaining.eum.native_build

forecast: $(STAMP) $(NATIVE)
	$(BIN)/standoff forecast

test: $(STAMP) $(NATIVE)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

bench: $(STAMP) $(NATIVE)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Regenerate the lock after changing dependencies in pyproject.toml.
lock:
	$(PYTHON) -m venv /tmp/standoff-lock-venv
	/tmp/standoff-lock-venv/bin/pip install --quiet pip-tools
	/tmp/standoff-lock-venv/bin/pip-compile --quiet --extra dev --allow-unsafe --generate-hashes \
		--strip-extras -o requirements.lock pyproject.toml requirements-build.in

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
	rm -f $(EUM)/_native*
