"""Junos: a candidate configuration edited with `set` / `delete` / `insert` / `(de)activate`, printed by
`show configuration | display set`, and activated only by a commit whose check refuses dangling references.

Sources:
- [JCLI] Junos CLI User Guide, "Commit the candidate configuration" / "commit confirmed": the candidate is
  not used until committed; a commit checks syntax and semantics ("the software makes sure that a policy
  has been defined before it is referenced", e.g. `error: Policy error: Policy my-policy referenced but
  not defined` / `error: configuration check-out failed`, quoted at dummies.com "How to commit your Junos
  configuration"); `commit confirmed N` rolls back unless confirmed by `commit` within N minutes (Junos
  NETCONF/XML guides, "Commit the Candidate Configuration Only After Confirmation").
- [JPOL] Junos Routing Policy guide: `from prefix-list`, `from route-filter-list`, `from community`,
  `from as-path-group`, `then community add|set|delete`, BGP `import`/`export` chains name policies;
  interfaces name firewall filters (`family inet filter input|output`).
- Corpus: shared/corpus/juniper_junos (`display set` files and curly-brace configurations).

Modelled: the hierarchy as a tree of tokens (`set a b c` adds the path; `delete a b` removes the subtree and
empty non-identifier parents), single-valued statements (`then local-preference`, `metric`, `next-hop`,
`description`, `peer-as`, `filter input|output`, ...) replaced by a new `set`, mutually exclusive flow
actions (`then accept|reject|next ...`), `insert X before|after Y`, `deactivate`/`activate`,
`commit check`, `commit`, `commit confirmed N` (+ `expire_confirm()` to let its timer run out),
`rollback N`. Not modelled: groups inheritance (`apply-groups` content is kept, not expanded), schema
validation of values, `replace:`/`protect:` semantics (kept as tokens stripped of their tag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

from .errors import Rejected, Unmodelled
from .policy import Ref, Rules, View


@dataclass
class Node:
    children: dict[str, "Node"] = field(default_factory=dict)
    inactive: bool = False
    explicit: bool = False  # set as a statement of its own (printed even when it has children)

    def clone(self) -> "Node":
        return Node({k: c.clone() for k, c in self.children.items()}, self.inactive, self.explicit)


# Identifier-taking keywords: the token after them names an entry, which stays when emptied.
NAMED = {"prefix-list", "route-filter-list", "policy-statement", "term", "community", "as-path-group", "as-path", "group",
         "neighbor", "filter", "unit", "interfaces", "routing-instances", "policer", "condition", "members", "family"}
# (context keyword, statement) pairs holding one value: a new `set` replaces the old value.
SINGLE = {("then", "local-preference"), ("then", "metric"), ("then", "next-hop"), ("then", "origin"), ("then", "preference"),
          ("then", "as-path-prepend"), ("then", "count"), ("then", "policer"), ("*", "description"), ("*", "peer-as"),
          ("*", "type"), ("*", "local-address"), ("*", "autonomous-system"), ("*", "host-name"), ("filter", "input"),
          ("filter", "output"), ("*", "local-as"), ("*", "router-id")}
FLOW = {"accept", "reject", "next", "discard"}  # under `then`: one of them


def tokens(line: str) -> list[str]:
    """Split a set-line or brace-statement into tokens; quoted strings are one token (quotes dropped)."""
    out, i, n = [], 0, len(line)
    while i < n:
        c = line[i]
        if c.isspace():
            i += 1
        elif c == '"':
            j = i + 1
            buf = []
            while j < n and line[j] != '"':
                if line[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(line[j])
                j += 1
            out.append("".join(buf))
            i = j + 1
        else:
            j = i
            while j < n and not line[j].isspace():
                j += 1
            out.append(line[i:j])
            i = j
    return out


def quote(tok: str) -> str:
    """As `display set` prints a token: quoted only when it has to be."""
    if tok == "" or re.search(r"[\s;{}\[\]\"#'()|&*?<>\\]", tok) and not re.fullmatch(r"<[^\s]*>", tok):
        return '"' + tok.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return tok


class JunosSim:
    platform = "juniper_junos"
    rules = Rules()
    live_each_command = False  # only a commit makes the candidate live

    def __init__(self, text: str = ""):
        self.active = Node()
        self.history: list[Node] = []  # rollback 1, 2, ... (most recent first)
        self.candidate: Node | None = None
        self.pending_confirm: Node | None = None  # what a confirmed commit rolls back to
        self.log: list[str] = []
        if text:
            self.load(text)

    # ---------------------------------------------------------------- loading a configuration
    def load(self, text: str) -> None:
        root = Node()
        if any(ln.strip().startswith(("set ", "deactivate ")) for ln in text.splitlines()[:200]) and "{" not in text:
            for raw in text.splitlines():
                line = raw.strip()
                if line.startswith("set "):
                    self._set(root, tokens(line)[1:], raw)
                elif line.startswith("deactivate "):
                    node = self._find(root, tokens(line)[1:])
                    if node is not None:
                        node.inactive = True
        else:
            self._load_braces(root, text)
        self.active = root

    def _load_braces(self, root: Node, text: str) -> None:
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        stack: list[list[str]] = [[]]
        buf = ""
        inq = False
        toks_stream: list[tuple[str, str]] = []  # (kind, text): "stmt", "open", "close"

        def flush(kind: str):
            nonlocal buf
            if buf.strip() or kind != "stmt":
                toks_stream.append((kind, buf.strip()))
            buf = ""

        for line in text.splitlines():
            s = line.strip()
            if not inq and (s.startswith("#") or not s):
                continue
            i = 0
            while i < len(line):
                c = line[i]
                if c == '"':
                    inq = not inq
                    buf += c
                elif inq:
                    buf += c
                elif c == ";":
                    flush("stmt")
                elif c == "{":
                    flush("open")
                elif c == "}":
                    if buf.strip():
                        flush("stmt")
                    flush("close")
                elif c == "#" and not buf.strip():
                    break
                else:
                    buf += c
                i += 1
            if inq:
                buf += "\n"
        for kind, body in toks_stream:
            inactive = False
            for tag in ("inactive:", "replace:", "protect:"):
                if body.startswith(tag):
                    body = body[len(tag):].strip()
                    inactive = inactive or tag == "inactive:"
            toks = tokens(body)
            if kind == "close":
                stack.pop()
                continue
            path = [t for part in stack for t in part]
            if "[" in toks:  # keyword [ a b c ]
                k = toks.index("[")
                head, items = toks[:k], [t for t in toks[k + 1:] if t != "]"]
                for it in items:
                    self._set(root, path + head + [it], body)
                node = self._find(root, path + head)
            else:
                node = self._set(root, path + toks, body, explicit=kind == "stmt")
            if inactive and node is not None:
                node.inactive = True
            if kind == "open":
                stack.append(toks)

    # ---------------------------------------------------------------- tree operations
    def _find(self, root: Node, path: list[str]) -> Node | None:
        node = root
        for t in path:
            node = node.children.get(t)
            if node is None:
                return None
        return node

    def _set(self, root: Node, path: list[str], line: str, explicit: bool = True) -> Node:
        if not path:
            raise Rejected(line, "syntax error")
        node = root
        for i, t in enumerate(path):
            ctx = path[i - 1] if i else ""
            if (ctx, t) in SINGLE or ("*", t) in SINGLE:
                # the value after a single-valued statement replaces the old one
                if t in node.children and i + 1 < len(path):
                    keep = node.children[t].children.get(path[i + 1])
                    node.children[t].children = {path[i + 1]: keep} if keep else {}
            if ctx == "then" and t in FLOW:
                for other in FLOW - {t}:
                    node.children.pop(other, None)
            node = node.children.setdefault(t, Node())
        node.explicit = node.explicit or explicit
        return node

    def _delete(self, root: Node, path: list[str], line: str) -> None:
        chain = [root]
        for t in path:
            nxt = chain[-1].children.get(t)
            if nxt is None:
                return  # Junos: "warning: statement not found", nothing changes
            chain.append(nxt)
        del chain[-2].children[path[-1]]
        # prune emptied parents that are not named entries
        for depth in range(len(path) - 1, 0, -1):
            node = chain[depth]
            if node.children or path[depth - 1] in NAMED or node.explicit and path[depth - 1] not in ("from", "then"):
                break
            del chain[depth - 1].children[path[depth - 1]]

    def _insert(self, root: Node, toks: list[str], line: str) -> None:
        # insert <path> <key> <value> before|after <key> <value>
        try:
            k = next(i for i, t in enumerate(toks) if t in ("before", "after"))
        except StopIteration:
            raise Rejected(line, "syntax error") from None
        path, where, ref = toks[:k], toks[k], toks[k + 1:]
        if len(path) < 2 or len(ref) != 2 or ref[0] != path[-2]:
            raise Rejected(line, "syntax error")
        parent = self._find(root, path[:-1])
        if parent is None or path[-1] not in parent.children or ref[1] not in parent.children:
            raise Rejected(line, "error: statement not found")
        items = [(n, c) for n, c in parent.children.items() if n != path[-1]]
        pos = next(i for i, (n, _) in enumerate(items) if n == ref[1]) + (1 if where == "after" else 0)
        items.insert(pos, (path[-1], parent.children[path[-1]]))
        parent.children = dict(items)

    # ---------------------------------------------------------------- the CLI
    def apply(self, command: str) -> None:
        line = command.strip()
        self.log.append(line)
        if not line or line.startswith("#"):
            return
        toks = tokens(line)
        verb, rest = toks[0], toks[1:]
        if self.candidate is None and verb in ("set", "delete", "insert", "deactivate", "activate"):
            self.candidate = self.active.clone()
        if verb == "set":
            self._set(self.candidate, rest, line)
        elif verb == "delete":
            if not rest:
                raise Unmodelled(line, "`delete` of the whole configuration")
            self._delete(self.candidate, rest, line)
        elif verb == "insert":
            self._insert(self.candidate, rest, line)
        elif verb in ("deactivate", "activate"):
            node = self._find(self.candidate, rest)
            if node is None:
                raise Rejected(line, "error: statement not found")
            node.inactive = verb == "deactivate"
        elif verb == "commit":
            self._commit(rest, line)
        elif verb == "rollback":
            n = int(rest[0]) if rest else 0
            versions = [self.active] + self.history
            if n >= len(versions):
                raise Rejected(line, f"error: Cannot find rollback {n}")
            self.candidate = versions[n].clone()
        elif verb in ("configure", "exit", "top", "up"):
            return
        else:
            raise Unmodelled(line, "junos simulator: command not modelled")

    def _commit(self, rest: list[str], line: str) -> None:
        cand = self.candidate if self.candidate is not None else self.active
        errors = self.check(cand)
        if errors:
            raise Rejected(line, "\n".join(errors + ["error: configuration check-out failed"]))
        if rest[:1] == ["check"]:
            return
        if rest[:1] == ["confirmed"]:
            self.pending_confirm = self.pending_confirm or self.active  # committed versions are never edited again
        elif rest and rest[0] not in ("and-quit", "comment"):
            raise Unmodelled(line, "junos simulator: commit option not modelled")
        else:
            self.pending_confirm = None  # a plain commit confirms a pending `commit confirmed`
        if cand is not self.active:
            self.history.insert(0, self.active)
            self.active = cand
        self.candidate = None

    def fork(self) -> "JunosSim":
        """An independent simulator with the same active configuration (committed versions are never
        edited in place: a candidate is always a clone)."""
        other = JunosSim()
        other.active = self.active
        return other

    def expire_confirm(self) -> None:
        """The `commit confirmed` timer ran out without a confirming `commit`: Junos rolls back by itself."""
        if self.pending_confirm is not None:
            self.history.insert(0, self.active)
            self.active = self.pending_confirm
            self.pending_confirm = None

    def enter_config(self, command: str | None = None) -> None:
        """`configure` (or `configure exclusive`, `configure private`: one candidate here)."""
        self.apply(command or "configure")

    def leave_config(self) -> None:
        """`exit configuration-mode`: the candidate stays as it is until the next commit or rollback."""

    def execute(self, command: str) -> None:
        """Operational mode: the commit modes send nothing there for Junos."""
        raise Unmodelled(command, "junos simulator: operational-mode command not modelled")

    def push(self, commands: list[str], tag: str) -> Iterator[str]:
        """As the deployer does: the lines into the candidate, then `commit confirmed 5` and `commit`."""
        self.apply("configure")
        for c in commands:
            self.apply(c)
            yield c
        for c in ("commit confirmed 5", "commit"):
            self.apply(c)
            yield c

    # ---------------------------------------------------------------- the commit check
    def references(self, root: Node) -> tuple[list[Ref], dict[str, set[str]]]:
        """Every reference (source, kind, name) in active statements, and what exists, by kind."""
        refs: list[Ref] = []
        have: dict[str, set[str]] = {k: set() for k in ("prefix_list", "route_filter_list", "community", "as_path_group", "as_path",
                                                        "policy", "filter_inet", "filter_inet6", "filter_any", "filter_unit")}
        po = self._active(root, ["policy-options"])
        if po:
            for kind, word in (("prefix_list", "prefix-list"), ("route_filter_list", "route-filter-list"), ("community", "community"),
                               ("as_path_group", "as-path-group"), ("as_path", "as-path"), ("policy", "policy-statement")):
                have[kind] |= {n for n, c in po.children.get(word, Node()).children.items() if not c.inactive}
        fw = self._active(root, ["firewall"])
        if fw:
            for fam, kind in (("inet", "filter_inet"), ("inet6", "filter_inet6"), ("any", "filter_any")):
                have[kind] |= set(self._names(fw, ["family", fam, "filter"]))
            have["filter_inet"] |= set(self._names(fw, ["filter"]))  # legacy `firewall filter` is family inet
            # a unit-level `filter input X` (no family) names a filter of the unit's family (any, bridge, ccc, ...)
            have["filter_unit"] = {n for fam in fw.children.get("family", Node()).children for n in self._names(fw, ["family", fam, "filter"])}
        for path in self._leaves(root, []):
            if path and path[0] == "groups":
                continue  # group templates are checked where they are applied (not modelled)
            refs += self._refs_of(path)
        return refs, have

    def _active(self, root: Node, path: list[str]) -> Node | None:
        node = self._find(root, path)
        return node if node is not None and not node.inactive else None

    def _names(self, node: Node, path: list[str]) -> list[str]:
        n = self._find(node, path)
        return [k for k, c in n.children.items() if not c.inactive] if n else []

    def _leaves(self, node: Node, path: list[str]) -> Iterator[list[str]]:
        for name, child in node.children.items():
            if child.inactive:
                continue
            p = path + [name]
            if not child.children or child.explicit:
                yield p
            yield from self._leaves(child, p)

    def _refs_of(self, p: list[str]) -> list[Ref]:
        out: list[Ref] = []
        if p[:2] == ["policy-options", "policy-statement"] and len(p) >= 3:
            where = f"policy-statement {p[2]}" + (f" term {p[p.index('term') + 1]}" if "term" in p[3:5] else "")
            tail = p[3:]
            if tail[:1] == ["term"]:
                tail = tail[2:]
            for i, t in enumerate(tail[:-1]):
                nxt = tail[i + 1]
                if tail[0] == "from":
                    kind = {"prefix-list": "prefix_list", "prefix-list-filter": "prefix_list", "route-filter-list": "route_filter_list",
                            "community": "community", "as-path-group": "as_path_group", "as-path": "as_path", "policy": "policy"}.get(t)
                    if kind and i == 1:
                        out.append(Ref(where, kind, nxt))
                elif tail[0] == "then" and t == "community" and nxt in ("add", "set", "delete") and i + 2 < len(tail):
                    out.append(Ref(where, "community", tail[i + 2]))
            return out
        if p and p[0] in ("protocols", "routing-instances"):
            for i, t in enumerate(p[:-1]):
                if t in ("import", "export", "vrf-import", "vrf-export") and i == len(p) - 2:
                    out.append(Ref(" ".join(p[:i]), "policy", p[-1]))
            return out
        if p and p[0] == "interfaces" and "filter" in p and len(p) >= 2:
            k = p.index("filter")
            fam = p[k - 1] if k >= 2 and p[k - 2] == "family" else None
            kind = {"inet": "filter_inet", "inet6": "filter_inet6", None: "filter_unit"}.get(fam, "filter_any")
            if p[k + 1:k + 2] in (["input"], ["output"]) and len(p) == k + 3:
                out.append(Ref(" ".join(p[:k]) + f" filter {p[k + 1]}", kind, p[k + 2]))
            return out
        if p and p[0] == "firewall":
            for i, t in enumerate(p[:-1]):
                if t in ("source-prefix-list", "destination-prefix-list", "prefix-list") and "from" in p[:i]:
                    out.append(Ref(" ".join(p[:i]), "prefix_list", p[i + 1]))
        return out

    def check(self, root: Node) -> list[str]:
        refs, have = self.references(root)
        errors = self.duplicate_neighbors(root)
        for r in refs:
            if r.name not in have.get(r.kind, set()):
                label = {"prefix_list": "Prefix list", "route_filter_list": "Route filter list", "community": "Community",
                         "as_path_group": "AS path group", "as_path": "AS path", "policy": "Policy",
                         "filter_inet": "Firewall filter", "filter_inet6": "Firewall filter (inet6)", "filter_any": "Firewall filter",
                         "filter_unit": "Firewall filter"}[r.kind]
                errors.append(f"error: Policy error: {label} {r.name} referenced in {r.source} is not defined")
        return sorted(set(errors))

    def duplicate_neighbors(self, root: Node) -> list[str]:
        """A BGP peer address belongs to one group of a routing instance (assumption, docs/SIMULATORS.md):
        `neighbor X` under two groups is refused at commit."""
        groups = self._find(root, ["protocols", "bgp", "group"])
        seen: dict[str, str] = {}
        errors = []
        for g, gnode in (groups.children.items() if groups else []):
            if gnode.inactive:
                continue
            for addr, n in (gnode.children.get("neighbor") or Node()).children.items():
                if n.inactive:
                    continue
                if addr in seen:
                    errors.append(f"error: BGP neighbor {addr} is configured in groups {seen[addr]} and {g}")
                seen.setdefault(addr, g)
        return errors

    # ---------------------------------------------------------------- views
    def _view(self, root: Node) -> View:
        refs, have = self.references(root)
        return View(platform=self.platform, rules=self.rules, refs=tuple(refs),
                    others={k: frozenset(v) for k, v in have.items()})

    def view(self) -> View:
        """The candidate if one is open, else the active configuration."""
        return self._view(self.candidate if self.candidate is not None else self.active)

    def live_view(self) -> View:
        return self._view(self.active)

    def bgp_facts(self) -> tuple[int, dict[str, int]] | None:
        root = self.active
        asn_node = self._find(root, ["routing-options", "autonomous-system"])
        bgp = self._find(root, ["protocols", "bgp"])
        if bgp is None:
            return None
        asn = int(next(iter(asn_node.children))) if asn_node and asn_node.children and next(iter(asn_node.children)).isdigit() else 0
        if not asn:
            la = self._find(bgp, ["local-as"])
            asn = int(next(iter(la.children))) if la and la.children else 0
        out: dict[str, int] = {}
        groups = self._find(bgp, ["group"])
        for gnode in (groups.children.values() if groups else []):
            gpeer = self._find(gnode, ["peer-as"])
            for addr, nnode in (gnode.children.get("neighbor") or Node()).children.items():
                npeer = self._find(nnode, ["peer-as"])
                val = next(iter((npeer or gpeer or Node()).children), None)
                if val and val.isdigit():
                    out[addr] = int(val)
                elif self._find(gnode, ["type", "internal"]) is not None and asn:
                    out[addr] = asn
        return asn, out

    # ---------------------------------------------------------------- printing
    def show(self) -> str:
        """`show configuration | display set` of the active configuration."""
        return self.display_set(self.active)

    def display_set(self, root: Node) -> str:
        out: list[str] = []
        self._print(root, [], out)
        return "\n".join(out) + ("\n" if out else "")

    def _print(self, node: Node, path: list[str], out: list[str]) -> None:
        for name, child in node.children.items():
            p = path + [quote(name)]
            if not child.children or child.explicit:
                out.append("set " + " ".join(p))
            self._print(child, p, out)
            if child.inactive:
                out.append("deactivate " + " ".join(p))


SIM = JunosSim
