from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
# The official Percona pg-operator chart packages and their index, vendored (Apache-2.0, see the
# LICENSE beside them), so that every clone can run every test.
FIXTURE_REPO = ROOT / "tests" / "fixtures" / "helm-repo"
CHART_VERSIONS = ["2.7.0", "2.8.2", "2.9.0", "3.0.0"]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's stack input, kube context, mirror or chart cache.

    Charts come from the vendored repository (a test that needs another sets its own): the
    program verifies and stages the package on every run, and there is no network here. The
    program's live preflight is off unless a test turns it on against the local API server
    (tests/kube_api.py): there is no cluster here.
    """
    for var in (
        "STACK_INPUT_YAML",
        "STACK_INPUT_YAML_FILE",
        "KUBE_CTX",
        "KUBECONFIG",
        "PERCONA_PG_OPERATOR_CHART_REPO",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", str(FIXTURE_REPO))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("PERCONA_PG_OPERATOR_PREFLIGHT", "off")
    # The Pulumi project directory, where the program stages the verified chart package.
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)


@pytest.fixture(scope="session")
def warm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One chart cache for the tests that only need verified packages, filled once."""
    from percona_pg_operator.chart import ChartRepository, load_managed_crds

    cache = tmp_path_factory.mktemp("warm-cache") / "percona-pg-operator"
    repo = ChartRepository(str(FIXTURE_REPO), cache_dir=cache)
    for version in CHART_VERSIONS:
        load_managed_crds(repo.fetch("pg-operator", version))
    return cache


@pytest.fixture
def fixture_repo_env(monkeypatch: pytest.MonkeyPatch, warm_cache: Path) -> Iterator[Path]:
    """The vendored chart repository as the mirror, with the warm cache."""
    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", str(FIXTURE_REPO))
    monkeypatch.setenv("XDG_CACHE_HOME", str(warm_cache.parent))
    yield FIXTURE_REPO


def manifest(**spec: object) -> dict[str, object]:
    return {
        "apiVersion": "kubernetes.project-planton.org/v1",
        "kind": "KubernetesPerconaPostgresOperator",
        "metadata": {"name": "pg-op"},
        "spec": dict(spec),
    }


def kubeconfig_text(
    server: str = "https://k8s.example.com", token: str = "t0ken", context: str = "main"
) -> str:
    """A small valid kubeconfig whose context points at ``server``."""
    import yaml

    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": server}}],
            "users": [{"name": "u", "user": {"token": token}}],
            "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
            "current-context": context,
        }
    )


# -- the exit codes the suite sees, per command ------------------------------------------------
# Every CliRunner run of the command line is recorded: tests/test_exit_codes.py checks, once the
# whole suite has run, that each command's --help lists exactly the codes the suite saw it end
# with (besides those every command may end with).
OBSERVED_EXIT_CODES: dict[str, set[int]] = {}
DERIVATION_TEST = "test_each_commands_help_lists_exactly_the_codes_it_exits_with"
# The global flags, and the hidden alias, as the table names them.
_GLOBAL_FLAGS = ("--debug", "--no-color")
_ALIASES = {"fleet plan": "fleet preflight"}


def _command_path(args: object) -> str | None:
    if isinstance(args, str):
        args = args.split()
    if not isinstance(args, (list, tuple)):
        return None
    words = [str(a) for a in args if str(a) not in _GLOBAL_FLAGS]
    if not words or words[0].startswith("-"):
        return None
    if words[0] in ("fleet", "credentials"):
        if len(words) < 2 or words[1].startswith("-"):
            return None
        path = f"{words[0]} {words[1]}"
    else:
        path = words[0]
    return _ALIASES.get(path, path)


def pytest_configure(config: pytest.Config) -> None:
    from click.testing import CliRunner, Result

    real = CliRunner.invoke

    def invoke(self: CliRunner, cli: Any, args: Any = None, *more: Any, **kw: Any) -> Result:
        result = real(self, cli, args, *more, **kw)
        path = _command_path(args)
        words = args.split() if isinstance(args, str) else list(args or [])
        if path is not None and "--help" not in words and "-h" not in words:
            OBSERVED_EXIT_CODES.setdefault(path, set()).add(result.exit_code)
        return result

    CliRunner.invoke = invoke  # type: ignore[method-assign]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The derivation runs last, after every other test has run the command line."""
    last = [item for item in items if item.name == DERIVATION_TEST]
    items[:] = [item for item in items if item.name != DERIVATION_TEST] + last
    config.stash[WHOLE_SUITE] = not config.option.keyword and len(items) > 500


WHOLE_SUITE = pytest.StashKey[bool]()
