"""Hostile and broken stack inputs through the loader: how many were refused cleanly, accepted, or
crashed, and the slowest and the largest.

The corpus: the named reproducers from issue 13 (alias bombs, deep nesting, huge lists and maps,
overflowing quantities, trailing newlines, YAML tags, duplicate keys, credentials in URLs, ...),
then seeded random mutations of every example manifest (characters cut, YAML punctuation and
tags inserted, values swapped for other types, keys duplicated), so a run is reproducible.

    .venv/bin/python benchmarks/hostile_inputs.py [--mutations 10000] [--seed 13]

"Refused cleanly" means one of the package's own errors (the CLI's exit 1, the program's
RunError); any other exception is counted as a crash and printed: the count must be 0.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import yaml

from percona_pg_operator.errors import PerconaPgOperatorError
from percona_pg_operator.manifest import parse_yaml

ROOT = Path(__file__).resolve().parents[1]
HEAD = "apiVersion: kubernetes.project-planton.org/v1\nkind: KubernetesPerconaPostgresOperator\n"


def spec(body: str) -> str:
    return HEAD + "metadata: {name: pg}\nspec:\n" + body


def named() -> Iterator[tuple[str, str]]:
    bomb = "".join(
        f"  {a}: &{a} [{', '.join(['*' + p] * 9)}]\n"
        for p, a in zip("abcdef", "bcdefg", strict=True)
    )
    yield "alias bomb", spec("  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + bomb)
    yield "deep nesting 1500", spec("  helmValues: " + "[" * 1500 + "]" * 1500 + "\n")
    yield "10 MB flow list", spec("  helmValues: {x: [" + "1," * 4_000_000 + "1]}\n")
    yield (
        "200k labels",
        HEAD
        + "metadata:\n  name: pg\n  labels:\n"
        + "".join(f"    k{i}: v\n" for i in range(200_000))
        + "spec: {}\n",
    )
    yield "cpu 1e1000000", spec("  container: {resources: {limits: {cpu: 1e1000000}}}\n")
    yield "negative request", spec("  container: {resources: {requests: {memory: -1Gi}}}\n")
    yield "trailing newline name", HEAD + "metadata:\n  name: |\n    pgop\nspec: {}\n"
    yield "duplicate keys", spec("  namespace: a\n  namespace: b\n")
    yield "python tag", spec("  namespace: !!python/object/apply:os.system [id]\n")
    yield "binary value", spec("  helmValues: {b: !!binary aGVsbG8=}\n")
    yield "set value", spec("  helmValues: {s: !!set {a, b}}\n")
    yield "date value", spec("  helmValues: {d: 2026-01-01}\n")
    yield "non-string key", spec("  helmValues: {1: one}\n")
    yield "owned raw key", spec("  helmValues: {watchNamespace: '*'}\n")
    yield (
        "lease overflow",
        spec(
            "  operator: {leaderElection: {leaseDuration: 9999999999h}}\n  helm: {version: 3.0.0}\n"
        ),
    )
    yield "repo with password", spec("  helm: {repo: 'https://admin:PASS@charts.example.com'}\n")
    yield "tag-like secret", spec("  x: !Sup3rS3cret\n")
    yield "affinity garbage", spec("  scheduling: {affinity: {nodeAffinity: 7}}\n")
    yield "label value too long", spec("  scheduling: {nodeSelector: {a: " + "x" * 64 + "}}\n")
    yield "not a mapping", "- a\n- b\n"
    yield "empty", ""
    yield "binary junk", "\x00\x01\x02\xff"


PUNCTUATION = [
    *[
        ":",
        "-",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&a",
        "*a",
        "|",
        ">",
        "'",
        '"',
        "#",
        "%",
        "@",
        "`",
        "?",
        "~",
        "0x",
        "1e999",
    ],
    *["!!binary ", "!!set ", "<<: ", "\n", "  ", "\t"],
]
REPLACEMENTS: list[object] = [None, True, 0, -1, 2**70, 1.5e308, "", "x" * 300, [], {}]
REPLACEMENTS += [[1, [2]], {"a": {}}, "2026-01-01", "pgop\n", "-1Gi"]


def mutations(seed: int, count: int) -> Iterator[tuple[str, str]]:
    rng = random.Random(seed)
    bases = [p.read_text() for p in sorted((ROOT / "examples").glob("*.yaml"))]
    docs = [yaml.safe_load(b) for b in bases]
    for i in range(count):
        kind = i % 3
        if kind == 0:  # text: cut and insert
            text = list(rng.choice(bases))
            for _ in range(rng.randint(1, 6)):
                at = rng.randrange(len(text) + 1)
                if rng.random() < 0.4 and text:
                    del text[at : at + rng.randint(1, 20)]
                else:
                    text.insert(at, rng.choice(PUNCTUATION))
            yield f"text mutation {i}", "".join(text)
        elif kind == 1:  # structure: a value replaced by another type
            doc = yaml.safe_load(yaml.safe_dump(rng.choice(docs)))
            node, parent, key = doc, None, None
            for _ in range(rng.randint(1, 5)):
                if isinstance(node, dict) and node:
                    parent, key = node, rng.choice(list(node))
                    node = node[key]
                elif isinstance(node, list) and node:
                    parent, key = node, rng.randrange(len(node))
                    node = node[key]
            if parent is not None:
                parent[key] = rng.choice(REPLACEMENTS)
            yield f"type mutation {i}", yaml.safe_dump(doc)
        else:  # a line duplicated (duplicate keys, repeated list items)
            lines = rng.choice(bases).splitlines(keepends=True)
            at = rng.randrange(len(lines))
            lines.insert(at, lines[at])
            yield f"line duplicated {i}", "".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    refused = accepted = 0
    crashed: list[tuple[str, str]] = []
    slowest = (0.0, "")
    largest = (0, "")
    for name, text in [*named(), *mutations(args.seed, args.mutations)]:
        start = time.perf_counter()
        try:
            parse_yaml(text, name)
        except PerconaPgOperatorError:
            refused += 1
        except Exception:  # what this script counts
            crashed.append((name, traceback.format_exc(limit=3)))
        else:
            accepted += 1
        took = time.perf_counter() - start
        slowest = max(slowest, (took, name))
        largest = max(largest, (len(text.encode("utf-8", "surrogatepass")), name))
    tried = refused + accepted + len(crashed)
    print(f"inputs tried        {tried}")
    print(f"refused cleanly     {refused}")
    print(f"accepted            {accepted}")
    print(f"crashed             {len(crashed)}")
    print(f"slowest             {slowest[0] * 1000:.0f} ms ({slowest[1]})")
    print(f"largest             {largest[0]:,} bytes ({largest[1]})")
    for name, trace in crashed[:5]:
        print(f"\nCRASH {name}:\n{trace}", file=sys.stderr)
    return 1 if crashed else 0


if __name__ == "__main__":
    raise SystemExit(main())
