"""Pulumi entry point (see Pulumi.yaml): `STACK_INPUT_YAML_FILE=stack-input.yaml pulumi up`."""

from percona_pg_operator.program import run

run()
