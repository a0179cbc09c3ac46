# The two commands a newcomer needs: `make run` and `make test`. Both install what they need first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
LAB_BINS := /usr/sbin/sshd /usr/bin/prometheus /usr/bin/prometheus-node-exporter /usr/bin/promtool
LAB_PKGS := prometheus prometheus-node-exporter openssh-server

.PHONY: run test test-fast bench lab-deps venv clean

venv: $(STAMP)

# Re-install when the dependencies change.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The lab's Debian packages: installed with apt-get when we are root on Debian, else explained.
lab-deps:
	@missing=""; for b in $(LAB_BINS); do [ -x $$b ] || missing="$$missing $$b"; done; \
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

# The specs that need no lab and no server (well under a minute); no Debian packages needed.
test-fast: venv
	$(BIN)/pytest -q -m "not slow"

bench: venv lab-deps
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
