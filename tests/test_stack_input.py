"""Loading the stack input from its three sources, their precedence, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import manifest

from percona_pg_operator.errors import StackInputError
from percona_pg_operator.manifest import load_stack_input


def doc(ns: str) -> str:
    return yaml.safe_dump(manifest(namespace=ns))


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "stack-input.yaml"
    path.write_text(text)
    return str(path)


def test_from_pulumi_config() -> None:
    loaded = load_stack_input(config_value=lambda: doc("from-config"), environ={})
    assert loaded.target.spec.namespace == "from-config"


def test_from_env_yaml() -> None:
    loaded = load_stack_input(environ={"STACK_INPUT_YAML": doc("from-env")})
    assert loaded.target.spec.namespace == "from-env"


def test_from_env_file(tmp_path: Path) -> None:
    env = {"STACK_INPUT_YAML_FILE": write(tmp_path, doc("from-file"))}
    assert load_stack_input(environ=env).target.spec.namespace == "from-file"


def test_precedence_config_then_yaml_then_file(tmp_path: Path) -> None:
    env = {
        "STACK_INPUT_YAML": doc("from-env"),
        "STACK_INPUT_YAML_FILE": write(tmp_path, doc("from-file")),
    }
    assert load_stack_input(lambda: doc("from-config"), env).target.spec.namespace == (
        "from-config"
    )
    assert load_stack_input(lambda: None, env).target.spec.namespace == "from-env"
    del env["STACK_INPUT_YAML"]
    assert load_stack_input(lambda: None, env).target.spec.namespace == "from-file"


def test_the_source_used_is_named_when_another_also_gives_one(tmp_path: Path) -> None:
    """Before: config set and STACK_INPUT_YAML_FILE pointing at another manifest previewed with
    no word that the file was ignored."""
    warned: list[str] = []
    env = {"STACK_INPUT_YAML_FILE": write(tmp_path, doc("from-file"))}
    loaded = load_stack_input(lambda: doc("from-config"), env, warn=warned.append)
    assert loaded.target.spec.namespace == "from-config"
    (message,) = warned
    assert "comes from Pulumi config planton-cloud:stack-input" in message
    assert "env STACK_INPUT_YAML_FILE also gives one, ignored" in message


def test_one_source_warns_nothing(tmp_path: Path) -> None:
    warned: list[str] = []
    load_stack_input(lambda: None, {"STACK_INPUT_YAML": doc("x")}, warn=warned.append)
    assert warned == []


def test_none_present_names_all_three() -> None:
    with pytest.raises(StackInputError) as info:
        load_stack_input(lambda: None, {})
    message = str(info.value)
    for source in ("planton-cloud:stack-input", "STACK_INPUT_YAML ", "STACK_INPUT_YAML_FILE"):
        assert source in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("   \n", "is empty"),
        ("target: [unclosed", r"not valid YAML at line \d+, column \d+"),
        ("- a\n- b\n", "a list, not a mapping"),
        ("just a string", "a str, not a mapping"),
        ("~", "is empty"),
    ],
)
def test_bad_yaml(text: str, fragment: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(StackInputError, match=fragment):
        load_stack_input(
            environ={"STACK_INPUT_YAML": text or " "}
            if text
            else {"STACK_INPUT_YAML_FILE": str(empty)}
        )


def test_missing_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(StackInputError, match="no such file"):
        load_stack_input(environ={"STACK_INPUT_YAML_FILE": str(tmp_path / "nope.yaml")})


def test_yaml_error_does_not_quote_the_document() -> None:
    secret = "token: s3cr3t-value\n  bad: [indent"
    with pytest.raises(StackInputError) as info:
        load_stack_input(environ={"STACK_INPUT_YAML": secret})
    assert "s3cr3t" not in str(info.value)
