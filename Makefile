# The two commands a newcomer needs: `make run` and `make test`. Both install what they need first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
LAB_BINS := /usr/sbin/sshd /usr/bin/prometheus /usr/bin/prometheus-node-exporter /usr/bin/promtool \
            /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
LAB_PKGS := prometheus prometheus-node-exporter openssh-server fonts-wqy-microhei   # the font: Chinese chart titles

.PHONY: run test bench lab-deps venv clean messages

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

# The lab's Debian packages: installed with apt-get when we are root on Debian, else explained.
lab-deps:
	@missing=""; for b in $(LAB_BINS); do [ -e $$b ] || missing="$$missing $$b"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing the lab's Debian packages ($(LAB_PKGS))"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(LAB_PKGS) >/dev/null; \
	  else \
	    echo "missing:$$missing -- run as root: apt-get install -y $(LAB_PKGS)"; exit 1; \
	  fi; \
	fi

run: venv lab-deps
	$(BIN)/opsbot chat --lab

test: venv lab-deps
	$(BIN)/pytest -q

bench: venv lab-deps
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
