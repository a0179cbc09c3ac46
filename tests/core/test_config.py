"""Config: validated at load, errors name file, line and field; env overrides."""

import pytest

from opsbot.config import ConfigError, load_config


def write(tmp_path, text, name="opsbot.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_the_design_inventory_loads(tmp_path):
    cfg = load_config(
        write(
            tmp_path,
            """
inventory:
  hosts:
    web-1: {address: 10.0.0.11, port: 22, user: ops, groups: [web], services: [nginx, api]}
  deployments:
    llama-chat: {host: web-1, service: vllm}
""",
        )
    )
    assert cfg.inventory.hosts["web-1"].services == ["nginx", "api"]
    assert cfg.inventory.groups() == {"web": ["web-1"]}
    assert "vllm" in cfg.inventory.services()


def test_a_misspelt_field_is_reported_with_file_line_and_field(tmp_path):
    p = write(tmp_path, "inventory:\n  hosts:\n    web-1: {address: 10.0.0.11}\n    web-2: {adress: 10.0.0.12}\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert f"{p}:4" in msg and "inventory.hosts.web-2.adress" in msg and "unknown field" in msg
    assert "inventory.hosts.web-2.address" in msg and "missing" in msg


def test_a_wrong_type_names_the_line(tmp_path):
    p = write(tmp_path, "inventory:\n  hosts:\n    web-1:\n      address: 10.0.0.11\n      port: twenty-two\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert f"{p}:5: inventory.hosts.web-1.port" in str(e.value)


def test_duplicate_keys_are_an_error_not_a_silent_override(tmp_path):
    p = write(tmp_path, "inventory:\n  hosts:\n    web-1: {address: a}\n    web-1: {address: b}\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert f"{p}:4" in str(e.value) and "duplicate key" in str(e.value)


def test_broken_yaml_names_the_line(tmp_path):
    p = write(tmp_path, "inventory:\n  hosts: [\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert str(p) in str(e.value) and "not valid YAML" in str(e.value)


def test_a_deployment_on_an_unknown_host_is_refused(tmp_path):
    p = write(
        tmp_path, "inventory:\n  hosts: {web-1: {address: a}}\n  deployments:\n    chat: {host: gpu-9, service: vllm}\n"
    )
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert "gpu-9" in str(e.value) and f"{p}:" in str(e.value)


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    p = write(tmp_path, "llm:\n  model: from-file\n")
    monkeypatch.setenv("OPSBOT_LLM__MODEL", "from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPSBOT_DATABASE_URL", "sqlite:////tmp/x.db")
    cfg = load_config(p)
    assert cfg.llm.model == "from-env"
    assert cfg.llm.base_url == "http://127.0.0.1:9/v1"
    assert cfg.database_url == "sqlite:////tmp/x.db"


def test_environment_overrides_the_defaults_too_and_in_any_case(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("OPSBOT_CONFIG", raising=False)
    monkeypatch.setenv("opsbot_parser__default", "llm")
    monkeypatch.setenv("OPENAI_MODEL", "from-env")
    cfg = load_config(None)
    assert (cfg.parser.default, cfg.llm.model) == ("llm", "from-env")


def test_a_bad_value_from_the_environment_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSBOT_APPROVAL_TTL", "soon")
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, "llm: {model: m}\n"))
    assert "approval_ttl" in str(e.value)


def test_relative_paths_are_relative_to_the_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir("/")
    p = write(tmp_path, "rules: {dirs: [my-rules]}\nssh: {key_file: keys/id}\n")
    cfg = load_config(p)
    assert cfg.rules.dirs == [tmp_path / "my-rules"]
    assert cfg.ssh.key_file == tmp_path / "keys" / "id"


def test_no_config_file_means_the_embedded_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("OPSBOT_CONFIG", raising=False)
    cfg = load_config(None)
    assert cfg.inventory.hosts == {} and cfg.rules.defaults is True


def test_the_prometheus_host_label_must_be_a_label_name(tmp_path):
    p = write(tmp_path, "prometheus:\n  host_label: 'host\"} or vector(1) #'\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert f"{p}:2: prometheus.host_label" in str(e.value)
