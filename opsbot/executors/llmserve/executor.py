"""The `llmserve` executor: LLM deployments on Ray Serve with MLflow's Model Registry, over HTTP only.
One function per `kind:`; an engine that does not answer becomes one sentence (EngineError)."""

from __future__ import annotations

from opsbot.config import Config
from opsbot.core.action import Action, ExecutionContext
from opsbot.core.reply import Reply
from opsbot.executors.fields import LLMServeFields, read_fields
from opsbot.executors.llmserve import capacity, changes, history, registry_views, status
from opsbot.i18n import _
from opsbot.serving.http import EngineError


class LLMServeExecutor:
    name = "llmserve"

    def __init__(self, config: Config):
        self.config = config

    def run(self, action: Action, ctx: ExecutionContext) -> Reply:
        fields = read_fields(LLMServeFields, action)
        c = self.config
        try:
            if fields.kind == "models":
                return registry_views.models(c, action)
            if fields.kind == "versions":
                return registry_views.versions(c, action)
            if fields.kind == "compare":
                return registry_views.compare(c, action)
            if fields.kind == "history":
                return history.history(c, action, ctx)
            if fields.kind == "deploy":
                return changes.deploy(c, action, ctx)
            if fields.kind == "rollback":
                return changes.rollback(c, action, ctx)
            if fields.kind == "scale":
                return changes.scale(c, action, ctx)
            if fields.kind == "retire":
                return changes.retire(c, action, ctx)
            if fields.kind == "status":
                return status.status(c, action)
            return capacity.capacity(c, action, fields)
        except EngineError as e:
            return Reply.error(_("{problem} Nothing was changed.").format(problem=e))
