"""JunOS configuration text (hierarchical or `display set`) -> set-lines -> an ordered statement tree.

Both input formats are reduced to what `show configuration | display set` prints: one tuple of words per
leaf statement, `[ a b ]` lists expanded into one line per member, quotes removed, comments dropped, and
`inactive:` statements turned into `deactivate <path>` lines. A hand-written tokenizer is used instead of
ciscoconfparse2's junos mode because the latter is ~10x slower on the 11k-line corpus file and keeps
comments as configuration lines (the tests use it as a cross-check).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

from ..model.policy import Kind, Skipped

# Quoted strings, /* */ comments (may span lines), `#` comments to end of line, punctuation, plain words.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|/\*.*?\*/|#[^\n]*|[{};\[\]]|[^\s{};\[\]"#]+', re.S)
_TAGS = ("replace:", "protect:", "inactive:", "active:")
_SET_VERBS = ("set", "deactivate", "delete", "activate")

SetLine = tuple[str, ...]


@dataclass
class Node:
    """One statement word; children keep configuration order (dicts are insertion-ordered)."""

    children: dict[str, "Node"] = field(default_factory=dict)

    def child(self, *path: str) -> "Node | None":
        node: Node | None = self
        for word in path:
            node = node.children.get(word) if node else None
        return node

    def at(self, *path: str) -> "Node":
        """child() of a path known to exist (a key keys() just listed)."""
        node = self.child(*path)
        if node is None:
            raise KeyError(" ".join(path))
        return node

    def keys(self, *path: str) -> list[str]:
        node = self.child(*path)
        return list(node.children) if node else []

    def has(self, *path: str) -> bool:
        return self.child(*path) is not None

    def first(self, *path: str) -> str | None:
        """The first value word under path (e.g. `local-preference 350` -> '350')."""
        keys = self.keys(*path)
        return keys[0] if keys else None


@dataclass
class Parsed:
    tree: Node
    deactivated: list[SetLine]
    notes: list[str]


def _unquote(tok: str) -> str:
    if len(tok) >= 2 and tok[0] == tok[-1] == '"':
        return re.sub(r"\\(.)", r"\1", tok[1:-1])
    return tok


def is_set_format(text: str) -> bool:
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#") or s.startswith("/*"):
            continue
        return s.split(None, 1)[0] in _SET_VERBS
    return False


def _expand_lists(words: list[str]) -> Iterator[SetLine]:
    """`members [ a b ]` -> (members, a), (members, b): how `display set` prints lists."""
    if "[" not in words:
        yield tuple(words)
        return
    i = words.index("[")
    j = words.index("]", i) if "]" in words[i:] else len(words)
    head, members, tail = words[:i], words[i + 1:j], words[j + 1:]
    for m in members:
        yield from _expand_lists(head + [m] + tail)


def hierarchical_to_set(text: str) -> tuple[list[SetLine], list[SetLine]]:
    """Curly-brace text -> (set lines, deactivated paths). Tags replace:/protect: only affect commits: dropped."""
    lines, deactivated, _ = _hierarchical(text)
    return lines, deactivated


# Junos's own hierarchy is under ~20 words deep (`routing-instances X protocols bgp group G neighbor N family inet
# unicast prefix-limit ...`). Text with unbalanced braces nests everything after them ever deeper, and every
# statement would repeat a path hundreds of words long: plan time quadratic in the text (a mutated 58 KB config
# took minutes in the seed-33 fuzz run). Statements below this many words of path are not read, and said so.
MAX_PATH_WORDS = 64


def _hierarchical(text: str) -> tuple[list[SetLine], list[SetLine], list[SetLine]]:
    """(set lines, deactivated paths, paths whose groups were too deep to read: MAX_PATH_WORDS)."""
    lines: list[SetLine] = []
    deactivated: list[SetLine] = []
    too_deep: list[SetLine] = []
    path: list[list[str]] = []  # one word group per open brace
    emitted_at: list[int] = []  # len(lines) when each group opened: an empty group still prints itself
    words: list[str] = []
    inactive = False
    depth = 0  # words in path
    skipping = 0  # braces open inside a group too deep to read
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if tok.startswith("/*") or tok.startswith("#"):
            continue
        if skipping:
            skipping += 1 if tok == "{" else -1 if tok == "}" else 0
            continue
        if tok in _TAGS and not words:
            inactive = inactive or tok == "inactive:"
            continue
        if tok == "{":
            if depth + len(words) > MAX_PATH_WORDS:
                too_deep.append(tuple(w for g in path for w in g) + tuple(words[:MAX_PATH_WORDS]))
                skipping, words, inactive = 1, [], False
                continue
            path.append(words)
            depth += len(words)
            emitted_at.append(len(lines))
            if inactive:
                deactivated.append(tuple(w for g in path for w in g))
            words, inactive = [], False
        elif tok == ";":
            if words:
                full = [w for g in path for w in g] + words
                new = list(_expand_lists(full))
                lines.extend(new)
                if inactive:
                    deactivated.extend(new)
            words, inactive = [], False
        elif tok == "}":
            if words:  # a last statement without ';' (hand-written text): keep it
                lines.extend(_expand_lists([w for g in path for w in g] + words))
                words = []
            if path:
                if emitted_at[-1] == len(lines):
                    lines.append(tuple(w for g in path for w in g))
                depth -= len(path.pop())
                emitted_at.pop()
        else:
            words.append(_unquote(tok))
    return lines, deactivated, too_deep


def set_format_lines(text: str) -> tuple[list[SetLine], list[SetLine], list[str]]:
    """`display set` text -> (set lines, deactivated paths, notes); `delete`/`activate` are applied in order:
    a delete removes the lines before it under its path, an activate the deactivations before it of its path.
    Read from the end (what is deleted or activated later is known), so each line costs its own words, never
    a pass over all the lines before it."""
    ops: list[tuple[str, SetLine]] = []
    notes: list[str] = []
    for raw in text.splitlines():
        toks = [t for t in _TOKEN.findall(raw) if not (t.startswith("#") or t.startswith("/*"))]
        if not toks:
            continue
        verb, words = toks[0], tuple(_unquote(t) for t in toks[1:])
        if verb in _SET_VERBS:
            ops.append((verb, words))
        else:
            notes.append(f"junos: line not understood, ignored: {raw.strip()[:120]}")
    lines: list[SetLine] = []
    deactivated: list[SetLine] = []
    deleted_later: dict = {}  # a trie of the paths deleted further down
    everything_deleted_later = False  # a bare `delete`
    activated_later: set[SetLine] = set()
    for verb, words in reversed(ops):
        if verb == "set":
            if not everything_deleted_later:
                lines.extend(reversed([ln for ln in _expand_lists(list(words)) if not _below_dead(ln, deleted_later)]))
        elif verb == "deactivate":
            if words not in activated_later:
                deactivated.append(words)
        elif verb == "activate":
            activated_later.add(words)
        elif words:  # delete
            _add_path(deleted_later, words)
        else:
            everything_deleted_later = True
    lines.reverse()
    deactivated.reverse()
    return lines, deactivated, notes


def build_tree(lines: list[SetLine], deactivated: list[SetLine]) -> Node:
    """The statement tree of `lines`, without the lines at or below a deactivated path (a deactivated
    statement switches off everything below it). Linear in the words of `lines`."""
    root = Node()
    dead = _trie(deactivated)
    for line in lines:
        if dead and _below_dead(line, dead):
            continue
        node = root
        for word in line:
            child = node.children.get(word)
            if child is None:
                child = node.children[word] = Node()
            node = child
    return root


_END = None  # a key no word is: marks where a deactivated path ends in the trie


def _trie(paths: list[SetLine]) -> dict:
    root: dict = {}
    for p in paths:
        _add_path(root, p)
    return root


def _add_path(trie: dict, path: SetLine) -> None:
    node = trie
    for word in path:
        node = node.setdefault(word, {})
    node[_END] = True


def _below_dead(line: SetLine, dead: dict) -> bool:
    """Is `line` at or below a path of the trie `dead`? One step per word (not one slice per prefix)."""
    node = dead
    for word in line:
        nxt = node.get(word)
        if nxt is None:
            return False
        if _END in nxt:
            return True
        node = nxt
    return False


_FIREWALL_FAMILIES = {"inet", "inet6"}


def owner_of_path(path: SetLine) -> tuple[Kind, str] | None:
    """The modelled object a statement path sits in (kind, name): prefix-lists, communities, as-paths,
    policy-statements, inet/inet6 firewall filters."""
    p = list(path)
    if p[:1] == ["policy-options"] and len(p) >= 3:
        kinds: dict[str, Kind] = {"prefix-list": "prefix_list", "route-filter-list": "prefix_list", "community": "community_list",
                                  "as-path": "as_path_list", "as-path-group": "as_path_list", "policy-statement": "route_map"}
        kind = kinds.get(p[1])
        return (kind, p[2]) if kind else None
    if p[:1] == ["firewall"]:
        if p[1:2] == ["filter"] and len(p) >= 3:
            return "filter", p[2]
        if p[1:2] == ["family"] and len(p) >= 5 and p[2] in _FIREWALL_FAMILIES and p[3] == "filter":
            return "filter", p[4]
    return None


def parse_text(text: str) -> Parsed:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    notes: list[str] = []
    if is_set_format(text):
        lines, deactivated, notes = set_format_lines(text)
    else:
        lines, deactivated, too_deep = _hierarchical(text)
        for d in too_deep:
            kind, name = owner_of_path(d) or (None, None)
            notes.append(Skipped(f"junos: braces nested more than {MAX_PATH_WORDS} words deep (unbalanced?), not read: "
                                 f"{' '.join(d)[:160]}", kind, name, " ".join(d)[:160]))
    for d in deactivated:
        kind, name = owner_of_path(d) or (None, None)
        notes.append(Skipped(f"junos: inactive, ignored: {' '.join(d)[:160]}", kind, name, " ".join(d)))
    return Parsed(build_tree(lines, deactivated), deactivated, notes)
