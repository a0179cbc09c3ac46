"""docker/Dockerfile without a Docker engine: hadolint finds nothing, every path it copies exists in
the build context (and .dockerignore keeps it), and the image runs `opsbot serve` as a non-root user
with a health check on /health."""

from __future__ import annotations

import fnmatch
import re
import subprocess

from deploy_helpers import DOCKER, ROOT, tool

DOCKERFILE = DOCKER / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_hadolint_has_no_warnings():
    done = subprocess.run(
        [tool("hadolint"), "--failure-threshold", "style", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr


def copied_sources() -> list[str]:
    sources = []
    for word, args in instructions():
        if word == "COPY" and "--from=" not in args:
            *srcs, _dest = [a for a in args.split() if not a.startswith("--")]
            sources += srcs
    return sources


def test_every_copied_path_exists_and_is_not_ignored():
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = copied_sources()
    assert {"pyproject.toml", "opsbot", "rules", "prompts", "docker/install.sh"} <= set(sources)
    for src in sources:
        assert (ROOT / src).exists(), f"COPY {src}: not in the build context"
        assert not any(fnmatch.fnmatch(src, pattern) for pattern in ignored), f"COPY {src} is in .dockerignore"


def test_the_image_serves_as_a_non_root_user_with_a_health_check():
    final = instructions()[max(i for i, (w, _) in enumerate(instructions()) if w == "FROM") :]
    words = dict(final)  # the last of each instruction in the final stage
    assert words["USER"].split(":")[0] not in ("root", "0")
    assert words["ENTRYPOINT"] == '["opsbot", "serve"]'
    assert "/health" in words["HEALTHCHECK"]
    assert any(w == "RUN" and "opsbot-install" in a for w, a in final)  # the script tests/deploy runs too
