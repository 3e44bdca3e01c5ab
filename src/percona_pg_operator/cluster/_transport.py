"""The HTTP transport under every cluster read: it bounds what a server can make a read cost.

A broken or hostile API server (or a proxy in front of it) must not make a read run forever or
fill the memory. Below lightkube (which has no such limits), each request goes through here:

- one read (one call of the client: a get, or a list with all its pages) sends at most
  :data:`MAX_REQUESTS_PER_READ` requests, so a ``continue`` token that never ends stops;
- every answer is read up to :data:`MAX_ANSWER_BYTES`; it is asked for uncompressed
  (``Accept-Encoding: identity``, which the API server honours: it compresses only for clients
  that accept gzip) and a compressed one is refused, so no gzip bomb is inflated;
- a deadline, when the client has one, stops between requests and between the chunks of an
  answer (a server that trickles bytes defeats a read timeout, not this);
- the exec credential plugin's token, when the kubeconfig has one (see _exec.py).

Exceeding a limit raises :class:`ReadLimitExceeded`, which the client turns into a ClusterError.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx2

# 500 pages of 100 objects: far beyond any real list this package makes.
MAX_REQUESTS_PER_READ = 500
# The largest real answers are CRDs (the 3.0 PerconaPGCluster CRD is about 1 MB) and pages of
# Helm release Secrets (at most 1 MiB each, read 10 at a time).
MAX_ANSWER_BYTES = 64 << 20


class ReadLimitExceeded(Exception):
    """A read went past one of the transport's bounds; ``retryable`` for the deadline only."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class _BoundedStream(httpx2.SyncByteStream):
    def __init__(
        self,
        inner: httpx2.SyncByteStream,
        limit: int,
        expired: Callable[[], bool],
    ) -> None:
        self._inner = inner
        self._limit = limit
        self._expired = expired

    def __iter__(self) -> Iterator[bytes]:
        total = 0
        for chunk in self._inner:
            total += len(chunk)
            if total > self._limit:
                raise ReadLimitExceeded(f"answered more than {self._limit >> 20} MiB")
            if self._expired():
                raise ReadLimitExceeded(
                    "did not finish its answer within the read's deadline", retryable=True
                )
            yield chunk

    def close(self) -> None:
        self._inner.close()


class BoundedTransport(httpx2.BaseTransport):
    """Limits per read and per answer, a deadline, and optionally an auth flow (exec plugins)."""

    def __init__(
        self,
        inner: httpx2.BaseTransport,
        *,
        auth: httpx2.Auth | None = None,
        max_requests: int | None = None,
        max_bytes: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._auth = auth
        self._max_requests = MAX_REQUESTS_PER_READ if max_requests is None else max_requests
        self._max_bytes = MAX_ANSWER_BYTES if max_bytes is None else max_bytes
        self._clock = clock
        self.deadline: float | None = None
        self._requests = 0

    def start_read(self) -> None:
        """A new read begins: its request count starts again."""
        self._requests = 0

    def expired(self) -> bool:
        return self.deadline is not None and self._clock() >= self.deadline

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._auth is None:
            return self._send(request)
        flow = self._auth.sync_auth_flow(request)
        outgoing = next(flow)
        while True:
            response = self._send(outgoing)
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return response
            response.read()
            response.close()

    def _send(self, request: httpx2.Request) -> httpx2.Response:
        self._requests += 1
        if self._requests > self._max_requests:
            raise ReadLimitExceeded(
                f"needed more than {self._max_requests} requests for one read (a list whose "
                "continue token does not end?)"
            )
        if self.expired():
            raise ReadLimitExceeded("took longer than the read's deadline", retryable=True)
        request.headers["Accept-Encoding"] = "identity"
        response = self._inner.handle_request(request)
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            response.close()
            raise ReadLimitExceeded(
                f"answered {encoding}-compressed although it was asked for no compression"
            )
        assert isinstance(response.stream, httpx2.SyncByteStream)
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_BoundedStream(response.stream, self._max_bytes, self.expired),
            extensions=response.extensions,
            request=request,
        )

    def close(self) -> None:
        self._inner.close()
