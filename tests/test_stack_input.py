"""Loading the stack input from its three sources, their precedence, and bad input."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import manifest

from percona_pg_operator.errors import (
    CredentialError,
    StackInputError,
)
from percona_pg_operator.manifest import (
    load_stack_input,
    parse_document,
    parse_yaml,
    read_file,
)


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


ALIAS_BOMB = """\
apiVersion: kubernetes.project-planton.org/v1
kind: KubernetesPerconaPostgresOperator
metadata: {name: pg}
spec:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  helmValues: {x: [*g,*g,*g,*g,*g,*g,*g,*g,*g]}
"""


def refused_quickly(text: str, fragment: str, seconds: float = 2.0) -> str:
    start = time.monotonic()
    with pytest.raises(StackInputError) as info:
        parse_yaml(text, "t")
    assert time.monotonic() - start < seconds
    assert fragment in str(info.value)
    return str(info.value)


def test_an_alias_bomb_is_refused_in_bounded_time() -> None:
    refused_quickly(ALIAS_BOMB, "more than 100000 values (YAML aliases count once per use)")


def test_deep_nesting_is_refused_cleanly() -> None:
    refused_quickly("spec: " + "[" * 1500 + "]" * 1500, "nest")
    deep = "spec:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(80)) + "  " * 81 + "v: 1\n"
    refused_quickly(deep, "nested deeper than 64 levels")


def test_huge_inputs_are_refused_by_size() -> None:
    flow = "helmValues: {x: [" + ",".join(["1"] * 3_000_000) + "]}"
    refused_quickly(flow, "larger than 1048576 bytes")
    many = manifest()
    many["metadata"]["labels"] = {f"k{i}": "v" for i in range(20_000)}
    refused_quickly(yaml.safe_dump(many), "more than 10000 keys")


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null", "fifo"])
def test_only_regular_files_are_read(special: str, tmp_path: Path) -> None:
    path = special
    if special == "fifo":
        path = str(tmp_path / "fifo")
        os.mkfifo(path)  # would block forever if opened
    start = time.monotonic()
    with pytest.raises(StackInputError, match="is not a regular file"):
        read_file(path)
    with pytest.raises(StackInputError, match="is not a regular file"):
        load_stack_input(environ={"STACK_INPUT_YAML_FILE": path})
    doc = {"target": manifest(), "providerConfig": {"kubeconfig": {"path": path}}}
    with pytest.raises(CredentialError, match="is not a regular file"):
        from percona_pg_operator.cluster import cluster_credentials

        cluster_credentials(parse_document(doc, "t").provider_config, {})
    assert time.monotonic() - start < 2


def test_a_file_over_a_mebibyte_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (1024 * 1024) + "\n")
    with pytest.raises(StackInputError, match="larger than 1048576 bytes"):
        read_file(big)


def test_duplicate_keys_are_an_error_not_the_last_one_silently() -> None:
    text = yaml.safe_dump(manifest()) + "metadata: {name: other}\n"
    refused_quickly(text, "found the key 'metadata' twice in one mapping")


def test_a_value_that_looks_like_a_yaml_tag_is_never_echoed() -> None:
    text = (
        "target: {apiVersion: kubernetes.project-planton.org/v1, "
        "kind: KubernetesPerconaPostgresOperator, metadata: {name: pg}}\n"
        "providerConfig:\n  azureAks:\n    clientSecret: !Sup3rS3cretValue\n"
    )
    message = refused_quickly(text, "an unknown tag (quote the value if it is text)")
    assert "Sup3rS3cret" not in message


def test_yaml_errors_quote_nothing_from_the_input() -> None:
    text = "target:\n  token: 'hunter2-secret\n  other: x"
    with pytest.raises(StackInputError) as info:
        parse_yaml(text, "t")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("when: 2026-01-01", "is a date"),
        ("blob: !!binary aGVsbG8=", "is a bytes"),
        ("s: !!set {a, b}", "spec.helmValues.s: a YAML set (!!set) is not a list"),
        ("? [1, 2]\n: x", "unhashable"),
        ("1: one", "spec.helmValues: the key '1' is not a string: quote it"),
        ("m:\n  1: one", "spec.helmValues.m: the key '1' is not a string: quote it"),
    ],
)
def test_raw_values_must_be_json(text: str, fragment: str) -> None:
    raw = (
        yaml.safe_dump(manifest())
        + "  helmValues:\n"
        + "".join(f"    {line}\n" for line in text.splitlines())
    )
    raw = raw.replace("spec: {}\n", "spec:\n")
    with pytest.raises(StackInputError) as info:
        parse_yaml(raw, "t")
    assert fragment in str(info.value)


def test_a_big_bad_value_is_shown_as_a_short_excerpt() -> None:
    doc = manifest(namespace={"value": "x" * 100_000})
    with pytest.raises(StackInputError) as info:
        parse_document(doc, "t")
    assert len(str(info.value)) < 600


def load_text(text: str) -> Any:
    return load_stack_input(environ={"STACK_INPUT_YAML": text}, config_value=lambda: None)


def test_a_yaml_set_is_not_a_list() -> None:
    text = yaml.safe_dump({"target": manifest()}) + "extra: !!set {a, b}\n"
    with pytest.raises(StackInputError, match=r"a YAML set \(!!set\) is not a list"):
        load_text(text)


def test_a_yaml_1_1_boolean_key_is_named_as_such() -> None:
    text = yaml.safe_dump({"target": manifest()}).replace("spec: {}", "spec:\n    on: x")
    assert "on: x" in text
    with pytest.raises(StackInputError) as info:
        load_text(text)
    message = str(info.value)
    assert "read as the boolean true" in message and "YAML 1.1" in message
    assert 'quote it, e.g. "on":' in message


@pytest.mark.parametrize(
    ("where", "typo", "meant"),
    [
        ((), "createNamespce", "createNamespace"),
        (("helm",), "verison", "version"),
        (("container", "resources"), "limit", "limits"),
    ],
)
def test_an_unknown_field_names_the_closest_known_one(
    where: tuple[str, ...], typo: str, meant: str
) -> None:
    spec: dict[str, object] = {"namespace": "ns"}
    node = spec
    for key in where:
        node = node.setdefault(key, {})  # type: ignore[assignment]
    node[typo] = "x"
    with pytest.raises(StackInputError) as info:
        parse_document(manifest(**spec), "t")
    (problem,) = info.value.problems
    assert problem.path == ".".join(("spec", *where, typo))
    assert problem.message == f"unknown field (did you mean {meant!r}?)"


def test_an_unknown_field_like_no_known_one_asks_to_check_its_spelling() -> None:
    with pytest.raises(StackInputError) as info:
        parse_document({"target": manifest(zzzzzz=1)}, "t")
    assert [p.message for p in info.value.problems] == ["unknown field (check its spelling)"]


def test_a_tab_says_yaml_indents_with_spaces() -> None:
    text = yaml.safe_dump(manifest(namespace="ns")).replace("  namespace", "\tnamespace")
    with pytest.raises(StackInputError, match="a tab; YAML indents with spaces only"):
        parse_yaml(text, "f.yaml")


def test_an_unquoted_version_says_to_quote_it() -> None:
    text = yaml.safe_dump(manifest(helm={"version": "VERSION"})).replace("VERSION", "3.0")
    with pytest.raises(StackInputError) as info:
        parse_yaml(text, "f.yaml")
    (problem,) = info.value.problems
    assert problem.path == "spec.helm.version"
    assert problem.message.endswith('quote it, e.g. "3.0.0"'), problem.message


def test_the_problems_inside_a_misspelled_block_come_in_the_same_pass() -> None:
    spec = {"namespace": "ns", "contaner": {"resources": {"limits": {"memry": "1Gi"}}}}
    with pytest.raises(StackInputError) as info:
        parse_document(manifest(**spec), "t")
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("spec.contaner", "unknown field (did you mean 'container'?)"),
        ("spec.contaner.resources.limits.memry", "unknown field (did you mean 'memory'?)"),
    ]


def test_inside_a_misspelled_credentials_block_no_value_is_shown() -> None:
    secret = "s3cr3t-token-value"
    doc = {
        "target": manifest(namespace="ns"),
        "providerConfg": {"provider": "kubeconfig", "kubeconfig": {"content": 42, "x": secret}},
    }
    with pytest.raises(StackInputError) as info:
        parse_document(doc, "t")
    inside = [p for p in info.value.problems if p.path.startswith("providerConfg.")]
    assert inside, info.value.problems
    assert all(p.value is None for p in inside)
    assert secret not in str(info.value)
