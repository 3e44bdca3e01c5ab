"""The chart packages that ship with this package: the supported versions, usable offline.

Each is the file Percona publishes, byte for byte (Apache-2.0, ``bundled/LICENSE``; where each
comes from: ``bundled/PROVENANCE.md``), pinned here by the sha256 Percona's repository index
lists for it (https://percona.github.io/percona-helm-charts/index.yaml, entry ``pg-operator``,
field ``digest``). With Percona's repository (no ``spec.helm.repo``, no mirror) these are used
without any network request; a mirror or ``spec.helm.repo`` is always asked instead, and a
version not listed here is downloaded.
"""

from __future__ import annotations

from importlib import resources

from .. import defaults

# version -> sha256 of pg-operator-<version>.tgz, as Percona's index.yaml lists it.
BUNDLED: dict[str, str] = {
    "2.7.0": "4de5b611c24eb761631e6994539a33fb601cd167fd15284278f60783a37b98ff",
    "2.8.2": "ec3da541eda998eeb6179746eea253529f2545708c0ab1b4c3a00b067b6390b3",
    "2.9.0": "c551aed92216bda129c0ca6a05a86c505183341d8492ff908b4c48f1ef02252f",
    "3.0.0": "51f804dc6d119dcdbd8c3c6a4c105dcda7e358ac05e48eb12612a99a0cdfd5a2",
}

# Where Percona's index points each package (chart-releaser: one GitHub release per chart
# version), recorded as the package's origin.
RELEASE_URL = (
    "https://github.com/percona/percona-helm-charts/releases/download/"
    "{chart}-{version}/{chart}-{version}.tgz"
)


def is_percona_repo(repo_url: str) -> bool:
    return repo_url.rstrip("/") == defaults.CHART_REPO_URL.rstrip("/")


def bundled_digest(repo_url: str, chart: str, version: str) -> str | None:
    """The pinned digest when ``repo_url`` is Percona's repository and the package ships here."""
    if chart != defaults.CHART_NAME or not is_percona_repo(repo_url):
        return None
    return BUNDLED.get(version)


def bundled_bytes(chart: str, version: str) -> bytes:
    """The bundled package's bytes (the caller checks them against the pin); a file that is
    not a regular one of a package's size (a FIFO, /dev/zero) is refused before it is read."""
    from .._files import FileRefused, read_regular
    from ._package import MAX_PACKAGE_BYTES

    name = f"{chart}-{version}.tgz"
    with resources.as_file(resources.files(__package__) / "bundled" / name) as path:
        try:
            return read_regular(path, MAX_PACKAGE_BYTES)
        except FileRefused as exc:
            raise OSError(f"{name} {exc}") from None
