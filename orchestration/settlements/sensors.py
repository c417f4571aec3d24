"""Inbox sensor: settlement files dropped in data/inbox/ are imported like `acorn import` would.

Off by default (a data dir is not always watched); turn it on in the UI (Automation → settlement_inbox_sensor) or
with `.venv/bin/dagster sensor start -w workspace.yaml settlement_inbox_sensor` while `make ui` runs.
A file is requested once per (name, size, mtime); importing the same bytes twice is a `duplicate` anyway, because
the raw archive is content-addressed.

On Celery workers that share no disk with this host (ACORN_EXECUTOR=celery and an s3:// object store) the
sensor, which runs where the inbox is, sends each new file to the object store and its run names the file by
sha256 (`stored_files`), for the worker to download and check (stored_imports.py). A store this host cannot
use is a skip reason naming the cause and the fix; the file is not marked seen, so the next tick tries again.
"""

import json

import dagster as dg

from orchestration.account_partitions import partition_tags
from orchestration.resources import DataDirResource
from orchestration.settlements.stored_imports import StoreUnavailable, files_travel_by_store, send_file

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
    paths = data.paths()
    inbox = paths.inbox
    by_store = files_travel_by_store()
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    requests = []
    unavailable: str | None = None
    for path in sorted(inbox.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name.endswith(IGNORED_SUFFIXES):
            continue
        stat = path.stat()
        fingerprint = f"{stat.st_size}:{stat.st_mtime_ns}"
        if seen.get(path.name) == fingerprint:
            continue
        source: dict[str, list] = {"import_files": [str(path)]}
        if by_store:
            try:
                source = {
                    "stored_files": [send_file(path, data_dir=paths.root, argument=str(path)).to_config()]
                }
            except StoreUnavailable as error:
                unavailable = f"{path.name} could not be sent to the object store: {error}"
                break  # the next tick tries again (the file is not marked seen)
            except OSError:
                continue  # gone or unreadable meanwhile: looked at again next tick
        seen[path.name] = fingerprint
        requests.append(
            dg.RunRequest(
                run_key=f"{path.name}:{fingerprint}",
                run_config={"ops": {"settlement_reports": {"config": source}}},
                # The file's account is known once it is read: a run over every account's partition.
                tags={"acorn/source": "inbox", **partition_tags()},
            )
        )
    cursor = json.dumps(seen, sort_keys=True)
    if unavailable is not None:
        if not requests:
            return dg.SensorResult(skip_reason=unavailable, cursor=cursor)
        context.log.warning(unavailable)
    return dg.SensorResult(run_requests=requests, cursor=cursor)
