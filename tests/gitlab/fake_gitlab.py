"""A small local HTTP fake of the GitLab REST API v4 — the only mock in this project.

It answers just the endpoints netchange calls, with the response shapes of GitLab's API documentation
(docs.gitlab.com/ee/api/: notes.md, merge_requests.md, repository_files.md, commits.md, branches.md,
users.md), and keeps what clients write in memory so tests can assert on it:

    GET  /user                                                  the token's user
    GET  /projects/:id/merge_requests?state=opened              open MRs
    GET  /projects/:id/merge_requests/:iid/diffs                an MR's changed files
    GET  /projects/:id/repository/files/:path/raw?ref=REF       a file at a ref
    GET  /projects/:id/merge_requests/:iid/notes                notes (paginated: page, per_page)
    POST /projects/:id/merge_requests/:iid/notes                create a note
    PUT  /projects/:id/merge_requests/:iid/notes/:note_id       update a note
    GET  /projects/:id/repository/branches/:branch              404 when missing
    POST /projects/:id/repository/commits                       branch + file actions (start_branch)
    POST /projects/:id/merge_requests                           open an MR

Every request must carry the configured token in PRIVATE-TOKEN (python-gitlab's header), else 401 like
GitLab. `requests` records every call (method, path, query, body) for assertions.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


TOKEN = "glpat-TESTsecret-9f8e7d6c5b4a"  # the token tests configure; must never appear in any output


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _user(uid: int, username: str) -> dict:
    return {"id": uid, "username": username, "name": username.title(), "state": "active", "locked": False,
            "avatar_url": None, "web_url": f"http://gitlab.test/{username}"}


@dataclass
class OpenMR:
    iid: int
    title: str
    author: str
    sha: str
    files: dict[str, str]  # path -> content at the MR's head
    source_branch: str = "feature"
    target_branch: str = "main"


@dataclass
class FakeGitLab:
    token: str
    project_id: int = 42
    bot: dict = field(default_factory=lambda: _user(99, "project_42_bot"))
    open_mrs: list[OpenMR] = field(default_factory=list)
    notes: dict[int, list[dict]] = field(default_factory=dict)  # mr iid -> notes
    branches: dict[str, dict] = field(default_factory=dict)
    commits: list[dict] = field(default_factory=list)
    created_mrs: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    per_page_max: int = 2  # small, so pagination is exercised
    _next_id: int = 1000

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_note(self, iid: int, body: str, author: dict, system: bool = False) -> dict:
        note = {"id": self.next_id(), "type": None, "body": body, "attachment": None, "author": author,
                "created_at": _now(), "updated_at": _now(), "system": system, "noteable_id": 500 + iid,
                "noteable_type": "MergeRequest", "project_id": self.project_id, "resolvable": False,
                "confidential": False, "internal": False, "noteable_iid": iid, "commands_changes": {}}
        self.notes.setdefault(iid, []).append(note)
        return note

    def mr_json(self, mr: OpenMR) -> dict:
        return {"id": 500 + mr.iid, "iid": mr.iid, "project_id": self.project_id, "title": mr.title,
                "description": "", "state": "opened", "created_at": _now(), "updated_at": _now(),
                "target_branch": mr.target_branch, "source_branch": mr.source_branch,
                "author": _user(10 + mr.iid, mr.author), "source_project_id": self.project_id,
                "target_project_id": self.project_id, "draft": False, "work_in_progress": False,
                "merge_status": "can_be_merged", "sha": mr.sha, "merge_commit_sha": None,
                "web_url": f"http://gitlab.test/group/project/-/merge_requests/{mr.iid}",
                "references": {"short": f"!{mr.iid}"}}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitLab  # set on the subclass

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream" if isinstance(body, bytes) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _paged(self, items: list, query: dict) -> None:
        per_page = min(int(query.get("per_page", ["20"])[0]), self.fake.per_page_max)
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page: page * per_page]
        total_pages = max(1, -(-len(items) // per_page))
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(items)),
                   "X-Total-Pages": str(total_pages)}
        if page < total_pages:
            headers["X-Next-Page"] = str(page + 1)
            url = urlsplit(self.path)
            q = {k: v[0] for k, v in query.items()}
            q.update(page=str(page + 1), per_page=str(per_page))
            nxt = f"http://{self.headers['Host']}{url.path}?" + "&".join(f"{k}={v}" for k, v in q.items())
            headers["Link"] = f'<{nxt}>; rel="next"'
        self._send(200, chunk, headers)

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        f = self.fake
        f.requests.append({"method": method, "path": url.path, "query": query, "body": body,
                           "token": self.headers.get("PRIVATE-TOKEN")})
        if self.headers.get("PRIVATE-TOKEN") != f.token:
            return self._send(401, {"message": "401 Unauthorized"})
        parts = [unquote(p) for p in url.path.split("/") if p]
        if parts[:2] != ["api", "v4"]:
            return self._send(404, {"message": "404 Not Found"})
        p = parts[2:]
        if p == ["user"] and method == "GET":
            return self._send(200, f.bot)
        if len(p) < 2 or p[0] != "projects" or p[1] not in (str(f.project_id), "group/project"):
            return self._send(404, {"message": "404 Project Not Found"})
        p = p[2:]
        if p == ["merge_requests"] and method == "GET":
            mrs = [f.mr_json(m) for m in f.open_mrs] if query.get("state", ["opened"])[0] == "opened" else []
            return self._paged(mrs, query)
        if p == ["merge_requests"] and method == "POST":
            iid = 100 + len(f.created_mrs) + 1
            mr = {**body, "iid": iid, "id": 900 + iid, "state": "opened", "project_id": f.project_id,
                  "web_url": f"http://gitlab.test/group/project/-/merge_requests/{iid}", "author": f.bot}
            f.created_mrs.append(mr)
            return self._send(201, mr)
        if len(p) == 3 and p[0] == "merge_requests" and p[2] == "diffs" and method == "GET":
            mr = next((m for m in f.open_mrs if str(m.iid) == p[1]), None)
            if mr is None:
                return self._send(404, {"message": "404 Not found"})
            diffs = [{"old_path": path, "new_path": path, "a_mode": "0", "b_mode": "100644", "new_file": True,
                      "renamed_file": False, "deleted_file": False, "generated_file": False,
                      "diff": "@@ -0,0 +1 @@\n+..."} for path in mr.files]
            return self._paged(diffs, query)
        if len(p) == 3 and p[0] == "merge_requests" and p[2] == "notes":
            iid = int(p[1])
            if method == "GET":
                return self._paged(f.notes.get(iid, []), query)
            if method == "POST":
                return self._send(201, f.add_note(iid, body["body"], f.bot))
        if len(p) == 4 and p[0] == "merge_requests" and p[2] == "notes" and method == "PUT":
            note = next((n for n in f.notes.get(int(p[1]), []) if str(n["id"]) == p[3]), None)
            if note is None:
                return self._send(404, {"message": "404 Note Not Found"})
            if note["author"]["id"] != f.bot["id"]:
                return self._send(403, {"message": "403 Forbidden"})
            note["body"] = body["body"]
            note["updated_at"] = _now()
            return self._send(200, note)
        if len(p) >= 4 and p[:2] == ["repository", "files"] and p[-1] == "raw" and method == "GET":
            path = "/".join(p[2:-1])
            ref = query.get("ref", [""])[0]
            for mr in f.open_mrs:
                if mr.sha == ref and path in mr.files:
                    return self._send(200, mr.files[path].encode())
            return self._send(404, {"message": "404 File Not Found"})
        if len(p) >= 3 and p[:2] == ["repository", "branches"] and method == "GET":
            name = "/".join(p[2:])
            if name in f.branches:
                return self._send(200, f.branches[name])
            return self._send(404, {"message": "404 Branch Not Found"})
        if p == ["repository", "commits"] and method == "POST":
            branch = body["branch"]
            if branch not in f.branches and not body.get("start_branch"):
                return self._send(400, {"message": "You can only create or edit files when you are on a branch"})
            sha = f"{f.next_id():040x}"
            f.branches[branch] = {"name": branch, "merged": False, "protected": False, "default": False,
                                  "commit": {"id": sha, "short_id": sha[:8], "title": body["commit_message"]}}
            commit = {"id": sha, "short_id": sha[:8], "title": body["commit_message"], "message": body["commit_message"],
                      "author_name": f.bot["name"], "created_at": _now(), "parent_ids": [], "stats": {}, "status": None,
                      "actions": body.get("actions", []), "branch": branch, "start_branch": body.get("start_branch")}
            f.commits.append(commit)
            return self._send(201, {k: v for k, v in commit.items() if k not in ("actions", "branch", "start_branch")})
        return self._send(404, {"message": "404 Not Found"})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")


class FakeGitLabServer:
    """Runs a FakeGitLab on 127.0.0.1 in a thread: `with FakeGitLabServer(fake) as url: ...`."""

    def __init__(self, fake: FakeGitLab):
        self.fake = fake
        handler = type("Handler", (_Handler,), {"fake": fake})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        fake.bot["web_url"] = f"{self.url}/{fake.bot['username']}"  # python-gitlab checks it against its base URL
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return self.url

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
