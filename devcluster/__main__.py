"""`python -m devcluster`: run the development cluster until Ctrl-C (see devcluster/cli.py)."""

from devcluster.cli import cluster_command

cluster_command(prog_name="python -m devcluster")
