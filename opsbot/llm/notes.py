"""Why the LLM was not used, in a few words a person reads (LLMFailure.kind -> phrase)."""

from __future__ import annotations

from opsbot.i18n import N_, _

NOTES = {
    "timeout": N_("the LLM did not answer in time"),
    "server": N_("the LLM server kept failing"),
    "unreachable": N_("the LLM server is unreachable"),
    "refused": N_("the LLM server refused the request"),
    "format": N_("the LLM server refused the structured-output format"),
    "answer": N_("the LLM's answer was unusable"),
    "unconfigured": N_("no LLM is configured"),
    "uncited": N_("the LLM's answer cited no section it was given"),
}


def why_not_used(kind: str | None) -> str:
    return _(NOTES.get(str(kind), NOTES["answer"]))
