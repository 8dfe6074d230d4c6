# StockFlow: `make run` serves the demo on SQLite; `make test` runs lint and the whole suite
# on SQLite and on PostgreSQL.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install run serve test lint format migrate demo bench-data clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

run: install
	PORT=$(PORT) bash scripts/run.sh

# Production on PostgreSQL (README, section Production): settings from the environment.
serve: install
	bash scripts/serve.sh

test: install
	bash scripts/test.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: install
	DEBUG=1 $(BIN)/python manage.py migrate

demo: migrate
	DEBUG=1 $(BIN)/python manage.py demo

clean:
	rm -rf var .pytest_cache .ruff_cache

# Benchmarks (bench/README.md): `make bench-data SIZE=M` loads the dataset of one size into its
# own PostgreSQL database; `make bench SIZE=M` runs the write, report and product benchmarks.
SIZE ?= S
.PHONY: bench bench-setup bench-notify

bench-setup: install
	bash bench/setup.sh

bench-data: bench-setup
	$(BIN)/python -m bench.dataset --size $(SIZE)

bench: bench-setup
	$(BIN)/python -m bench.run alerts --sizes $(SIZE)
	$(BIN)/python -m bench.run writes --size $(SIZE)
	$(BIN)/python -m bench.run products --size $(SIZE)

# Webhooks and the worker: sales with and without endpoints, event latency, deliveries/s.
bench-notify: bench-setup
	$(BIN)/python -m bench.notify

