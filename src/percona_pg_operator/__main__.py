"""``python -m percona_pg_operator``: the command line (also the kubeconfigs' exec plugin)."""

from .cli import main

main()
