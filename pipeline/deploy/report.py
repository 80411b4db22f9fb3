"""Deploy reports: JSON for machines, a short markdown summary for people."""

from __future__ import annotations

ICON = {"deployed": "✅", "no_op": "➖", "refused": "⛔", "rolled_back": "↩️", "rollback_failed": "❌", "committed": "⏸",
        "undone": "↩️", "undo_failed": "❌"}


def to_markdown(rep: dict) -> str:
    lines = [f"### netchange deploy {rep['change']}: {ICON.get(rep['verdict'], '')} {rep['verdict']}", "",
             rep["summary"], "", f"{rep['seconds']:.1f} s in total: " +
             ", ".join(f"{k} {v:.1f} s" for k, v in rep["timings"].items()), "",
             "| device | status | commands | refreshed | checks | error |", "|---|---|---:|---|---|---|"]
    for d in rep["devices"]:
        sent = sum(len(e.get("commands", [])) for e in d["events"] if e["phase"] == "commit")
        refreshed = ", ".join(e["target"] for e in d["events"] if e["phase"] == "refresh") or "—"
        ok = sum(1 for c in d["checks"] if c["ok"])
        bad = [c for c in d["checks"] if not c["ok"]]
        lines.append(f"| {d['host']} | {d['status']} | {sent} | {refreshed} | {ok}/{len(d['checks'])} ok"
                     f"{' — ' + bad[0]['check'] if bad else ''} | {(d['error'] or '').replace('|', '/')[:120]} |")
    for c in rep.get("checks", []):
        lines.append(f"- {'✅' if c['ok'] else '❌'} {c['check']}: {c['detail']}")
    if rep.get("action"):
        a = rep["action"]
        lines += ["", f"**A person must act:** {a['why']}.", "", f"    {a['command']}"]
    return "\n".join(lines) + "\n"
