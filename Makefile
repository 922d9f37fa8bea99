# Two commands do all set-up on a fresh machine that has only Python and make:
#   make demo   create .venv when missing, install, run the main job on the embedded default
#   make test   same set-up, then lint, architecture checks, type checks (mypy) and the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
STAMP  := $(VENV)/.installed

.PHONY: demo test install lint lock clean bench

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	@$(UV) pip install --quiet --python $(PY) -r requirements.lock
	@$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@# Test-only oracle whose metadata pins pandas<2; its code runs on the locked pandas.
	@$(UV) pip install --quiet --python $(PY) --no-deps "gbstats==0.8.0"
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/aftersales demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest -n 2 --dist loadgroup

# Re-resolve the locked dependency set (needs the package index).
lock:
	$(UV) pip compile pyproject.toml --extra dev --extra spark --python-version 3.11 --quiet -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache aftersales.db aftersales.db-wal aftersales.db-shm demo-store
