"""The Pulumi program file (``__main__.py``, named by Pulumi.yaml) run under mocks."""

from __future__ import annotations

import runpy
from typing import Any

import pytest
import yaml
from conftest import ROOT, manifest
from pulumi_harness import RELEASE_TYPE, RecordingMocks, run_pulumi

from percona_pg_operator.deploy.program import run as program_run


def test_pulumi_yaml_names_the_program() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert (ROOT / project["main"]).is_file()


def test_program_exports_namespace_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = manifest(namespace="pg-ops", helm={"manageCrds": False})
    monkeypatch.setenv("STACK_INPUT_YAML", yaml.safe_dump(doc))
    program = ROOT / yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["main"]
    run = run_pulumi(
        lambda: runpy.run_path(str(program), run_name="__main__"),
        RecordingMocks(app_version="3.0.0"),
    )
    assert run.stack_outputs["namespace"] == "pg-ops"
    assert run.stack_outputs["release_name"] == "pg-op"
    assert run.stack_outputs["chart_version"] == "3.0.0"
    assert run.one(RELEASE_TYPE).inputs["namespace"] == "pg-ops"


def test_program_reads_pulumi_config_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACK_INPUT_YAML", yaml.safe_dump(manifest(namespace="from-env")))
    config = {
        "planton-cloud:stack-input": yaml.safe_dump(
            manifest(namespace="from-config", helm={"manageCrds": False})
        )
    }
    from percona_pg_operator.deploy.program import run as program

    run = run_pulumi(program, config=config)
    assert run.stack_outputs["namespace"] == "from-config"


def test_bad_stack_input_stops_with_a_plain_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi

    from percona_pg_operator.deploy.program import run as program

    monkeypatch.setenv("STACK_INPUT_YAML", yaml.safe_dump(manifest(namespace="Bad_NS")))
    with pytest.raises(pulumi.RunError, match=r"spec\.namespace"):
        run_pulumi(program)


def test_no_stack_input_names_the_sources() -> None:
    import pulumi

    from percona_pg_operator.deploy.program import run as program

    with pytest.raises(pulumi.RunError, match="STACK_INPUT_YAML_FILE"):
        run_pulumi(program)


def _broken_observe(*_: object, **__: object) -> None:
    raise KeyError("a bug")


def test_an_internal_error_is_one_line_and_the_traceback_comes_on_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pulumi

    from percona_pg_operator.deploy import component
    from percona_pg_operator.deploy import program as module

    monkeypatch.setenv("STACK_INPUT_YAML", yaml.safe_dump(manifest()))
    monkeypatch.setattr(component, "observe", _broken_observe)
    with pytest.raises(pulumi.RunError) as info:
        run_pulumi(module.run)
    message = str(info.value)
    assert "internal error (KeyError: 'a bug'); this is a bug" in message
    assert "PERCONA_PG_OPERATOR_DEBUG=1" in message and "\n" not in message
    monkeypatch.setenv("PERCONA_PG_OPERATOR_DEBUG", "1")
    with pytest.raises(KeyError, match="a bug"):
        run_pulumi(module.run)


def test_the_last_outputs_are_read_without_a_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    """A StackReference to the stack itself would sit in the state with the outputs from before
    the update, and every `pulumi refresh` would then report it changed (seen on the real
    engine): the program reads them with the engine's invoke and registers nothing for it."""
    from pulumi_harness import STACK_REFERENCE_TYPE

    from percona_pg_operator.deploy.program import run as program

    doc = manifest(namespace="pg-ops", helm={"version": "2.9.0"})
    monkeypatch.setenv("STACK_INPUT_YAML", yaml.safe_dump(doc))
    mocks = RecordingMocks(previous_outputs={"namespace": "pg-ops", "chart_version": "2.9.0"})
    run = run_pulumi(program, mocks)
    assert run.of_type(RELEASE_TYPE), "the program ran"
    assert not run.of_type(STACK_REFERENCE_TYPE)


@pytest.mark.parametrize(
    ("running", "target", "reason"),
    [
        ("2.8.2", "3.0.0", r"skips a minor"),
        ("2.9.0", "3.0.0", r"is irreversible"),
        ("3.0.0", "2.9.0", r"is a downgrade"),
    ],
)
def test_a_refused_step_registers_nothing_at_all(
    monkeypatch: pytest.MonkeyPatch, running: str, target: str, reason: str
) -> None:
    """Not the provider, not the namespace: a refused `up` must change nothing (seen on the
    real engine: the guard used to decide only after both were registered)."""
    doc = manifest(namespace="pg-ops", createNamespace=True, helm={"version": target})
    monkeypatch.setenv("STACK_INPUT_YAML", yaml.safe_dump(doc))
    mocks = RecordingMocks(previous_outputs={"namespace": "pg-ops", "chart_version": running})
    with pytest.raises(Exception, match=reason):
        run_pulumi(program_run, mocks)
    assert not [r.type for r in mocks.registrations if r.custom]


class FlakyBackend(RecordingMocks):
    """The backend's read of the stack's own checkpoint fails ``failures`` times first."""

    def __init__(self, failures: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.failures = failures
        self.reads = 0

    def call(self, args: Any) -> dict[str, Any]:
        if args.token == "pulumi:pulumi:readStackOutputs":
            self.reads += 1
            if self.reads <= self.failures:
                raise RuntimeError("failed to load checkpoint: EOF")
        return super().call(args)


def test_a_read_of_the_last_outputs_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from percona_pg_operator.deploy import program

    monkeypatch.setattr(program, "READ_STACK_OUTPUTS_BACKOFF_SECONDS", 0)
    monkeypatch.setenv("STACK_INPUT_YAML", yaml.safe_dump(manifest(namespace="pg-ops")))
    mocks = FlakyBackend(2, previous_outputs={"namespace": "pg-ops", "chart_version": "2.9.0"})
    # The third read says 2.9.0 runs: the guard refuses the irreversible step it now sees.
    with pytest.raises(Exception, match=r"2\.9\.0 -> 3\.0\.0 is irreversible"):
        run_pulumi(program.run, mocks)
    assert mocks.reads == 3


def test_a_backend_that_never_answers_stops_with_a_plain_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pulumi

    from percona_pg_operator.deploy import program

    monkeypatch.setattr(program, "READ_STACK_OUTPUTS_BACKOFF_SECONDS", 0)
    monkeypatch.setenv("STACK_INPUT_YAML", yaml.safe_dump(manifest(namespace="pg-ops")))
    mocks = FlakyBackend(99)
    with pytest.raises(pulumi.RunError, match=r"cannot read this stack's last outputs.*EOF"):
        run_pulumi(program.run, mocks)
    assert mocks.reads == program.READ_STACK_OUTPUTS_TRIES
    assert not [r for r in mocks.registrations if r.custom], "nothing registered"
