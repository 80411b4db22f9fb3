"""A fast path for loading a change request when nothing about it is unusual.

ruamel's position-keeping round-trip loader (pipeline/yamlio.py) is pure Python: a change carrying a
20,000-entry prefix-list takes ~10 s to load, five times what planning it takes. libyaml (PyYAML's C
parser) reads the same text in a fraction of that. This module builds plain data from libyaml's event
stream and gives up (returns None) on anything that is not plainly the same under both loaders: an
anchor or alias, an explicit tag, a directive, several documents, a duplicate or non-string key, and
any plain scalar that YAML 1.2 (ruamel) might read as something other than a string, except the plain
cases below. The caller then takes the ruamel path, which refuses or reports it with file:line. A test
checks that whatever this returns equals `yamlio.to_plain(yamlio.load(...))`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml

_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_DECIMAL = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UTC_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
# Whatever YAML 1.2 might read as a number, timestamp or special value (a superset): not plainly a string.
# (ruamel reads `-_` as a malformed integer, so digits and underscores in any arrangement count.)
_SPECIAL = re.compile(r"[-+]?(?=[0-9_.]*[0-9_])[0-9_]*\.?[0-9_]*(?:[eE][-+]?[0-9_]+)?|[-+]?0[box][0-9a-fA-F_]*"
                      r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|<<|=|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*", re.S)


class _Unusual(Exception):
    pass


def _scalar(ev: yaml.ScalarEvent) -> Any:
    if ev.anchor is not None or ev.tag is not None:  # any tag, even `!`: change requests need none
        raise _Unusual()
    if ev.style in ("|", ">") and not ev.value.strip():
        raise _Unusual()  # an empty block scalar: libyaml is more lenient about its header and indentation
    if ev.style not in (None, "") or not ev.implicit[0]:  # quoted or block scalar: a string (libyaml: plain is "")
        return ev.value
    v = ev.value
    if v in _NULL:
        return None
    if v in _BOOL:
        return _BOOL[v]
    if v[:1].isalpha():  # most keys and words: no number, date or special value starts with a letter
        return v
    if _DECIMAL.fullmatch(v):
        return int(v)
    if _FLOAT.fullmatch(v):
        return float(v)
    if _DATE.fullmatch(v):
        return dt.date.fromisoformat(v)
    if _UTC_TIME.fullmatch(v):
        return dt.datetime.fromisoformat(v[:-1]).replace(tzinfo=dt.timezone.utc)
    if _SPECIAL.fullmatch(v):
        raise _Unusual()
    return v


# Tabs, BOMs, carriage returns, other control and line-break characters: libyaml is more lenient than
# ruamel about some of them, and a change request has no need of any.
_ODD_CHARACTERS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ufeff\u2028\u2029]")


# `|#` (a block scalar header run into a comment): libyaml reads an empty string, ruamel refuses it.
_BLOCK_HEADER_COMMENT = re.compile(r"[|>][-+0-9]*#")


def load_plain(text: str) -> Any:
    """Plain data (dict/list/str/int/bool/None) for `text`, or None when the ruamel path must decide."""
    if _ODD_CHARACTERS.search(text) or _BLOCK_HEADER_COMMENT.search(text):
        return None
    try:
        return _build(yaml.parse(text, Loader=yaml.CSafeLoader))
    except Exception:  # _Unusual, a libyaml error, anything: the careful loader decides and reports
        return None


def _build(events) -> Any:
    stack: list[Any] = []  # containers being filled; a dict's pending key is kept beside it
    keys: list[Any] = []
    root: Any = _Unusual
    documents = 0

    def put(value: Any) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        top = stack[-1]
        if isinstance(top, list):
            top.append(value)
        elif keys[-1] is _Unusual:
            if not isinstance(value, str) or value in top:
                raise _Unusual()  # a non-string or duplicate key
            keys[-1] = value
        else:
            top[keys[-1]] = value
            keys[-1] = _Unusual

    scalar_event = yaml.ScalarEvent
    for ev in events:
        if type(ev) is scalar_event:  # most events (the classes are final): one identity test, not three isinstance
            put(_scalar(ev))
        elif isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if ev.anchor is not None or ev.tag is not None:
                raise _Unusual()
            c: Any = {} if isinstance(ev, yaml.MappingStartEvent) else []
            if stack and isinstance(stack[-1], dict) and keys[-1] is _Unusual:
                raise _Unusual()  # a mapping or sequence as a key
            put(c)
            stack.append(c)
            keys.append(_Unusual)
        elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            stack.pop()
            keys.pop()
        elif isinstance(ev, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1 or ev.version is not None or ev.tags:
                raise _Unusual()
        elif isinstance(ev, yaml.AliasEvent):
            raise _Unusual()
    return None if root is _Unusual else root


def load_positions(text: str) -> Any:
    """ruamel-shaped maps and sequences (CommentedMap / CommentedSeq with `.lc` line and column data, as
    `yamlio.position` reads them) built from libyaml's event marks, for a text `load_plain` accepted:
    finding positions for a 20,000-entry change in a fraction of the ~20 s ruamel's round-trip parser
    takes. Scalars are left as libyaml read them (only positions and keys are asked of this tree)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    stack: list[Any] = []
    keys: list[Any] = []  # a map's pending key and its mark
    root: Any = None

    def put(value: Any, mark: Any) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        top = stack[-1]
        if isinstance(top, CommentedSeq):
            top._yaml_set_idx_line_col(len(top), [mark.line, mark.column])
            top.append(value)
        elif keys[-1] is None:
            keys[-1] = (value, mark)
        else:
            key, kmark = keys[-1]
            top._yaml_set_kv_line_col(key, [kmark.line, kmark.column, mark.line, mark.column])
            top[key] = value
            keys[-1] = None

    for ev in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(ev, yaml.ScalarEvent):
            put(ev.value, ev.start_mark)
        elif isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            c: Any = CommentedMap() if isinstance(ev, yaml.MappingStartEvent) else CommentedSeq()
            mark = ev.start_mark
            assert mark is not None  # libyaml marks every event
            c._yaml_set_line_col(mark.line, mark.column)
            put(c, mark)
            stack.append(c)
            keys.append(None)
        elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            stack.pop()
            keys.pop()
    return root
