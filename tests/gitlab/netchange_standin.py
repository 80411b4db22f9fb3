"""`netchange` for pipeline tests: every command is the real one, except `deploy`, which is a stand-in.
It is kept only where a test needs no lab (the `ci deploy` / claim / record protocol in test_deploy.py and
test_scheduled_pipeline_deploys_once_and_keeps_the_ledger) or a deterministic fault the lab cannot give
(test_sharded_pipeline_stops_before_refresh_when_a_shard_fails_to_commit: one shard's commit job failing;
a deploy exiting 1 or 3 on demand). The sharded pipeline with the real `netchange deploy` against the lab,
including a shard failing its refresh and every shard rolling back, is
test_sharded_pipeline_real_deploy_on_the_lab. It follows the documented interface:

    netchange deploy CHANGE [--shard i/n] [--phase all|commit|refresh|rollback|gc] [--journal-dir DIR]
                            [--report FILE.json] ...
    exit 0 deployed, 1 failed and rolled back, 2 usage/input error, 3 refused

and appends one JSON line per call to $NETCHANGE_STANDIN_LOG (change, shard, phase, whether this shard's
journal from the commit phase was there), so tests can see which jobs ran in which order. It never talks
to a device. $NETCHANGE_STANDIN_FAIL_SHARD makes that shard fail in $NETCHANGE_STANDIN_FAIL_PHASE
(default: commit); a change listed in
$NETCHANGE_STANDIN_FAIL_CHANGES fails with $NETCHANGE_STANDIN_EXIT.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def standin_deploy(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="netchange deploy (stand-in)")
    ap.add_argument("change")
    ap.add_argument("--shard", default="1/1")
    ap.add_argument("--phase", default="all")
    ap.add_argument("--journal-dir")
    ap.add_argument("--report")
    ap.add_argument("--plan")
    ap.add_argument("--markdown")
    ap.add_argument("--workers")
    a = ap.parse_args(argv)
    cid = Path(a.change).stem
    index = a.shard.split("/")[0]
    journal = Path(a.journal_dir) / "journal.json" if a.journal_dir else None
    had_journal = bool(journal and journal.exists())
    fail_phase = os.environ.get("NETCHANGE_STANDIN_FAIL_PHASE") or "commit"
    failing = (a.phase in (fail_phase, "all") and os.environ.get("NETCHANGE_STANDIN_FAIL_SHARD") == index) \
        or cid in os.environ.get("NETCHANGE_STANDIN_FAIL_CHANGES", "").split(",")
    rc = int(os.environ.get("NETCHANGE_STANDIN_EXIT", "1")) if failing else 0
    if journal and a.phase in ("commit", "all"):
        journal.parent.mkdir(parents=True, exist_ok=True)
        journal.write_text(json.dumps({"change": cid, "shard": a.shard, "committed": not failing}))
    verdict = {0: "deployed", 1: "rolled_back", 3: "refused"}.get(rc, "refused")
    if a.report:
        Path(a.report).parent.mkdir(parents=True, exist_ok=True)
        Path(a.report).write_text(json.dumps({"change": cid, "verdict": verdict, "phase": a.phase,
                                              "devices": [{"host": f"shard{index}-dev"}]}))
    log = os.environ.get("NETCHANGE_STANDIN_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"change": cid, "shard": a.shard, "phase": a.phase, "had_journal": had_journal,
                                "rc": rc, "t": time.time(), "pid": os.getpid()}) + "\n")
    print(f"stand-in deploy {cid} shard {a.shard} phase {a.phase}: exit {rc}")
    return rc


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["deploy"]:
        return standin_deploy(argv[1:])
    from pipeline.gitlab.cli import main as netchange

    return netchange(argv)


if __name__ == "__main__":
    sys.exit(main())
