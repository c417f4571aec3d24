"""Whether every settlement file a run read was accepted: the check that makes a quarantined file visible.

The landing step itself never fails for a bad file (the other files, and in the daily job the warehouse build,
must go on); this check reads what that step recorded in this run and, through `acorn_check`, fails its own
step when a file was quarantined or rejected, so the run is not a plain green Success.
"""

import dagster as dg

from orchestration.settlements.assets import SETTLEMENT_LINES, outcomes_from_metadata
from orchestration.verdict import acorn_check

SETTLEMENT_FILES_ACCEPTED = "settlement_files_accepted"
REFUSED = ("quarantined", "rejected")


@acorn_check(
    asset=SETTLEMENT_LINES,
    name=SETTLEMENT_FILES_ACCEPTED,
    description="Every settlement file this run read was imported (or was already, or had no lines): none "
    "quarantined, none rejected. The files that did land stay landed.",
)
def settlement_files_accepted(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    event = context.instance.get_latest_materialization_event(SETTLEMENT_LINES)
    if event is None or event.run_id != context.run.run_id:
        return dg.AssetCheckResult(
            passed=True, severity=dg.AssetCheckSeverity.ERROR, metadata={"files": 0, "note": "no file read"}
        )
    materialization = event.asset_materialization
    outcomes = outcomes_from_metadata(dict(materialization.metadata)) if materialization else []
    refused = [o for o in outcomes if o["status"] in REFUSED]
    return dg.AssetCheckResult(
        passed=not refused,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "files": len(outcomes),
            "files_quarantined": sum(o["status"] == "quarantined" for o in refused),
            "files_rejected": sum(o["status"] == "rejected" for o in refused),
            "refused": dg.MetadataValue.json(refused),
        },
    )
