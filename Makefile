# The two commands: `make demo` and `make test`. Each sets up what it needs on a fresh Debian
# machine with Python 3.11: redis-server (apt-get, as root or through sudo) and .venv.
PYTHON ?= python3
VENV := .venv
INSTALLED := $(VENV)/.installed

.PHONY: demo test bench bench-peers bench-http lint redis-server test-tools

demo: redis-server $(INSTALLED)
	$(VENV)/bin/dynoq demo

test: redis-server test-tools $(INSTALLED)
	$(VENV)/bin/pytest

bench: redis-server $(INSTALLED)
	$(VENV)/bin/python benchmarks/queue_throughput.py

bench-peers: redis-server $(INSTALLED)
	$(VENV)/bin/pip install --quiet -e '.[dev,bench]'
	$(VENV)/bin/python -m benchmarks run

bench-http: redis-server $(INSTALLED)
	$(VENV)/bin/python benchmarks/http_api.py

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

redis-server:
	@if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "redis-server is missing and this user cannot install it: run 'apt-get install redis-server redis-tools' as root" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null; \
	fi

# What tests/deploy runs for real: promtool and Prometheus, docker-compose's config check.
test-tools:
	@if ! command -v promtool >/dev/null 2>&1 || ! command -v docker-compose >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus docker-compose >/dev/null; \
	fi

$(INSTALLED): pyproject.toml
	@if ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv >/dev/null; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@
