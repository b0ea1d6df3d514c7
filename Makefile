# Everything runs from a local virtual environment, created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: install init run test fast-test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# Secret key and database schema (migrations), before the server starts.
init: install
	$(BIN)/flask --app app jericho init

run: init
	$(BIN)/gunicorn --config gunicorn.conf.py app:app

# The fast tests in parallel processes, one per core; then the system tests (real servers,
# browsers, crashes), one at a time, as each loads the machine on its own.
test: fast-test
	$(BIN)/pytest -m system $(PYTEST_ARGS)

fast-test: install
	$(BIN)/pytest -m "not system" -n auto $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
