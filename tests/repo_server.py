"""A Helm repository served over HTTP on 127.0.0.1, with a request log and injectable faults."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class RepoServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        # path -> queue of one-shot faults: ("status", code), ("truncate",), ("body", bytes),
        # ("redirect", location)
        self.faults: dict[str, deque[tuple[Any, ...]]] = defaultdict(deque)
        self.routes: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.url = ""

    def fault(self, path: str, *fault: Any) -> None:
        self.faults[path].append(fault)

    def count(self, suffix: str = "") -> int:
        return sum(1 for r in self.requests if r.endswith(suffix))

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with server._lock:
                    server.requests.append(path)
                    fault = server.faults[path].popleft() if server.faults[path] else None
                if fault and fault[0] == "status":
                    self.send_response(fault[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if fault and fault[0] == "redirect":
                    self.send_response(302)
                    self.send_header("Location", fault[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if path in server.routes:
                    data = server.routes[path]
                else:
                    file = server.root / path.lstrip("/")
                    if not file.is_file():
                        self.send_response(404)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    data = file.read_bytes()
                if fault and fault[0] == "body":
                    data = fault[1]
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if fault and fault[0] == "truncate":
                    self.wfile.write(data[: len(data) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(data)

        return Handler


@contextmanager
def serve(root: Path) -> Iterator[RepoServer]:
    repo = RepoServer(root)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), repo.handler())
    repo.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield repo
    finally:
        httpd.shutdown()
        httpd.server_close()
