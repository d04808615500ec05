"""Action items whose ticket is a GitHub issue, written as `owner/repo#N` or as the issue's URL."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import duckdb

from followthrough.commands.build import build
from models.settings import Settings

POSTMORTEM = """# Ledger write failures

**Date:** 2026-11-03

## Action Items

| Action | Owner | Ticket |
|---|---|---|
| Retry ledger writes on connection reset | @dana | quayside-dev/ledger-api#212 |
| Alert on write error rate | @lee | https://github.com/quayside-dev/ledger-api/issues/213 |
| Document the failover | @kim | quayside-dev/ledger-api#999 |
"""


def test_github_issue_references_link_to_their_tickets(vendor_payload, tmp_path: Path):
    template = vendor_payload("github_issues_list.json")[0]
    issues = []
    for number, title in ((212, "Retry ledger writes on connection reset"),
                          (213, "Alert on write error rate")):
        issue = copy.deepcopy(template)
        issue.pop("pull_request", None)
        issue.update(id=2718304000 + number, number=number, title=title,
                     url=f"https://api.github.com/repos/quayside-dev/ledger-api/issues/{number}",
                     html_url=f"https://github.com/quayside-dev/ledger-api/issues/{number}")
        issues.append(issue)
    exports = tmp_path / "exports"
    (exports / "github_issues" / "issues").mkdir(parents=True)
    (exports / "github_issues" / "issues" / "2026-11.quayside-dev__ledger-api.json").write_text(
        json.dumps(issues))
    (exports / "postmortems").mkdir()
    (exports / "postmortems" / "ledger.md").write_text(POSTMORTEM)
    build(Settings(warehouse=tmp_path / "w.duckdb", exports=exports))
    conn = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    links = conn.execute(
        "SELECT a.ticket_ref, t.ticket_key, t.link_kind FROM core.action_items a "
        "LEFT JOIN models.action_item_tickets t USING (action_item_id) ORDER BY a.ordinal"
    ).fetchall()
    conn.close()
    assert links == [
        ("quayside-dev/ledger-api#212", "quayside-dev/ledger-api#212", "doc_key"),
        ("https://github.com/quayside-dev/ledger-api/issues/213", "quayside-dev/ledger-api#213",
         "doc_key"),
        ("quayside-dev/ledger-api#999", None, None),  # named, but not a ticket we have
    ]
