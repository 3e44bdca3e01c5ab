"""The two things the mock harness takes from outside Pulumi's public testing API, checked.

If a Pulumi release changes either, these tests fail first and say what to update in
``tests/pulumi_harness.py``, instead of every component test failing obscurely.
"""

from __future__ import annotations

import inspect

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi_harness import RecordingMocks, run_pulumi

FIX = "Pulumi changed its mock internals: update tests/pulumi_harness.py"


class _Parent(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("test:index:Parent", name, {}, None)
        first = pulumi.CustomResource("test:index:Thing", f"{name}-a", {"x": 1}, None)
        self.child = pulumi.CustomResource(
            "test:index:Thing",
            f"{name}-b",
            {"secret": pulumi.Output.secret("s")},
            pulumi.ResourceOptions(
                parent=self,
                depends_on=[first],
                retain_on_delete=True,
                aliases=[pulumi.Alias(name="old-b", parent=pulumi.ROOT_STACK_RESOURCE)],
                transforms=[lambda args: None],
            ),
        )
        self.register_outputs({})


def test_the_public_hooks_the_harness_uses_exist() -> None:
    assert "monitor" in inspect.signature(pulumi.runtime.set_mocks).parameters, FIX
    assert "logger" in inspect.signature(pulumi.runtime.set_mocks).parameters, FIX
    assert callable(getattr(MockMonitor, "RegisterResource", None)), FIX
    assert "transforms" in inspect.signature(pulumi.runtime.MockResourceArgs).parameters, FIX


def test_the_register_request_still_carries_what_the_harness_reads() -> None:
    run = run_pulumi(lambda: _Parent("p"))
    parent = run.one("test:index:Parent")
    first, child = run.of_type("test:index:Thing")
    assert child.parent == parent.urn, FIX + " (RegisterResourceRequest.parent)"
    assert first.urn in child.dependencies, FIX + " (RegisterResourceRequest.dependencies)"
    assert child.retain_on_delete, FIX + " (RegisterResourceRequest.retainOnDelete)"
    assert child.is_secret("secret"), FIX + " (secret signature in RegisterResourceRequest)"
    assert child.aliases, FIX + " (RegisterResourceRequest.aliases)"
    assert len(child.transforms) == 1, FIX + " (MockResourceArgs.transforms)"


def test_exports_are_read_from_the_root_stack_and_do_not_leak_between_runs() -> None:
    run = run_pulumi(lambda: pulumi.export("answer", pulumi.Output.from_input(42)))
    assert run.stack_outputs == {"answer": 42}, FIX + " (Stack.outputs)"
    assert run_pulumi(lambda: None).stack_outputs == {}, FIX + " (root stack reused)"


def test_what_the_program_logs_reaches_the_mock_engines_logger() -> None:
    run = run_pulumi(lambda: pulumi.log.warn("careful"))
    assert run.logged("WARNING") == ["careful"], FIX + " (MockEngine.Log -> logger)"


def test_a_failing_program_raises_and_keeps_what_it_registered() -> None:
    mocks = RecordingMocks()

    def program() -> None:
        pulumi.CustomResource("test:index:Thing", "before", {}, None)
        raise ValueError("boom")

    try:
        run_pulumi(program, mocks)
    except ValueError as exc:
        assert str(exc) == "boom"
    else:
        raise AssertionError("the program's error was swallowed")
    assert [r.name for r in mocks.registrations] == ["before"]
