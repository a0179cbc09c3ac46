# The two commands a newcomer needs: `make run` and `make test`. Both install what they need first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
LAB_PKGS := prometheus prometheus-node-exporter prometheus-alertmanager openssh-server fonts-wqy-microhei   # the font: Chinese chart titles
LAB_BINS := /usr/sbin/sshd /usr/bin/prometheus /usr/bin/prometheus-node-exporter /usr/bin/promtool /usr/bin/prometheus-alertmanager
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
LAB_READY := for b in $(LAB_BINS); do [ -x $$b ] || exit 1; done; [ -e $(CJK_FONT) ]
# PostgreSQL's server: the suite starts a throwaway one from it when no PostgreSQL answers.
PG_PKGS  := postgresql
PG_READY := ls /usr/lib/postgresql/*/bin/initdb
STRESS_CPUS ?= 2

.PHONY: run test test-fast test-stress lint bench lab-deps pg-deps venv clean messages

# The message catalogs, compiled for a checkout (a wheel gets them from hatch_build.py).
PO := $(wildcard opsbot/i18n/locale/*/LC_MESSAGES/*.po)
MO := $(PO:.po=.mo)

venv: $(STAMP) $(MO)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After adding or changing user-visible strings: extract them (code and rule packs) and merge them into
# every locale's .po; then translate the new entries (tests/i18n lists any left untranslated).
messages: venv
	mkdir -p build
	$(BIN)/pybabel extract -F pyproject.toml -k N_ --no-location --no-wrap --sort-output --project opsbot -o build/opsbot.pot .
	$(BIN)/pybabel update -i build/opsbot.pot -d opsbot/i18n/locale -D opsbot --no-wrap --no-fuzzy-matching --ignore-obsolete

# Re-install when the dependencies change.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# apt_need(packages, check): unless `check` (shell) succeeds, install the Debian packages with apt-get
# when we are root on Debian, else say what to install.
define apt_need
	@if ! ( $(2) ) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages: $(1)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(1) >/dev/null; \
	  else \
	    echo "missing Debian packages: $(1) -- run as root: apt-get install -y $(1)"; exit 1; \
	  fi; \
	fi
endef

lab-deps:
	$(call apt_need,$(LAB_PKGS),$(LAB_READY))

pg-deps:
	$(call apt_need,$(PG_PKGS),$(PG_READY))

run: venv lab-deps
	$(BIN)/opsbot chat --lab

# Everything: the lab, Prometheus, PostgreSQL (a throwaway server when none answers), the local servers.
test: venv lab-deps pg-deps
	$(BIN)/pytest -q

# ruff (lint and format check) and mypy, as configured in pyproject.toml; .pre-commit-config.yaml runs the same.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The specs that need no lab and no server (well under a minute); no Debian packages needed.
test-fast: venv
	$(BIN)/pytest -q -m "not slow"

# The whole suite while stress-ng keeps the cores busy, as on a loaded CI machine.
test-stress: venv lab-deps pg-deps
	$(call apt_need,stress-ng,command -v stress-ng)
	@stress-ng --cpu $(STRESS_CPUS) --timeout 2h --quiet & stress=$$!; \
	$(BIN)/pytest -q; status=$$?; kill $$stress; wait $$stress; exit $$status

bench: venv lab-deps
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
