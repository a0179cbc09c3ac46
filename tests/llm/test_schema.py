"""The answer schema is generated from the loaded rules and the inventory, and our own check of an
answer applies it again, then the rule engine's param types."""

from opsbot.config import Config
from opsbot.parsing.schema import DURATION_PATTERN, MAX_ENUM, check_params, response_format, task_schema, validate


def resolve(schema: dict, node: dict) -> dict:
    if "$ref" in node:
        return schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def branch_with(schema: dict, *names: str) -> dict:
    params = schema["properties"]["params"]
    for branch in params.get("anyOf", [params]):
        if set(names) == set(branch["properties"]):
            return {k: resolve(schema, v) for k, v in branch["properties"].items()}
    raise AssertionError(f"no params branch with exactly {names}")


def test_the_intent_is_an_enum_of_the_candidates_plus_null(rules, config):
    schema = task_schema(rules, config, ["service.restart", "metrics.cpu", "no.such.intent"])
    assert schema["properties"]["intent"]["enum"] == ["service.restart", "metrics.cpu", None]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"]) == {"intent", "params", "confidence"}


def test_params_are_typed_from_the_rules_and_the_inventory(rules, config):
    schema = task_schema(
        rules, config, ["service.restart", "llm.scale", "alerts.list", "metrics.cpu", "metrics.forecast"]
    )
    restart = branch_with(schema, "service", "host")
    assert restart["service"]["enum"] == ["nginx", "api", "postgresql", "redis", "vllm", "llm-gateway", None]
    assert {"web-1", "db-1", "web", "db"} <= set(restart["host"]["enum"]) and None in restart["host"]["enum"]
    scale = branch_with(schema, "deployment", "replicas")
    assert scale["deployment"]["enum"] == ["llama-chat", "reranker", None]
    assert scale["replicas"] == {"type": ["integer", "null"], "minimum": 0, "maximum": 32}
    assert branch_with(schema, "severity")["severity"]["enum"] == ["critical", "warning", "info", None]
    assert branch_with(schema, "host", "window")["window"]["pattern"] == DURATION_PATTERN
    forecast = branch_with(schema, "metric", "host", "deployment", "horizon")
    assert forecast["metric"]["enum"] == ["cpu", "memory", "disk", "requests", None]
    for branch in schema["properties"]["params"]["anyOf"]:
        assert branch["additionalProperties"] is False and set(branch["required"]) == set(branch["properties"])


def test_a_large_inventory_becomes_a_name_pattern_not_an_enum(rules):
    hosts = {f"node-{i}": {"address": "127.0.0.1"} for i in range(MAX_ENUM + 1)}
    schema = task_schema(rules, Config(inventory={"hosts": hosts}), ["process.top"])
    host = branch_with(schema, "host")["host"]
    assert "enum" not in host and host["pattern"].startswith("^")


def test_the_response_format_is_strict_json_schema_json_object_with_the_schema_or_none(rules, config):
    schema = task_schema(rules, config, ["help"])
    strict = response_format(schema, "json_schema")
    assert strict is not None and strict["type"] == "json_schema" and strict["json_schema"]["strict"] is True
    assert strict["json_schema"]["schema"] is schema
    assert response_format(schema, "json_object") == {"type": "json_object", "schema": schema}  # llama-cpp-python
    assert response_format(schema, "grammar") is None  # llama.cpp's own field carries it instead


def test_validation_rejects_what_the_schema_does_not_allow(rules, config):
    schema = task_schema(rules, config, ["service.restart", "process.top"])
    good = {"intent": "service.restart", "params": {"service": "nginx", "host": "web-1"}, "confidence": 0.9}
    assert validate(good, schema) == []
    assert validate({**good, "intent": "shell.exec"}, schema)
    assert validate({**good, "params": {"service": "nginx; rm -rf /", "host": "web-1"}}, schema)
    assert validate({**good, "params": {"service": "nginx", "host": "web-1", "command": "rm -rf /"}}, schema)
    assert validate({**good, "extra": 1}, schema)
    assert validate({"intent": "process.top", "params": {"host": "web-1"}}, schema)  # confidence missing
    assert validate({**good, "confidence": "high"}, schema)


def test_params_are_bound_with_the_rule_engines_types(rules, config):
    values, missing, errors = check_params(rules, config, "metrics.cpu", {"host": "WEB-1", "window": "1h30m"})
    assert (values, missing, errors) == ({"host": "web-1", "window": "90m"}, [], [])
    _, missing, errors = check_params(rules, config, "service.restart", {"service": "nginx", "host": None})
    assert missing == ["host"] and errors == []
    _, _, errors = check_params(rules, config, "llm.scale", {"deployment": "llama-chat", "replicas": 99})
    assert errors and "replicas" in errors[0]
    _, _, errors = check_params(rules, config, "help", {"host": "web-1"})
    assert errors and "takes no param" in errors[0]
    _, _, errors = check_params(rules, config, "service.restart", {"service": "nginx", "host": "web-9"})
    assert errors and "web-9" in errors[0]
