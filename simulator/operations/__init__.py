"""The SP-API operations the simulator serves, one module per API: parameters validated as Amazon does, pages
cut from the ledger (see context.py for what every handler shares)."""
