# The two commands: `make demo` and `make test`. Each sets up what it needs on a fresh Debian
# machine with Python 3.11: redis-server (apt-get, as root or through sudo) and .venv.
PYTHON ?= python3
VENV := .venv
INSTALLED := $(VENV)/.installed
# Conductor's JavaScript SDK for tests/conductor (node and npm from Debian when missing)
JS_DIR := tests/conductor/js
JS_SDK := $(JS_DIR)/node_modules/.package-lock.json

.PHONY: demo test bench bench-peers bench-http bench-ui lint redis-server test-tools graphviz chromium js-sdk

demo: redis-server graphviz $(INSTALLED)
	$(VENV)/bin/dynoq demo

# the UI's browser tests drive Debian's chromium (never a browser download) and draw with dot
test: redis-server test-tools graphviz chromium $(INSTALLED) $(JS_SDK)
	$(VENV)/bin/pytest

bench: redis-server $(INSTALLED)
	$(VENV)/bin/python benchmarks/queue_throughput.py

bench-peers: redis-server $(INSTALLED)
	$(VENV)/bin/pip install --quiet -e '.[dev,bench]'
	$(VENV)/bin/python -m benchmarks run

bench-http: redis-server $(INSTALLED)
	$(VENV)/bin/python benchmarks/http_api.py

bench-ui: redis-server graphviz $(INSTALLED)
	$(VENV)/bin/python benchmarks/ui_pages.py

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

redis-server:
	@if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "redis-server is missing and this user cannot install it: run 'apt-get install redis-server redis-tools' as root" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null; \
	fi

# apt-get install $(1) when command $(2) is missing (as root, or through sudo)
define apt_install
	@if ! command -v $(2) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "$(2) is missing and this user cannot install it: run 'apt-get install $(1)' as root" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(1) >/dev/null; \
	fi
endef

graphviz:
	$(call apt_install,graphviz,dot)

chromium:
	$(call apt_install,chromium fonts-dejavu-core,chromium)

# What tests/deploy runs for real: promtool and Prometheus, docker-compose's config check.
test-tools:
	$(call apt_install,prometheus,promtool)
	$(call apt_install,docker-compose,docker-compose)

$(INSTALLED): pyproject.toml
	@if ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv >/dev/null; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

js-sdk: $(JS_SDK)

$(JS_SDK): $(JS_DIR)/package.json $(JS_DIR)/package-lock.json
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "node/npm are missing and this user cannot install them: run 'apt-get install nodejs npm' as root" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; \
	fi
	cd $(JS_DIR) && npm ci --legacy-peer-deps --no-audit --no-fund --loglevel=error
