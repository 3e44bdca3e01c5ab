"""A Helm chart repository client that hands out digest-checked, cached chart packages.

- Percona's repository's supported versions ship with this package (``_bundled.py``): they are
  checked against their pinned digest and used without a network request.

- ``index.yaml`` is read to find the entry; its package URL may be absolute (Percona's index
  points at GitHub release assets, which redirect) or relative to the repository.
- The package's sha256 must equal the entry's ``digest``; a mismatch is refused and nothing is
  cached.
- The cache lives under ``$XDG_CACHE_HOME/percona-pg-operator`` (``~/.cache/...`` by default):
  packages are stored by digest, and a small pin file per (repo, chart, version) remembers the
  digest, so a warm cache makes no network request at all. Chart versions in a repository are
  immutable, so the pin acts like a lock file entry.
- Every write goes to a temporary file in the same folder and is renamed into place, so a crash or
  two processes at once never leave a partial file.
- Repositories: ``https://``, ``http://``, ``file://`` and a plain local directory.
- Time is bounded twice: each socket operation (connect, every read) by ``SOCKET_TIMEOUT_SECONDS``,
  and each download as a whole, retries included, by ``DOWNLOAD_DEADLINE_SECONDS``, so a server
  that trickles one byte at a time cannot hold a ``pulumi preview`` for long.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import http.client
import io
import json
import logging
import os
import re
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .. import _yaml, defaults
from .._files import FileRefused, atomic_write, leads_out, read_regular
from ..errors import ChartRepositoryError
from ._bundled import BUNDLED, RELEASE_URL, bundled_bytes, bundled_digest, is_percona_repo
from ._package import ChartPackage

# Which source each package came from ("chart pg-operator 3.0.0: bundled ..."), each time one is
# handed out (a run resolves each package once): the command line prints it on stderr.
_log = logging.getLogger(__name__)
# How long `status` and `upgrade-plan` wait for Percona's index when the versions they need are
# bundled: a quick network answers within it; offline (a DNS failure alone can take seconds)
# the bundled versions are listed at once.
BUNDLED_INDEX_DEADLINE_SECONDS = 0.4

# urllib applies one timeout to the connect and to every single read of a response.
SOCKET_TIMEOUT_SECONDS = 15.0
# The whole download, every retry and backoff included.
DOWNLOAD_DEADLINE_SECONDS = 60.0
# Far above Percona's index (~100 KiB) and packages (~250 KiB): a server sending more is refused
# before it fills memory or the disk.
MAX_DOWNLOAD_BYTES = 32 * 1024 * 1024
# What a package may unpack to (its CRDs are 1.6-3.7 MB): a gzip bomb is refused early.
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
RETRIES = 3
BACKOFF_SECONDS = 0.5
# 429 and 5xx are worth another try; other 4xx are final.
_RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}

_CHUNK = 64 * 1024
# A pin is a few hundred bytes of JSON.
MAX_PIN_BYTES = 64 * 1024
_DIGEST = re.compile(r"[0-9a-f]{64}")

# Called as bytes arrive: (url, bytes so far, total bytes or None when the server gives none).
Progress = Callable[[str, int, int | None], None]
# The progress a command line shows for the length of one command, for every repository the run
# makes (a context variable: set and reset by the caller, never read from the environment).
download_progress: ContextVar[Progress | None] = ContextVar("download_progress", default=None)


def chart_repo_url(spec_repo: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The spec's repo, else the mirror from the environment, else Percona's repository."""
    env = os.environ if environ is None else environ
    if spec_repo:
        return spec_repo  # checked by the manifest model
    mirror = env.get(defaults.CHART_REPO_ENV)
    if not mirror:
        return defaults.CHART_REPO_URL
    # Checked as spec.helm.repo is: the URL reaches messages and logs, so it carries no
    # credential, and only schemes this client reads.
    from ..formats import repo_url_problem

    problem = repo_url_problem(mirror)
    if problem is not None:
        raise ChartRepositoryError(f"{defaults.CHART_REPO_ENV} {problem}")
    return mirror


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "percona-pg-operator"


def check_package(data: bytes, chart: str, where: str) -> None:
    """A readable chart archive with its Chart.yaml, unpacking to a bounded size; else an error
    naming where it came from (gzip and tar errors, truncation, a bomb)."""
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            names = []
            for member in archive:
                total += member.size
                if total > MAX_UNPACKED_BYTES:
                    raise ChartRepositoryError(
                        f"{where}: the package unpacks to more than {MAX_UNPACKED_BYTES} bytes"
                    )
                names.append(member.name)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise ChartRepositoryError(
            f"{where}: not a readable chart package ({type(exc).__name__})"
        ) from None
    if f"{chart}/Chart.yaml" not in names:
        raise ChartRepositoryError(f"{where}: the package has no {chart}/Chart.yaml")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_local_repo(url: str) -> bool:
    """A directory or file:// repository (Helm itself cannot install from one)."""
    return "://" not in url or url.startswith("file://")


class ChartRepository:
    def __init__(
        self,
        url: str,
        *,
        cache_dir: Path | None = None,
        timeout: float = SOCKET_TIMEOUT_SECONDS,
        deadline: float = DOWNLOAD_DEADLINE_SECONDS,
        retries: int = RETRIES,
        backoff: float = BACKOFF_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        progress: Progress | None = None,
    ) -> None:
        self.url = url
        self.cache_dir = cache_dir or cache_root()
        self.timeout = timeout
        self.deadline = deadline
        self.evicted: list[Path] = []  # broken cache entries removed by this client
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._progress = progress

    @property
    def is_local(self) -> bool:
        return is_local_repo(self.url)

    def _base(self) -> str:
        if "://" not in self.url:
            return Path(self.url).resolve().as_uri() + "/"
        return self.url if self.url.endswith("/") else self.url + "/"

    # -- cache ---------------------------------------------------------------------------

    def _blob_path(self, digest: str) -> Path:
        return self.cache_dir / "charts" / f"{digest}.tgz"

    def _pin_path(self, chart: str, version: str) -> Path:
        repo_key = hashlib.sha256(self._base().encode()).hexdigest()[:16]
        return self.cache_dir / "pins" / repo_key / f"{chart}-{version}.json"

    def cached(self, chart: str, version: str) -> ChartPackage | None:
        """The package from the cache when its pin and verified bytes are there; no network.

        A broken entry (a pin that does not parse or points at other bytes, a blob whose digest
        or Chart.yaml does not match) is evicted and recorded in :attr:`evicted`, so the package
        is downloaded and verified again, and an error that follows names what was removed."""
        pin = self._pin_path(chart, version)
        if not pin.exists():
            return None
        broken_blob: Path | None = None
        try:
            meta = json.loads(read_regular(pin, MAX_PIN_BYTES).decode("utf-8"))
            digest = meta.get("digest") if isinstance(meta, dict) else None
            # The blob's name comes from the pin only when it is a digest: a pin naming a path
            # ("../x", "/etc/x") never leads this client to read or remove that path.
            if (
                isinstance(digest, str)
                and _DIGEST.fullmatch(digest)
                and meta.get("name") == chart
                and meta.get("version") == version
            ):
                path = self._blob_path(digest)
                broken_blob = path  # until its bytes match the digest it is named by
                if _sha256(read_regular(path, MAX_DOWNLOAD_BYTES)) == digest:
                    broken_blob = None
                    package = ChartPackage(**{**meta, "path": path})
                    chart_yaml = package.chart_yaml()
                    package = dataclasses.replace(
                        package, kube_version=str(chart_yaml.get("kubeVersion") or "")
                    )
                    if (
                        chart_yaml.get("name") == chart
                        and str(chart_yaml.get("version")) == version
                    ):
                        _log.info(package.describe_source())
                        return package
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ChartRepositoryError):
            pass
        # The pin always; the blob only when its bytes are not what its name says (a pin edited
        # to point at another version's good package leaves that package alone).
        self._evict(pin, broken_blob)
        return None

    def _evict(self, pin: Path, blob: Path | None) -> None:
        """Remove broken entries: only names this client derives itself, and only where they
        resolve inside the cache (a folder of it linked elsewhere is left alone)."""
        root = self.cache_dir.resolve()
        for stale in (pin, blob):
            if stale is None:
                continue
            with contextlib.suppress(OSError):
                inside = stale.parent.resolve().is_relative_to(root)
                if inside and (stale.is_symlink() or stale.exists()):
                    stale.unlink()
                    self.evicted.append(stale)

    # -- network -------------------------------------------------------------------------

    def _get(self, url: str) -> bytes:
        """GET with bounded time and retries; one clear error naming the URL. A file:// URL
        is read as a regular file of bounded size (a FIFO would block a plain open forever)."""
        if url.startswith("file://"):
            path = urllib.request.url2pathname(urllib.parse.urlsplit(url).path)
            try:
                return read_regular(path, MAX_DOWNLOAD_BYTES)
            except FileRefused as exc:
                raise ChartRepositoryError(f"cannot download {url}: {path} {exc}") from None
        give_up_at = time.monotonic() + self.deadline
        last: str = ""
        for attempt in range(self.retries + 1):
            if attempt:
                pause = self.backoff * 2 ** (attempt - 1)
                if time.monotonic() + pause >= give_up_at:
                    break
                self._sleep(pause)
            remaining = give_up_at - time.monotonic()
            if remaining <= 0:
                break
            try:
                request = urllib.request.Request(url, headers={"User-Agent": "percona-pg-operator"})
                timeout = min(self.timeout, remaining)
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    header = response.headers.get("Content-Length")
                    expected = int(header) if header and header.isdigit() else None
                    data = self._read(response, url, expected, give_up_at)
                    if expected is not None and expected != len(data):
                        last = f"truncated: {len(data)} of {expected} bytes"
                        continue
                    return data
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code} {exc.reason}"
                if exc.code not in _RETRYABLE_STATUS:
                    break
            except urllib.error.URLError as exc:
                reason = exc.reason
                last = str(
                    reason.strerror if isinstance(reason, OSError) and reason.strerror else reason
                )
                if url.startswith("file://"):
                    break
            except (TimeoutError, OSError, http.client.HTTPException) as exc:
                last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= give_up_at:
            last = f"no complete answer within {self.deadline:g} s" + (f" ({last})" if last else "")
        hint = ""
        if not url.startswith("file://"):
            hint = (
                f"; without network, set {defaults.CHART_REPO_ENV} (or --chart-repo, or "
                "spec.helm.repo) to a mirror: an https:// URL or a folder holding index.yaml"
            )
            if is_percona_repo(self.url):
                hint += f"; the versions bundled here need none: {', '.join(BUNDLED)}"
        raise ChartRepositoryError(f"cannot download {url}: {last}{hint}")

    def _read(self, response: Any, url: str, total: int | None, give_up_at: float) -> bytes:
        """The body in chunks: progress as they arrive, and the deadline between them."""
        chunks: list[bytes] = []
        done = 0
        # read1 returns what one socket read brings; read(n) would wait for all n bytes.
        read = getattr(response, "read1", response.read)
        while chunk := read(_CHUNK):
            chunks.append(chunk)
            done += len(chunk)
            if done > MAX_DOWNLOAD_BYTES:
                raise ChartRepositoryError(
                    f"cannot download {url}: larger than {MAX_DOWNLOAD_BYTES} bytes"
                )
            progress = self._progress or download_progress.get()
            if progress is not None:
                progress(url, done, total)
            if time.monotonic() >= give_up_at:
                raise TimeoutError(f"deadline reached after {done} bytes")
        return b"".join(chunks)

    def index(self) -> dict[str, Any]:
        url = urllib.parse.urljoin(self._base(), "index.yaml")
        data = self._get(url)
        try:
            index = _yaml.load(data)
        except _yaml.YAMLError:
            raise ChartRepositoryError(f"{url} is not a valid Helm repository index") from None
        if not isinstance(index, dict) or not isinstance(index.get("entries"), dict):
            raise ChartRepositoryError(f"{url} is not a valid Helm repository index")
        return index

    def versions(self, chart: str) -> list[str]:
        """Every version of ``chart`` the repository's index lists. For Percona's repository,
        the bundled versions first: its index is read for what is not bundled within
        ``BUNDLED_INDEX_DEADLINE_SECONDS`` (offline, a DNS failure alone can take seconds),
        and only the bundled versions are listed when it cannot be read in that time."""
        bundled = [v for v in BUNDLED if bundled_digest(self.url, chart, v)]
        try:
            index = self._index_within(BUNDLED_INDEX_DEADLINE_SECONDS) if bundled else self.index()
            entries = index["entries"].get(chart) or []
        except ChartRepositoryError as exc:
            if not bundled:
                raise
            _log.warning(f"{exc}; listing only the versions bundled here")
            entries = []
        listed = [str(e["version"]) for e in entries if isinstance(e, dict) and e.get("version")]
        return listed + [v for v in bundled if v not in listed]

    def _index_within(self, seconds: float) -> dict[str, Any]:
        """The index, or ChartRepositoryError once ``seconds`` have passed. The read goes on in
        a daemon thread, which the process does not wait for."""
        done = threading.Event()
        found: list[dict[str, Any] | ChartRepositoryError] = []

        def read() -> None:
            try:
                found.append(self.index())
            except ChartRepositoryError as exc:
                found.append(exc)
            finally:
                done.set()

        threading.Thread(target=read, name="chart-index", daemon=True).start()
        if not done.wait(seconds):
            raise ChartRepositoryError(
                f"the index of {self.url} could not be read within {seconds:g} s"
            )
        result = found[0]
        if isinstance(result, ChartRepositoryError):
            raise result
        return result

    def fetch(self, chart: str, version: str) -> ChartPackage:
        """The digest-checked package: from the cache, else bundled (Percona's repository, a
        supported version), else downloaded; each checked and cached."""
        hit = self.cached(chart, version)
        if hit is not None:
            return hit
        digest = bundled_digest(self.url, chart, version)
        if digest is not None:
            return self._from_bundle(chart, version, digest)
        try:
            return self._download(chart, version)
        except ChartRepositoryError as exc:
            if not self.evicted:
                raise
            removed = ", ".join(str(p) for p in self.evicted)
            raise ChartRepositoryError(
                f"{exc} (a broken cache entry was removed first: {removed})"
            ) from None

    def _download(self, chart: str, version: str) -> ChartPackage:
        """Look the package up in the index, download, verify, parse and cache it."""
        index = self.index()
        listed = index["entries"].get(chart)
        entries = [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
        entry = next((e for e in entries if str(e.get("version")) == version), None)
        if entry is None:
            available = ", ".join(str(e.get("version")) for e in entries) or "none"
            raise ChartRepositoryError(
                f"chart {chart} version {version} is not in {self.url} (available: {available})"
            )
        digest = str(entry.get("digest") or "")
        urls = entry.get("urls") if isinstance(entry.get("urls"), list) else []
        if not urls or len(digest) != 64:
            raise ChartRepositoryError(
                f"{self.url}: the index entry for {chart} {version} has no package URL or "
                "no sha256 digest, so the package cannot be verified"
            )
        url = urllib.parse.urljoin(self._base(), str(urls[0]))
        scheme = urllib.parse.urlsplit(url).scheme
        if not self.is_local and scheme not in ("http", "https"):
            # A remote index must not make this client read local files (file:///etc/...).
            raise ChartRepositoryError(
                f"{self.url}: the index points {chart} {version} at a {scheme}: URL; a remote "
                "repository's packages must be http(s)"
            )
        data = self._get(url)
        actual = _sha256(data)
        if actual != digest:
            raise ChartRepositoryError(
                f"{url}: sha256 {actual} does not match the index digest {digest}; "
                "refusing the package"
            )
        check_package(data, chart, url)  # parsed before it is cached
        app_version = str(entry.get("appVersion") or "")
        return self._store(chart, version, data, digest, app_version, url, "download")

    def _from_bundle(self, chart: str, version: str, digest: str) -> ChartPackage:
        """The package that ships with this package, checked against its pin, then cached as a
        download would be."""
        where = f"the bundled package {chart}-{version}.tgz"
        try:
            data = bundled_bytes(chart, version)
        except OSError as exc:
            raise ChartRepositoryError(
                f"{where} is missing from this installation ({exc.strerror or exc}); reinstall "
                f"percona-pg-operator, or set {defaults.CHART_REPO_ENV} to a mirror"
            ) from None
        actual = _sha256(data)
        if actual != digest:
            raise ChartRepositoryError(
                f"{where}: sha256 {actual} is not the pinned {digest}; this installation is "
                "damaged: reinstall percona-pg-operator"
            )
        check_package(data, chart, where)
        app_version = str(_chart_yaml(data, chart).get("appVersion") or "")
        url = RELEASE_URL.format(chart=chart, version=version)
        return self._store(chart, version, data, digest, app_version, url, "bundled")

    def _store(
        self,
        chart: str,
        version: str,
        data: bytes,
        digest: str,
        app_version: str,
        url: str,
        source: str,
    ) -> ChartPackage:
        """Cache checked bytes: the blob, its parsed CRDs, the pin."""
        from ._crds import build_managed_crds, store_managed_crds

        try:
            # Its CRDs too: a package whose CRDs do not parse is the repository's, and refused
            # before anything of it is cached.
            crds = build_managed_crds(data, chart, version)
        except ChartRepositoryError as exc:
            raise ChartRepositoryError(
                f"{url}: {exc}; the package is refused and nothing of it was cached"
            ) from None
        path = self._blob_path(digest)
        if leads_out(path, self.cache_dir):
            raise ChartRepositoryError(
                f"cannot write the chart cache: {path.parent} leads out of {self.cache_dir} (a "
                "link); remove it, or set XDG_CACHE_HOME to another folder"
            )
        try:
            atomic_write(path, data)
        except OSError as exc:
            raise ChartRepositoryError(
                f"cannot write the chart cache {self.cache_dir}: {exc.strerror or exc}; set "
                "XDG_CACHE_HOME to a writable folder"
            ) from None
        package = ChartPackage(
            name=chart,
            version=version,
            app_version=app_version,
            digest=digest,
            path=path,
            url=url,
            source=source,
            kube_version=str(_chart_yaml(data, chart).get("kubeVersion") or ""),
            origin="bundled" if source == "bundled" else "download",
        )
        store_managed_crds(package, crds)
        derived = ("path", "source", "kube_version")  # where it is, how, and what its bytes say
        pin = {k: v for k, v in asdict(package).items() if k not in derived}
        # No pin (a read-only cache, or a pins folder linked elsewhere): the next run looks the
        # digest up in the index again.
        pin_path = self._pin_path(chart, version)
        if not leads_out(pin_path, self.cache_dir):
            with contextlib.suppress(OSError):
                atomic_write(pin_path, json.dumps(pin).encode())
        _log.info(package.describe_source())
        return package


def _chart_yaml(data: bytes, chart: str) -> dict[str, Any]:
    """``Chart.yaml`` of a package's bytes (already checked by :func:`check_package`)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            handle = archive.extractfile(f"{chart}/Chart.yaml")
            loaded = _yaml.load(handle.read()) if handle is not None else None
    except (tarfile.TarError, OSError, KeyError, _yaml.YAMLError):
        loaded = None
    return loaded if isinstance(loaded, dict) else {}
