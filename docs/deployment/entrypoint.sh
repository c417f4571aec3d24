#!/bin/sh
# Writes DAGSTER_HOME/dagster.yaml for the configured instance (PostgreSQL when ACORN_DAGSTER_POSTGRES_URL is set;
# the file names the variable, never its value), then runs the container's command. `acorn` commands do this
# themselves; the webserver and the daemon, started directly, need it done first.
set -eu
python -c 'from acorn_cli.environment import prepare_environment; prepare_environment()'
exec "$@"
