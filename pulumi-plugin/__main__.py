"""The component provider: the engine runs this for a program that added the package."""

from importlib.metadata import version

from percona_pg_operator.deploy.package import serve

if __name__ == "__main__":
    serve(version("percona-pg-operator"))
