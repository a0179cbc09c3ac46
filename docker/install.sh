#!/bin/sh
# Install opsbot from a built wheel into a fresh virtualenv: install.sh VENV WHEEL_DIR
# The Dockerfile runs this; tests/deploy runs it too (PYTHON= picks the interpreter), then starts the
# installed `opsbot serve`.
set -eu
venv="$1"
wheels="$2"
"${PYTHON:-python3}" -m venv "$venv"
# PIP_OPTIONS: the image keeps no pip cache (the default); the tests let pip reuse its cache.
"$venv/bin/python" -m pip install ${PIP_OPTIONS---no-cache-dir} --quiet --upgrade pip
"$venv/bin/python" -m pip install ${PIP_OPTIONS---no-cache-dir} --quiet "$wheels"/opsbot-*.whl
"$venv/bin/opsbot" --version
