"""The "Contributing CI signals" section: which repositories were searched, and for the failures
ranked most relevant, where and when they failed, whether they failed before, and the log excerpt."""

from __future__ import annotations

from .evidence import job_label, ranked_failures
from .records import CiFailure, DeploymentFacts, DraftInput, ExcerptLine
from .text import code, link, md, plain, relative, safe_text, sha7, stamp, times, utc

MAX_CI_SIGNALS = 8
MAX_EXCERPT_LINES = 12


def _scope_lines(d: DraftInput) -> list[str]:
    """The repositories considered, their CI activity in the window, and the warehouse's notes."""
    out: list[str] = []
    if d.repos:
        considered = "; ".join(f"{md(r.repo)} ({md(r.reason, 120)})" for r in d.repos)
        out.append(f"Repositories considered: {considered}.")
    else:
        out.append(
            "No repository could be tied to this incident's service: no repository name "
            "contains it and no production deploy preceded the incident."
        )
    out.append("")
    for a in d.ci_activity:
        out.append(
            f"- {md(a.repo)}: {a.jobs} CI job{'s' if a.jobs != 1 else ''} finished in the window, "
            f"{a.failures} failed"
        )
    if d.ci_activity:
        out.append("")
    for note in d.notes:
        out.append(f"> {md(note, 300)}")
        out.append("")
    return out


def excerpt_block(lines: tuple[ExcerptLine, ...]) -> list[str]:
    """Excerpt lines in a fence; every line starts with its number so none can close the fence."""
    chosen = list(lines[:MAX_EXCERPT_LINES])
    width = max(len(str(ln.n)) for ln in chosen)
    body = [
        f"{'>' if not ln.context else ' '} {str(ln.n).rjust(width)}  {plain(ln.text, 300)}" for ln in chosen
    ]
    if len(lines) > len(chosen):
        body.append(f"  ({len(lines) - len(chosen)} more excerpt lines)")
    return ["```text", *body, "```"]


def _history_lines(f: CiFailure) -> list[str]:
    """Whether this failure happened before (and whether its fix held), and earlier links to it."""
    out: list[str] = []
    rec = f.recurrence
    if rec is not None and rec.occurrence > 1:
        msg = safe_text(rec.message, f"failed {times(rec.prior_failures)} before", 300)
        parts = [f"- This path failed before: {msg}"]
        if rec.prior_ticket_keys:
            parts.append(f"prior tickets {', '.join(md(k, 40) for k in rec.prior_ticket_keys)}")
        if rec.prior_postmortem_ids:
            parts.append(f"prior postmortems {', '.join(code(p, 120) for p in rec.prior_postmortem_ids)}")
        line = "; ".join(parts)
        if rec.fix_did_not_hold:
            line += " — **the fix did not hold**"
        out.append(line)
    elif f.cluster_id:
        out.append("- First failure of this kind in the warehouse")
    if f.links:
        shown_links = ", ".join(
            f"{md(lk.link_type, 20)} {code(lk.target_id, 120)} (by {md(lk.evidence, 30)}"
            + (f", {utc(lk.linked_at).date().isoformat()}" if lk.linked_at else "")
            + ")"
            for lk in f.links[:6]
        )
        out.append(f"- Earlier links to this failure: {shown_links}")
    return out


def _excerpt_lines(f: CiFailure) -> list[str]:
    if f.excerpt:
        return ["", *excerpt_block(f.excerpt)]
    if f.analysed:
        note = "; ".join(md(n, 120) for n in f.excerpt_notes) or "the log gave no excerpt"
        return [f"- No excerpt: {note}"]
    return ["- No excerpt: the job's log was not exported or not analysed yet"]


def _signal(d: DraftInput, i: int, f: CiFailure, deploys: dict[int, DeploymentFacts]) -> list[str]:
    """One failing job: what, where and when, the deploy it ran, links, fingerprint and history."""
    out = [f"### CI signal {i}: {md(job_label(f), 100)} on {md(f.repo)}", ""]
    verb = "Timed out" if f.conclusion == "timed_out" else "Failed"
    where = f"commit {sha7(f.sha)}" + (f" on {md(f.branch, 60)}" if f.branch else "")
    step = f", step {code(f.failed_step, 60)}" if f.failed_step else ""
    out.append(
        f"- {verb} at {stamp(f.failed_at)}, {relative(f.failed_at, d.incident.created_at)}; {where}{step}"
    )
    dep = deploys.get(f.job_id)
    if dep is not None:
        env = md(dep.environment or "production", 60)
        out.append(f"- This job ran {link(f'deployment {dep.deployment_id}', dep.url)} to {env}")
    links = [
        x for x in (link("run", f.run_url) if f.run_url else "", link("job", f.url) if f.url else "") if x
    ]
    if links:
        out.append(f"- Links: {' · '.join(links)}")
    if f.fingerprint:
        cluster = f", cluster {code(f.cluster_id, 40)}" if f.cluster_id else ""
        out.append(f"- Fingerprint {code(f.fingerprint, 64)}{cluster}")
    out += _history_lines(f)
    out += _excerpt_lines(f)
    out.append("")
    return out


def ci_signals_section(d: DraftInput) -> tuple[list[str], list[CiFailure]]:
    """The section's lines and the failures shown in it (the conditions draw on the same ones)."""
    out = ["## Contributing CI signals", "", *_scope_lines(d)]
    ranked = ranked_failures(d)
    shown = ranked[:MAX_CI_SIGNALS]
    if not shown:
        out.append("No CI job of these repositories failed in the window.")
        out.append("")
    deploys = {dep.job_id: dep for dep in d.deployments if dep.job_id is not None}
    for i, f in enumerate(shown, start=1):
        out += _signal(d, i, f, deploys)
    if len(ranked) > len(shown):
        more = len(ranked) - len(shown)
        out.append(
            f"> {more} more failing job{'s' if more != 1 else ''} in the window not shown: query "
            "`core.ci_failures` for the repositories above."
        )
        out.append("")
    return out, shown
