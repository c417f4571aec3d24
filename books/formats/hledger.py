"""hledger (and ledger) journal text: one transaction per journal, its id, kind, settlement and rule version as
tags, each posting's tax rate and line number as posting tags; `account` and `commodity` declarations so
`hledger check --strict` holds; and a balance assertion (`= total`) on the bank/card and deferred-balances
postings, so hledger and ledger prove the running balance as the journals say. One file per ACORN account."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from books.chart import Chart
from books.formats import ExportOptions, Rendered, asserted_accounts, by_account, file_stem
from books.journal import Journal
from books.money import plain

HEADER = (
    "; ACORN books export (hledger/ledger journal) of account {account}: written by `acorn books export`, from the\n"
    "; warehouse's fct_journal_lines. Export again rather than edit: the next export overwrites this file.\n"
)


def tag_value(text: str) -> str:
    """A tag value ends at a comma or the line's end: keep both out."""
    return text.replace(",", ";").replace("\n", " ")


def render(journals: list[Journal], chart: Chart, options: ExportOptions) -> Rendered:
    rendered = Rendered()
    for account_id, account_journals in by_account(journals).items():
        name = f"{file_stem(account_id)}.journal"
        accounts: set[str] = set()
        commodities: set[str] = set()
        running: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        blocks: list[str] = []
        watched = asserted_accounts(account_journals, chart, "hledger")
        for journal in account_journals:
            ledger = chart.ledger("hledger", journal.account_id, journal.currency)
            tags = [f"journal_id:{journal.journal_id}", f"journal_kind:{journal.kind}"]
            if journal.settlement_id:
                tags.append(f"settlement_id:{journal.settlement_id}")
            tags.append(f"rule_version:{tag_value(journal.lines[0].rule_version)}")
            text = [
                f"{journal.date.isoformat()} * {tag_value(journal.marketplace_name)} | {journal.narration}"
            ]
            text += [f"    ; {tag}" for tag in tags]
            postings = [(line, ledger.account(line.account_key)) for line in journal.lines]
            # The assertion goes on an asserted account's last posting in the journal (the balance after it).
            last_of: dict[tuple[str, str], int] = {}
            for index, (line, account) in enumerate(postings):
                if account in watched:
                    last_of[(account, line.currency)] = index
            # The journal's own text (the manifest's hash) leaves out the running balances, which depend on what
            # else the export holds.
            own = list(text)
            for index, (line, account) in enumerate(postings):
                accounts.add(account)
                commodities.add(line.currency)
                running[(account, line.currency)] += line.amount
                amount = f"{plain(line.amount, line.currency)} {line.currency}"
                comment = (
                    f"tax:{tag_value(ledger.tax_rate(line.tax_key))}, line:{line.line_number}, "
                    f"description:{tag_value(line.description)}"
                )
                own.append(f"    {account}  {amount}  ; {comment}")
                if last_of.get((account, line.currency)) == index:
                    balance = plain(running[(account, line.currency)], line.currency)
                    amount += f" = {balance} {line.currency}"
                text.append(f"    {account}  {amount}  ; {comment}")
            blocks.append("\n".join(text) + "\n")
            rendered.journals[journal.journal_id] = (name, "\n".join(own) + "\n")
        declarations = "".join(f"commodity {commodity}\n" for commodity in sorted(commodities))
        declarations += "".join(f"account {account}\n" for account in sorted(accounts))
        content = HEADER.format(account=account_id) + "\n" + declarations + "\n" + "\n".join(blocks)
        rendered.files[name] = content.encode()
    return rendered
