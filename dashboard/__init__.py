"""ACORN's dashboard (`acorn dashboard`): income, money held, payouts, fees, refunds, checks and vendor orders,
read from a snapshot of the published marts."""
