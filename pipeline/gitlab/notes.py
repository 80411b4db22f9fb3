"""One netchange note per merge request, created once and then updated in place.

The note is found again by a hidden HTML marker (invisible in GitLab's rendering) and must be written by
the same user as the token, so a human quoting the marker is never overwritten.
"""

from __future__ import annotations

from .api import GitLabContext, api_errors

MARKER = "<!-- netchange:mr-summary -->"
# GitLab refuses note bodies over 1,000,000 characters; leave room for the marker and the pointer.
MAX_BODY = 900_000


def note_body(summary: str) -> str:
    if len(summary) > MAX_BODY:
        summary = summary[:MAX_BODY] + "\n\n… truncated: the full summary is the pipeline's `summary.md` artifact."
    return f"{MARKER}\n{summary}"


def upsert_note(ctx: GitLabContext, mr_iid: int, summary: str) -> tuple[str, int]:
    """Create or update the netchange note on MR !mr_iid. Returns ("created"|"updated", note id)."""
    body = note_body(summary)
    with api_errors(f"reading MR !{mr_iid}"):
        ctx.gl.auth()
        me = ctx.gl.user.id if ctx.gl.user else None
        mr = ctx.project.mergerequests.get(mr_iid, lazy=True)
        ours = [n for n in mr.notes.list(iterator=True, sort="asc", order_by="created_at")
                if not getattr(n, "system", False) and MARKER in (n.body or "")
                and (me is None or (n.author or {}).get("id") == me)]
    if ours:
        note = ours[0]
        if note.body == body:
            return "unchanged", note.id
        note.body = body
        with api_errors(f"updating note {note.id} on MR !{mr_iid}"):
            note.save()
        return "updated", note.id
    with api_errors(f"creating a note on MR !{mr_iid}"):
        created = mr.notes.create({"body": body})
    return "created", created.id
