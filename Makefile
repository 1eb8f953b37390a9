# The two commands of a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Runtime install: the package and its pinned dependencies.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

# Test install: adds the real clients the tests drive (boto3, the AWS CLI) and pytest.
$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e ".[test]"
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e ".[bench]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/gureum start

# The JavaScript SDK's packages for tests/integration/test_s3_js.py, when node is there.
tests/js/node_modules/.installed: tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then cd tests/js && npm ci --no-audit --no-fund --silent && \
		touch node_modules/.installed; else echo "npm not found: the JavaScript SDK tests will be skipped"; fi

test: $(VENV)/.installed-test tests/js/node_modules/.installed
	sh tests/install-browser.sh
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
