"""Secrets only come from the environment and never appear in any output, error or artifact."""

from __future__ import annotations

import json

from fake_gitlab import TOKEN
from pipeline.gitlab.secrets import MASK, mask
from scratch_repo import change


def test_mask_hides_secret_variables_and_url_passwords():
    env = {"NETCHANGE_GITLAB_TOKEN": TOKEN, "MY_API_TOKEN": "abcdef123456", "HOME": "/root", "SHORT_TOKEN": "abc"}
    text = f"push to https://oauth2:{TOKEN}@gitlab.example.com/x.git failed; key abcdef123456 at /root; abc"
    out = mask(text, env)
    assert TOKEN not in out and "abcdef123456" not in out and out.count(MASK) == 2
    assert "/root" in out and out.endswith("abc")  # ordinary values stay readable
    assert mask("https://user:hunter2@host/repo.git", {}) == f"https://user:{MASK}@host/repo.git"


def test_token_never_appears_in_outputs(scratch, ci, gitlab_fake, monkeypatch, tmp_path):
    monkeypatch.setenv("NETCHANGE_GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("CI_MERGE_REQUEST_IID", "7")
    seen: list[str] = []
    summary = tmp_path / "summary.md"
    summary.write_text("summary\n")
    seen += [ci(scratch.work, "ci", "note", "--file", str(summary)).err]  # works
    # The API refuses (wrong token on the server side): the error names the failure, not the token.
    gitlab_fake.token = "another-token-value"
    r = ci(scratch.work, "ci", "note", "--file", str(summary))
    assert r.code == 1 and "401" in r.err
    seen += [r.out, r.err]
    # A ledger push to a URL carrying the token in it fails: git's message is masked.
    scratch.merge_change(change("CHG-0002"), "a")
    r = ci(scratch.work, "ci", "deploy", "--remote", f"https://oauth2:{TOKEN}@127.0.0.1:9/nowhere.git",
           "--report-dir", str(tmp_path / "reports"))
    assert r.code == 1 and "cannot fetch the ledger" in r.err
    seen += [r.out, r.err]
    # The unreachable API: connection errors are masked too.
    monkeypatch.setenv("NETCHANGE_GITLAB_URL", f"http://127.0.0.1:9/{TOKEN}")
    r = ci(scratch.work, "ci", "note", "--file", str(summary))
    assert r.code == 1
    seen += [r.out, r.err]
    for f in (tmp_path / "reports").rglob("*") if (tmp_path / "reports").exists() else ():
        seen.append(f.read_text())
    assert all(TOKEN not in s for s in seen), [s for s in seen if TOKEN in s]
    assert all(q["token"] for q in gitlab_fake.requests)  # sent as a header, only to the API


def test_token_is_given_to_git_through_askpass_not_the_command_line(scratch, monkeypatch):
    from pipeline.gitlab.gitrepo import remote

    monkeypatch.setenv("NETCHANGE_GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("CI_SERVER_URL", "https://gitlab.example.com")
    monkeypatch.setenv("CI_PROJECT_PATH", "net/policies")
    monkeypatch.delenv("NETCHANGE_GIT_REMOTE", raising=False)
    rem = remote()
    assert rem.name == "https://gitlab.example.com/net/policies.git" and TOKEN not in json.dumps(rem.env)
    script = open(rem.env["GIT_ASKPASS"]).read()
    assert TOKEN not in script and "$NETCHANGE_GITLAB_TOKEN" in script
