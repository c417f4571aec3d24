-- The report total fct_settlement_sources compares against is the payout's total in fct_payouts, for every
-- settlement that has a report, and a settlement with a report is never missing from the comparison.
select coalesce(payouts.settlement_id, sources.settlement_id) as settlement_id
from {{ ref('fct_payouts') }} as payouts
full outer join (
    select * from {{ ref('fct_settlement_sources') }} where report_total is not null
) as sources
    on payouts.settlement_id = sources.settlement_id
where payouts.total_amount is distinct from sources.report_total
