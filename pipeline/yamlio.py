"""Safe YAML loading that keeps positions, so every error names file, line and field.

Anchors and aliases are refused outright: change requests never need them and they are the
vehicle of alias bombs. Duplicate keys are errors (ruamel's default). Files are size-capped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from . import safefiles
from .errors import InputError, Location

MAX_BYTES = safefiles.YAML_MAX


def _yaml() -> YAML:
    y = YAML(typ="rt", pure=True)
    y.allow_duplicate_keys = False
    return y


def read_text(path: Path, max_bytes: int = MAX_BYTES, within=safefiles.ITS_FOLDER) -> str:
    """A YAML file's text: a regular file under *max_bytes*, really inside *within* (see safefiles), UTF-8."""
    return safefiles.read_text(path, max_bytes, within)


# ruamel's pure-Python scanner slows down steeply with flow nesting ('[[[[...'): 10 KB of brackets
# took over a minute. Change requests nest a handful of levels; refuse deep flow nesting up front.
MAX_FLOW_DEPTH = 64
_BRACKETS = re.compile(r"[\[\]{}\n]")


def flow_depth_problem(text: str) -> tuple[int, int] | None:
    """(line, depth) where flow nesting first exceeds MAX_FLOW_DEPTH. Brackets inside quoted strings
    count too: a conservative over-estimate that no real change request comes near."""
    depth, line = 0, 1
    for m in _BRACKETS.finditer(text):
        c = m.group()
        if c == "\n":
            line += 1
        elif c in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                return line, depth
        else:
            depth = max(0, depth - 1)
    return None


def _refuse_anchors(node: Any, path: Path) -> None:
    """Anchored or aliased nodes (an alias is the same node object reached twice) are refused."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen or getattr(n, "anchor", None):
            m = n.start_mark
            raise InputError("YAML anchors and aliases are not allowed", Location(str(path), m.line + 1, m.column + 1))
        seen.add(id(n))
        v = n.value
        if isinstance(v, list):
            for item in v:
                stack.extend(item if isinstance(item, tuple) else (item,))


def load(path: Path | str, text: str | None = None, within=safefiles.ITS_FOLDER) -> Any:
    """Parse YAML from *path* (or *text* labelled as *path*) into ruamel's position-aware nodes.
    With *within*, the file must really live inside that folder (no symbolic link out of it)."""
    path = Path(path)
    if text is None:
        text = read_text(path, within=within)
    elif len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InputError(f"document larger than the {MAX_BYTES} byte limit", Location(str(path)))
    deep = flow_depth_problem(text)
    if deep:
        raise InputError(f"flow collections nested more than {MAX_FLOW_DEPTH} levels deep", Location(str(path), deep[0]))
    y = _yaml()
    try:
        node = y.compose(text)  # one parse: the node graph is checked, then constructed
        if node is None:
            return None
        _refuse_anchors(node, path)
        return y.constructor.construct_document(node)
    except InputError:
        raise
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        msg = " ".join(x for x in (e.context, e.problem) if x) or "malformed YAML"
        msg = msg.replace("\n", " ")
        if mark is not None:
            raise InputError(msg, Location(str(path), mark.line + 1, mark.column + 1)) from None
        raise InputError(msg, Location(str(path))) from None
    except YAMLError as e:
        raise InputError(f"malformed YAML: {str(e).splitlines()[0] if str(e) else type(e).__name__}", Location(str(path))) from None
    except (RecursionError, ValueError, TypeError, IndexError, ArithmeticError) as e:
        bad = _unreadable_scalar(y, node, path) if not isinstance(e, RecursionError) else None
        if bad is not None:
            raise bad from None
        raise InputError(f"malformed YAML: {type(e).__name__}", Location(str(path))) from None


def _unreadable_scalar(y: YAML, root: Any, path: Path) -> InputError | None:
    """The scalar ruamel's constructor fails on, as an error naming its line and field. ruamel resolves some
    plain scalars to a type it then cannot build (`title: -_` is an int to its resolver, and constructing it
    raises IndexError): the user meant text and needs to be told where to quote it."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    constructor = _yaml().constructor  # a fresh one: the failed run left the bad node marked as under construction
    stack: list[tuple[Any, tuple[Any, ...]]] = [(root, ())]
    while stack:
        n, loc = stack.pop()
        if isinstance(n, MappingNode):
            for k, v in n.value:
                stack.append((v, loc + (k.value if isinstance(k, ScalarNode) else "?",)))
        elif isinstance(n, SequenceNode):
            stack.extend((v, loc + (i,)) for i, v in enumerate(n.value))
        elif isinstance(n, ScalarNode):
            try:
                constructor.construct_object(n)
            except Exception:  # noqa: BLE001 - whatever ruamel raises, this scalar is the one it cannot read
                tag = str(getattr(n.tag, "value", n.tag))
                kind = tag.rsplit(":", 1)[-1]
                m = n.start_mark
                return InputError(f"{field_path(loc) or 'value'}: {n.value!r} reads as YAML {kind} but is not a valid one "
                                  "(quote it to mean text)", Location(str(path), m.line + 1, m.column + 1, field_path(loc) or None))
    return None


def position(node: Any, loc: tuple[Any, ...]) -> tuple[int | None, int | None]:
    """Best (1-based) line/column for a pydantic error location inside ruamel nodes."""
    line = col = None
    cur = node
    for key in loc:
        if isinstance(cur, CommentedMap) and key in cur:
            try:
                ln, cl = cur.lc.key(key)
                line, col = ln + 1, cl + 1
            except (KeyError, TypeError, AttributeError):
                pass
            cur = cur[key]
        elif isinstance(cur, CommentedSeq) and isinstance(key, int) and 0 <= key < len(cur):
            try:
                ln, cl = cur.lc.item(key)
                line, col = ln + 1, cl + 1
            except (KeyError, TypeError, AttributeError):
                pass
            cur = cur[key]
        else:
            break
    if line is None and hasattr(node, "lc"):
        line, col = node.lc.line + 1, node.lc.col + 1
    return line, col


def field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for k in loc:
        out += f"[{k}]" if isinstance(k, int) else (f".{k}" if out else str(k))
    return out


def to_plain(node: Any) -> Any:
    """ruamel nodes -> plain dict/list/str (for models that must not see ruamel types)."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, (int, bool)) else k: to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def validate_model(cls: Any, node: Any, path: Path | str, context: dict[str, Any] | None = None) -> Any:
    """Validate ruamel *node* into pydantic *cls*; on failure raise InputError naming every bad field."""
    from pydantic import ValidationError

    try:
        return cls.model_validate(to_plain(node), context=context)
    except ValidationError as e:
        problems = []
        for err in e.errors(include_url=False):
            loc = tuple(err.get("loc", ()))
            line, col = position(node, loc)
            msg = err.get("msg", "invalid")
            if err.get("type") == "extra_forbidden":
                msg = "unknown field"
            problems.append((Location(str(path), line, col, field_path(loc) or None), msg))
        raise InputError(f"{path}: {len(problems)} schema error(s)", problems[0][0] if problems else None, problems) from None
