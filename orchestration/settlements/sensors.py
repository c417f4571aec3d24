"""Inbox sensor: settlement files dropped in data/inbox/ are imported like `acorn import` would.

Off by default (a data dir is not always watched); turn it on in the UI (Automation → settlement_inbox_sensor) or
with `.venv/bin/dagster sensor start -w workspace.yaml settlement_inbox_sensor` while `make ui` runs.
A file is requested once per (name, size, mtime); importing the same bytes twice is a `duplicate` anyway, because
the raw archive is content-addressed.
"""

import json

import dagster as dg

from orchestration.account_partitions import partition_tags
from orchestration.resources import DataDirResource

SENSOR_NAME = "settlement_inbox_sensor"
# Files still being written (a browser's partial download) are left for the next tick.
IGNORED_SUFFIXES = (".part", ".crdownload", ".tmp", ".download")


@dg.sensor(
    name=SENSOR_NAME,
    job_name="settlement_import",  # orchestration/jobs.py (by name: the jobs module imports this domain)
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Imports settlement files dropped in data/inbox/ (off by default).",
)
def settlement_inbox_sensor(context: dg.SensorEvaluationContext, data: DataDirResource) -> dg.SensorResult:
    inbox = data.paths().inbox
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    requests = []
    for path in sorted(inbox.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name.endswith(IGNORED_SUFFIXES):
            continue
        stat = path.stat()
        fingerprint = f"{stat.st_size}:{stat.st_mtime_ns}"
        if seen.get(path.name) == fingerprint:
            continue
        seen[path.name] = fingerprint
        requests.append(
            dg.RunRequest(
                run_key=f"{path.name}:{fingerprint}",
                run_config={"ops": {"settlement_reports": {"config": {"import_files": [str(path)]}}}},
                # The file's account is known once it is read: a run over every account's partition.
                tags={"acorn/source": "inbox", **partition_tags()},
            )
        )
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))
