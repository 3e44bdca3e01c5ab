"""The chart repository client against the real Percona repository served on 127.0.0.1."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import socket
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CHART_VERSIONS, FIXTURE_REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from repo_server import RepoServer, serve
from repo_server import serve as serve_repo

from percona_pg_operator.chart import (
    ChartRepository,
    cache_root,
    chart_repo_url,
    load_managed_crds,
)
from percona_pg_operator.chart._repository import MAX_UNPACKED_BYTES
from percona_pg_operator.errors import (
    ChartRepositoryError,
)

pytestmark = pytest.mark.chart

INDEX = yaml.safe_load((FIXTURE_REPO / "index.yaml").read_text())
DIGESTS = {str(e["version"]): e["digest"] for e in INDEX["entries"]["pg-operator"]}


@pytest.fixture
def server() -> Iterator[RepoServer]:
    with serve(FIXTURE_REPO) as repo:
        yield repo


def client(url: str, cache: Path) -> ChartRepository:
    return ChartRepository(url, cache_dir=cache, timeout=5, retries=2, sleep=lambda _: None)


def cache_files(cache: Path) -> list[str]:
    return (
        sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())
        if (cache.exists())
        else []
    )


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_download_and_verify_every_version(
    server: RepoServer, tmp_path: Path, version: str
) -> None:
    package = client(server.url, tmp_path).fetch("pg-operator", version)
    assert package.version == version
    assert package.app_version == version
    assert package.digest == DIGESTS[version]
    assert hashlib.sha256(package.path.read_bytes()).hexdigest() == DIGESTS[version]
    assert package.path.parent == tmp_path / "charts"
    assert server.requests == ["/index.yaml", f"/pg-operator-{version}.tgz"]


def test_warm_cache_makes_no_request(server: RepoServer, tmp_path: Path) -> None:
    first = client(server.url, tmp_path).fetch("pg-operator", "2.9.0")
    before = len(server.requests)
    second = client(server.url, tmp_path).fetch("pg-operator", "2.9.0")
    assert len(server.requests) == before
    assert second == first


def test_corrupted_cache_is_downloaded_again(server: RepoServer, tmp_path: Path) -> None:
    package = client(server.url, tmp_path).fetch("pg-operator", "2.9.0")
    package.path.write_bytes(b"rotten")
    again = client(server.url, tmp_path).fetch("pg-operator", "2.9.0")
    assert hashlib.sha256(again.path.read_bytes()).hexdigest() == DIGESTS["2.9.0"]
    assert server.count(".tgz") == 2


def test_digest_mismatch_refused_and_nothing_cached(server: RepoServer, tmp_path: Path) -> None:
    server.fault("/pg-operator-3.0.0.tgz", "body", b"not the chart")
    with pytest.raises(ChartRepositoryError, match="does not match the index digest") as info:
        client(server.url, tmp_path).fetch("pg-operator", "3.0.0")
    assert f"{server.url}pg-operator-3.0.0.tgz" in str(info.value)
    assert cache_files(tmp_path) == []


def test_truncated_package_retried_then_refused(server: RepoServer, tmp_path: Path) -> None:
    for _ in range(3):
        server.fault("/pg-operator-3.0.0.tgz", "truncate")
    with pytest.raises(ChartRepositoryError, match=r"pg-operator-3\.0\.0\.tgz"):
        client(server.url, tmp_path).fetch("pg-operator", "3.0.0")
    assert server.count(".tgz") == 3
    assert cache_files(tmp_path) == []


def test_404_is_final(server: RepoServer, tmp_path: Path) -> None:
    repo = client(server.url + "missing/", tmp_path)
    with pytest.raises(ChartRepositoryError, match=r"missing/index.yaml: HTTP 404"):
        repo.fetch("pg-operator", "3.0.0")
    assert server.requests == ["/missing/index.yaml"]
    assert cache_files(tmp_path) == []


def test_500_then_200_succeeds(server: RepoServer, tmp_path: Path) -> None:
    server.fault("/index.yaml", "status", 500)
    server.fault("/pg-operator-2.8.2.tgz", "status", 503)
    package = client(server.url, tmp_path).fetch("pg-operator", "2.8.2")
    assert package.digest == DIGESTS["2.8.2"]
    assert server.requests == ["/index.yaml"] * 2 + ["/pg-operator-2.8.2.tgz"] * 2


def test_persistent_500_gives_up(server: RepoServer, tmp_path: Path) -> None:
    for _ in range(5):
        server.fault("/index.yaml", "status", 500)
    with pytest.raises(ChartRepositoryError, match="HTTP 500"):
        client(server.url, tmp_path).fetch("pg-operator", "2.8.2")
    assert server.count("/index.yaml") == 3


def test_unreachable_host(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    with pytest.raises(ChartRepositoryError, match=f"cannot download {url}index.yaml"):
        client(url, tmp_path).fetch("pg-operator", "3.0.0")
    assert cache_files(tmp_path) == []


def test_unknown_version_lists_available(server: RepoServer, tmp_path: Path) -> None:
    with pytest.raises(ChartRepositoryError) as info:
        client(server.url, tmp_path).fetch("pg-operator", "9.9.9")
    message = str(info.value)
    assert "9.9.9 is not in" in message
    for version in CHART_VERSIONS:
        assert version in message
    assert cache_files(tmp_path) == []


def test_absolute_urls_with_redirects(server: RepoServer, tmp_path: Path) -> None:
    index = yaml.safe_load((FIXTURE_REPO / "index.yaml").read_text())
    for entry in index["entries"]["pg-operator"]:
        entry["urls"] = [f"{server.url}releases/download/{entry['urls'][0]}"]
    server.routes["/mirror/index.yaml"] = yaml.safe_dump(index).encode()
    server.fault("/releases/download/pg-operator-2.7.0.tgz", "redirect", "/pg-operator-2.7.0.tgz")
    package = client(server.url + "mirror", tmp_path).fetch("pg-operator", "2.7.0")
    assert package.digest == DIGESTS["2.7.0"]
    assert server.requests == [
        "/mirror/index.yaml",
        "/releases/download/pg-operator-2.7.0.tgz",
        "/pg-operator-2.7.0.tgz",
    ]


def test_concurrent_fetches_leave_one_good_file(server: RepoServer, tmp_path: Path) -> None:
    results: list[object] = []

    def fetch() -> None:
        results.append(client(server.url, tmp_path).fetch("pg-operator", "3.0.0"))

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    blobs = list((tmp_path / "charts").glob("*.tgz"))
    assert [b.name for b in blobs] == [f"{DIGESTS['3.0.0']}.tgz"]
    assert hashlib.sha256(blobs[0].read_bytes()).hexdigest() == DIGESTS["3.0.0"]
    assert not [p for p in tmp_path.rglob("*.tmp")]


@pytest.mark.parametrize("form", ["file-url", "directory"])
def test_local_repositories(tmp_path: Path, form: str) -> None:
    url = FIXTURE_REPO.as_uri() if form == "file-url" else str(FIXTURE_REPO)
    repo = client(url, tmp_path)
    assert repo.is_local
    package = repo.fetch("pg-operator", "2.9.0")
    assert package.digest == DIGESTS["2.9.0"]


def test_local_repository_missing_index(tmp_path: Path) -> None:
    with pytest.raises(ChartRepositoryError, match=r"index\.yaml"):
        client(str(tmp_path / "nowhere"), tmp_path / "cache").fetch("pg-operator", "2.9.0")


def test_cache_follows_xdg_cache_home(tmp_path: Path) -> None:
    assert cache_root({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "percona-pg-operator"


def test_repo_precedence() -> None:
    assert chart_repo_url(None, {}) == "https://percona.github.io/percona-helm-charts/"
    env = {"PERCONA_PG_OPERATOR_CHART_REPO": "https://mirror.internal/charts"}
    assert chart_repo_url(None, env) == "https://mirror.internal/charts"
    assert chart_repo_url("/srv/charts", env) == "/srv/charts"


@contextmanager
def raw_server(behaviour: str) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that misbehaves: 'trickle' sends a valid header, then one body
    byte every 0.2 s; 'silent' accepts the connection and never answers; 'bad-length' sends
    ``Content-Length: abc`` and a broken index; 'endless' sends a body with no length that never
    ends. Stops by itself."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(0.2)
            with suppress(OSError):
                conn.recv(4096)
            if behaviour == "trickle":
                with suppress(OSError):
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                    for _ in range(200):
                        if stop.wait(0.2):
                            return
                        conn.sendall(b"x")
            elif behaviour == "bad-length":
                with suppress(OSError):
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nentries: [1")
            elif behaviour == "endless":
                with suppress(OSError):
                    conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
                    block = b"#" * 65536
                    while not stop.is_set():
                        conn.sendall(block)
            else:
                stop.wait(30)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.mark.parametrize("behaviour", ["trickle", "silent"])
def test_a_download_has_an_overall_deadline(behaviour: str, tmp_path: Path) -> None:
    """Each read is bounded by the socket timeout; the whole download, retries included, by the
    deadline, so a server sending a byte at a time cannot hold a preview."""
    with raw_server(behaviour) as url:
        repo = ChartRepository(url, cache_dir=tmp_path, timeout=1.0, deadline=2.0, backoff=0.1)
        start = time.monotonic()
        with pytest.raises(ChartRepositoryError, match=r"no complete answer within 2 s"):
            repo.fetch("pg-operator", "3.0.0")
        assert time.monotonic() - start < 4.0
    assert cache_files(tmp_path) == []


@pytest.mark.parametrize(
    ("behaviour", "deadline", "message"),
    [
        ("bad-length", 5.0, r"index\.yaml"),  # Content-Length: abc, then a broken index
        ("endless", 30.0, r"larger than \d+ bytes"),  # cut at the size limit, not the deadline
    ],
)
def test_a_misbehaving_server_is_a_clean_error(
    behaviour: str, deadline: float, message: str, tmp_path: Path
) -> None:
    with raw_server(behaviour) as url:
        repo = ChartRepository(url, cache_dir=tmp_path, timeout=2.0, deadline=deadline, backoff=0.1)
        with pytest.raises(ChartRepositoryError, match=message):
            repo.fetch("pg-operator", "3.0.0")
    assert cache_files(tmp_path) == []


def repo_with(tmp_path: Path, package: bytes, **entry: Any) -> Path:
    """A repository whose one pg-operator 3.0.0 package is ``package``, digest-true."""
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    (repo / "pg-operator-3.0.0.tgz").write_bytes(package)
    index = {
        "apiVersion": "v1",
        "entries": {
            "pg-operator": [
                {
                    "name": "pg-operator",
                    "version": "3.0.0",
                    "appVersion": "3.0.0",
                    "digest": hashlib.sha256(package).hexdigest(),
                    "urls": ["pg-operator-3.0.0.tgz"],
                    **entry,
                }
            ]
        },
    }
    (repo / "index.yaml").write_text(yaml.safe_dump(index))
    return repo


def tgz(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


class _Zeros(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        buffer[:] = bytes(len(buffer))
        return len(buffer)


def zip_bomb() -> bytes:
    """A package of a few hundred KiB that unpacks past the limit: one file of zeros."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as archive:
        info = tarfile.TarInfo("pg-operator/values.yaml")
        info.size = MAX_UNPACKED_BYTES + 1
        archive.addfile(info, io.BufferedReader(_Zeros()))
    return out.getvalue()


REAL = (FIXTURE_REPO / "pg-operator-3.0.0.tgz").read_bytes()


@pytest.mark.parametrize(
    ("package", "fragment"),
    [
        (REAL[: len(REAL) // 2], "not a readable chart package"),  # truncated, digest-true
        (b"not a tarball at all", "not a readable chart package"),
        (tgz({"other/Chart.yaml": b"name: other"}), "has no pg-operator/Chart.yaml"),
        (zip_bomb(), "unpacks to more than"),
    ],
)
def test_a_digest_true_but_broken_package_is_refused_and_not_cached(
    tmp_path: Path, package: bytes, fragment: str
) -> None:
    repo = ChartRepository(str(repo_with(tmp_path, package)), cache_dir=tmp_path / "cache")
    with pytest.raises(ChartRepositoryError, match=fragment):
        repo.fetch("pg-operator", "3.0.0")
    assert not list((tmp_path / "cache").rglob("*.tgz")), "nothing broken is cached"


def test_a_package_whose_crds_do_not_parse_is_the_repositorys_and_not_cached(
    tmp_path: Path,
) -> None:
    package = tgz(
        {
            "pg-operator/Chart.yaml": b"name: pg-operator\nversion: 3.0.0\n",
            "pg-operator/crds/crd.yaml": b"kind: CustomResourceDefinition\nmetadata: [oops",
        }
    )
    repo_dir = repo_with(tmp_path, package)
    repo = ChartRepository(str(repo_dir), cache_dir=tmp_path / "cache")
    with pytest.raises(ChartRepositoryError) as info:
        repo.fetch("pg-operator", "3.0.0")
    message = str(info.value)
    assert "pg-operator-3.0.0.tgz" in message and "nothing of it was cached" in message
    assert "run again" not in message and "cached package" not in message
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()], "nothing cached"


def test_an_edited_or_emptied_crd_cache_is_rebuilt_not_applied(tmp_path: Path) -> None:
    repo = ChartRepository(str(FIXTURE_REPO), cache_dir=tmp_path / "cache")
    package = repo.fetch("pg-operator", "3.0.0")
    first = load_managed_crds(package)
    cache = package.path.with_suffix(".crds.json")
    for edit in ("tamper", "empty"):
        data = json.loads(cache.read_text())
        if edit == "tamper":
            data["manifest"] = data["manifest"].replace("perconapgclusters", "evil")
        else:
            data["names"], data["manifest"] = [], ""
        cache.write_text(json.dumps(data))
        assert load_managed_crds(package) == first


def test_a_pin_pointing_at_another_versions_package_is_not_trusted(tmp_path: Path) -> None:
    repo = ChartRepository(str(FIXTURE_REPO), cache_dir=tmp_path / "cache")
    old = repo.fetch("pg-operator", "2.9.0")
    new = repo.fetch("pg-operator", "3.0.0")
    pin = next((tmp_path / "cache" / "pins").rglob("pg-operator-3.0.0.json"))
    pin.write_text(json.dumps({**json.loads(pin.read_text()), "digest": old.digest}))
    again = repo.fetch("pg-operator", "3.0.0")
    assert again.digest == new.digest


def test_a_remote_index_cannot_point_at_local_files(tmp_path: Path) -> None:
    repo_dir = repo_with(tmp_path, REAL, urls=["file:///etc/hostname"])
    with serve_repo(repo_dir) as server:
        repo = ChartRepository(server.url, cache_dir=tmp_path / "cache")
        with pytest.raises(ChartRepositoryError, match="must be http"):
            repo.fetch("pg-operator", "3.0.0")


def test_index_entries_that_are_not_mappings_are_ignored(tmp_path: Path) -> None:
    repo_dir = repo_with(tmp_path, REAL)
    index = yaml.safe_load((repo_dir / "index.yaml").read_text())
    index["entries"]["pg-operator"].insert(0, "not a mapping")
    (repo_dir / "index.yaml").write_text(yaml.safe_dump(index))
    package = ChartRepository(str(repo_dir), cache_dir=tmp_path / "cache").fetch(
        "pg-operator", "3.0.0"
    )
    assert package.version == "3.0.0"


def test_an_unwritable_cache_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    repo = ChartRepository(str(FIXTURE_REPO), cache_dir=blocker / "cache")
    with pytest.raises(ChartRepositoryError, match="cannot write the chart cache"):
        repo.fetch("pg-operator", "3.0.0")


@pytest.mark.parametrize(
    ("mirror", "fragment"),
    [
        ("https://admin:PASS@charts.example.com/", "must not carry a user or password"),
        ("https://charts.example.com/?access_token=PASS", "credential in its query string"),
        ("ftp://charts.example.com/", "must be an http(s):// or file:// URL"),
    ],
)
def test_the_chart_mirror_from_the_environment_is_checked_like_spec_helm_repo(
    mirror: str, fragment: str
) -> None:
    from percona_pg_operator.chart import chart_repo_url

    with pytest.raises(ChartRepositoryError) as info:
        chart_repo_url(None, {"PERCONA_PG_OPERATOR_CHART_REPO": mirror})
    assert fragment in str(info.value) and "PASS" not in str(info.value)
    assert "PERCONA_PG_OPERATOR_CHART_REPO" in str(info.value)


def test_a_broken_cached_package_is_evicted_and_named_when_the_repository_is_gone(
    tmp_path: Path,
) -> None:
    """A damaged blob is removed, not trusted; if the repository cannot supply it again, the
    error names the cache entry that was removed."""
    repo_dir = repo_with(tmp_path, REAL)
    cache = tmp_path / "cache"
    package = ChartRepository(str(repo_dir), cache_dir=cache).fetch("pg-operator", "3.0.0")
    package.path.write_bytes(REAL[:100])  # damaged on disk
    (repo_dir / "index.yaml").unlink()  # and the repository is gone
    repo = ChartRepository(str(repo_dir), cache_dir=cache)
    with pytest.raises(ChartRepositoryError) as info:
        repo.fetch("pg-operator", "3.0.0")
    assert "a broken cache entry was removed first" in str(info.value)
    assert str(package.path) in str(info.value)
    assert not package.path.exists()
    assert not list((cache / "pins").rglob("pg-operator-3.0.0.json"))


# -- the cache removes and reads only its own files ----------------------------------------------


def _outside(root: Path) -> Path:
    outside = root / "outside"
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "mine.tgz").write_bytes(b"not the cache's")
    (outside / "x").write_text("precious")
    return outside


def _snapshot(root: Path) -> dict[str, Any]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
        for p in sorted(root.rglob("*"))
    }


def _pin(client: ChartRepository) -> Path:
    return client._pin_path("pg-operator", "3.0.0")


@pytest.mark.parametrize("digest", ["../../outside/mine", "{outside}/mine", "/dev/zero", 7])
def test_a_tampered_pin_never_names_a_file_to_read_or_remove(tmp_path: Path, digest: Any) -> None:
    """Before: a pin whose digest was a path made the cache delete that `.tgz` outside it."""
    outside = _outside(tmp_path)
    cache = tmp_path / "cache"
    repo = ChartRepository(str(FIXTURE_REPO), cache_dir=cache)
    repo.fetch("pg-operator", "3.0.0")
    pin = _pin(repo)
    meta = json.loads(pin.read_text())
    meta["digest"] = digest.format(outside=outside) if isinstance(digest, str) else digest
    pin.write_text(json.dumps(meta))
    before = _snapshot(outside)
    again = ChartRepository(str(FIXTURE_REPO), cache_dir=cache).fetch("pg-operator", "3.0.0")
    assert again.version == "3.0.0", "verified anew from the repository"
    assert _snapshot(outside) == before


@pytest.mark.parametrize("which", ["blob", "pin"])
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_pin_or_blob_that_is_not_a_regular_file_is_never_read(
    tmp_path: Path, kind: str, which: str
) -> None:
    """A FIFO would block a plain read forever, /dev/zero fill memory: refused by kind, and the
    package verified anew."""
    cache = tmp_path / "cache"
    first = ChartRepository(str(FIXTURE_REPO), cache_dir=cache).fetch("pg-operator", "3.0.0")
    path = (
        first.path if which == "blob" else _pin(ChartRepository(str(FIXTURE_REPO), cache_dir=cache))
    )
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    again = ChartRepository(str(FIXTURE_REPO), cache_dir=cache).fetch("pg-operator", "3.0.0")
    assert again.digest == first.digest


def test_a_local_repository_index_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    """Before: the read of a FIFO as index.yaml waited forever."""
    repo = tmp_path / "repo"
    repo.mkdir()
    os.mkfifo(repo / "index.yaml")
    with pytest.raises(ChartRepositoryError, match="is not a regular file"):
        ChartRepository(str(repo), cache_dir=tmp_path / "cache").fetch("pg-operator", "3.0.0")


def test_a_bundled_package_that_is_not_a_regular_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Before: /dev/zero in place of a bundled package was read whole (2.1 GB, MemoryError)."""
    from percona_pg_operator.chart import _bundled

    folder = tmp_path / "bundled"
    folder.mkdir()
    (folder / "pg-operator-3.0.0.tgz").symlink_to("/dev/zero")

    class Files:
        def __truediv__(self, name: str) -> Any:
            return tmp_path / name

    monkeypatch.setattr(_bundled.resources, "files", lambda _: Files())
    with pytest.raises(OSError, match="is not a regular file"):
        _bundled.bundled_bytes("pg-operator", "3.0.0")


_PIN_DIGESTS = st.one_of(
    st.sampled_from(["../../outside/mine", "OUTSIDE/mine", "/dev/zero", "", "0" * 64, None]),
    st.text(max_size=70),
    st.integers(),
)


@settings(max_examples=40, deadline=None)
@given(
    digest=_PIN_DIGESTS,
    name=st.sampled_from(["pg-operator", "other", None]),
    link_charts=st.booleans(),
    link_blob=st.booleans(),
    raw=st.one_of(st.none(), st.binary(max_size=40)),
)
def test_no_pin_and_no_link_lets_the_cache_change_anything_outside(
    digest: Any, name: Any, link_charts: bool, link_blob: bool, raw: bytes | None
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        outside = _outside(root)
        cache = root / "cache"
        first = ChartRepository(str(FIXTURE_REPO), cache_dir=cache).fetch("pg-operator", "3.0.0")
        pin = _pin(ChartRepository(str(FIXTURE_REPO), cache_dir=cache))
        if raw is not None:
            pin.write_bytes(raw)
        else:
            text = digest.replace("OUTSIDE", str(outside)) if isinstance(digest, str) else digest
            meta = {"name": name, "version": "3.0.0", "digest": text, "app_version": "3.0.0"}
            pin.write_text(json.dumps(meta))
        if link_blob:
            first.path.unlink()
            first.path.symlink_to(outside / "mine.tgz")
        if link_charts:
            shutil.rmtree(cache / "charts")
            (cache / "charts").symlink_to(outside, target_is_directory=True)
        before = _snapshot(outside)
        with contextlib.suppress(ChartRepositoryError):
            ChartRepository(str(FIXTURE_REPO), cache_dir=cache).fetch("pg-operator", "3.0.0")
        assert _snapshot(outside) == before


def test_a_cache_folder_linked_out_of_the_cache_is_never_written_through(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "charts").symlink_to(outside, target_is_directory=True)
    before = _snapshot(outside)
    with pytest.raises(ChartRepositoryError, match="leads out of"):
        ChartRepository(str(FIXTURE_REPO), cache_dir=cache).fetch("pg-operator", "3.0.0")
    assert _snapshot(outside) == before
