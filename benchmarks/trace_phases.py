"""Where the seconds of one Pulumi run go, from the engine's OpenTelemetry trace.

    pulumi preview --otel-traces file:///tmp/run.json ...
    .venv/bin/python benchmarks/trace_phases.py /tmp/run.json [--all]

Prints the run's phases on one time line (seconds from the CLI's start): the CLI's start-up and
the snapshot, the language host's start and required packages, the program's start (until its
first engine call), its own work until the first registration, each plugin's start, each
resource's check and diff (or create/update) in the provider, and the program's exit. ``--all``
prints every span the engine, the language host and the providers recorded, in order.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Span:
    start: float
    end: float
    name: str
    service: str
    attributes: dict[str, Any]

    @property
    def seconds(self) -> float:
        return self.end - self.start


def read_spans(path: Path) -> list[Span]:
    """Every span of the file (one JSON document a line, as ``--otel-traces file://`` writes)."""
    raw: list[tuple[int, int, str, str, dict[str, Any]]] = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        for group in json.loads(line)["resourceSpans"]:
            attributes = {a["key"]: a["value"] for a in group["resource"]["attributes"]}
            service = attributes.get("service.name", {}).get("stringValue", "?")
            for scope in group["scopeSpans"]:
                for span in scope["spans"]:
                    attrs = {
                        a["key"]: next(iter(a["value"].values()), None)
                        for a in span.get("attributes", [])
                        if a["key"] != "code.stacktrace"
                    }
                    raw.append(
                        (
                            int(span["startTimeUnixNano"]),
                            int(span["endTimeUnixNano"]),
                            span["name"],
                            service,
                            attrs,
                        )
                    )
    if not raw:
        raise SystemExit(f"{path}: no spans")
    zero = min(start for start, *_ in raw)
    spans = [
        Span((s - zero) / 1e9, (e - zero) / 1e9, name, service, attrs)
        for s, e, name, service, attrs in raw
    ]
    return sorted(spans, key=lambda span: (span.start, span.end))


def phases(spans: list[Span]) -> list[tuple[float, float, str]]:
    """(start, seconds, what) of the phases that make up a run."""
    cli = [s for s in spans if s.service == "pulumi-cli"]

    def first(name: str) -> Span | None:
        return next((s for s in cli if s.name == name), None)

    rows: list[tuple[float, float, str]] = []
    whole = first("pulumi")
    program = first("run-program")
    if whole is not None:
        rows.append((whole.start, whole.seconds, "the whole command"))
    snapshot = first("diyBackend.getSnapshot")
    if snapshot is not None:
        rows.append((snapshot.start, snapshot.seconds, "read the stack's snapshot"))
    packages = first("pulumirpc.LanguageRuntime/GetRequiredPackages")
    if packages is not None:
        rows.append((packages.start, packages.seconds, "language host: required packages"))
    monitor = [s for s in cli if s.name.startswith("pulumirpc.ResourceMonitor/")]
    registers = [s for s in monitor if s.name.endswith("/RegisterResource")]
    if program is not None:
        rows.append((program.start, program.seconds, "the program, start to exit"))
        if monitor:
            rows.append(
                (program.start, monitor[0].start - program.start, "program start-up (imports)")
            )
        if registers and monitor:
            rows.append(
                (
                    monitor[0].end,
                    registers[0].start - monitor[0].end,
                    "program work before its first registration",
                )
            )
    for span in cli:
        if span.name == "newPlugin":
            prefix = span.attributes.get("prefix", "?")
            rows.append((span.start, span.seconds, f"start plugin {prefix}"))
        elif span.name.startswith("pulumirpc.ResourceProvider/") and span.seconds >= 0.02:
            rows.append((span.start, span.seconds, f"provider {span.name.split('/')[-1]}"))
    done = [s for s in monitor if s.name.endswith("/SignalAndWaitForShutdown")]
    if done and program is not None:
        rows.append((done[0].start, program.end - done[0].start, "program exit"))
    return sorted(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trace", type=Path)
    parser.add_argument("--all", action="store_true", help="every span, in order")
    args = parser.parse_args()
    spans = read_spans(args.trace)
    if args.all:
        for span in spans:
            print(f"{span.start:7.3f} {span.seconds:7.3f}  {span.service:24.24} {span.name}")
        return
    for start, seconds, what in phases(spans):
        print(f"{start:7.3f} {seconds:7.3f}  {what}")


if __name__ == "__main__":
    main()
