-- fct_settlement_sources states each source's difference from the reference total, which is the settlement
-- report's total whenever a report exists: every difference must be exactly source - report.
select settlement_id, account_id
from {{ ref('fct_settlement_sources') }}
where report_total is not null
    and (
        summary_difference is distinct from cast(summary_net_proceeds - report_total as decimal(18, 2))
        or transactions_difference
        is distinct from cast(released_transactions_total - report_total as decimal(18, 2))
        or event_group_difference is distinct from cast(event_group_total - report_total as decimal(18, 2))
    )
