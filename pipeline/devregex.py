"""Device regular expressions (AS-path and expanded community lists): compiled for a linear-time engine,
and refused when a backtracking engine would take exponential or high-polynomial time.

Cisco and FRR give `_` a meaning of its own: a delimiter (start, end, space, comma, braces, parentheses).
FRR's bgp_regcomp replaces every `_` before compiling, for AS paths and communities alike; so do we.

netchange evaluates these expressions itself (the plan's impact preview) with RE2 (`google-re2`), whose
running time is linear in the text whatever the pattern, so a hostile expression cannot hang a plan.
Devices are another matter: IOS and PCRE-built FRR backtrack. `superlinear` finds the two shapes that
make a backtracking engine blow up, so a change request cannot send one to a router:

* a repeated group whose body can itself loop with nothing mandatory beside the loop
  (`([0-9]+ ?)+`, `(.*)*`, `(a+)+`): exponential;
* three or more unbounded repetitions in a row with only optional items between them (`.*.*.*`):
  polynomial of that degree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import re2

DELIMITER = r"(?:^|$|[ ,{}()])"


def translate(expr: str) -> str:
    """The device expression in RE2/Python syntax (`_` -> delimiter class)."""
    return expr.replace("_", DELIMITER)


def _options() -> "re2.Options":
    o = re2.Options()
    o.log_errors = False  # RE2 would print parse errors to stderr; ours carry them in the exception
    o.never_capture = True  # only "does it match" is ever asked
    return o


_OPTIONS = _options()


class RegexError(ValueError):
    pass


@lru_cache(maxsize=4096)
def compile(expr: str):  # noqa: A001 - the module's verb
    """RE2 pattern for a device expression (RegexError when RE2 cannot compile it)."""
    try:
        return re2.compile(translate(expr), _OPTIONS)
    except re2.error as e:
        why = e.args[0] if e.args else "invalid"
        raise RegexError(why.decode(errors="replace") if isinstance(why, bytes) else str(why)) from None


# ---- a small parser for the device regex subset (names.Regex has already restricted the characters)

@dataclass
class _Node:
    kind: str  # "atom" (char, class, anchor, `_`) | "group"
    alts: list[list["_Node"]] = field(default_factory=list)  # groups: alternatives of sequences
    quant: str = ""  # "", "*", "+", "?"
    text: str = ""  # atoms: the character or class
    src: str = ""  # the node as written, quantifier included (for messages)

    @property
    def unbounded(self) -> bool:
        return self.quant in ("*", "+")

    @property
    def nullable(self) -> bool:
        if self.quant in ("*", "?"):
            return True
        if self.kind == "atom":
            return self.text in ("^", "$")
        return any(all(n.nullable for n in alt) for alt in self.alts)

    def loops(self) -> bool:
        """Can this node match by repetition alone (an unbounded quantifier, beside only optional items)?"""
        if self.unbounded:
            return True
        return self.kind == "group" and any(_alt_loops(alt) for alt in self.alts)


def _alt_loops(alt: list[_Node]) -> bool:
    return any(n.loops() for n in alt) and all(n.nullable or n.loops() for n in alt)


class _Parser:
    def __init__(self, s: str):
        self.s, self.i = s, 0

    def alternation(self) -> list[list[_Node]]:
        alts = [self.sequence()]
        while self.i < len(self.s) and self.s[self.i] == "|":
            self.i += 1
            alts.append(self.sequence())
        return alts

    def sequence(self) -> list[_Node]:
        out: list[_Node] = []
        while self.i < len(self.s) and self.s[self.i] not in "|)":
            start = self.i
            c = self.s[self.i]
            if c == "(":
                self.i += 1
                node = _Node("group", alts=self.alternation())
                if self.i >= len(self.s) or self.s[self.i] != ")":
                    raise ValueError("unbalanced parenthesis")
                self.i += 1
            elif c == "[":
                j = self.s.find("]", self.i + 2 if self.s[self.i + 1: self.i + 2] == "]" else self.i + 1)
                if j < 0:
                    raise ValueError("unterminated character class")
                node, self.i = _Node("atom", text=self.s[self.i: j + 1]), j + 1
            else:
                node, self.i = _Node("atom", text=c), self.i + 1
            while self.i < len(self.s) and self.s[self.i] in "*+?":
                q = self.s[self.i]
                # `x*?` / `x+?` (lazy) stay unbounded; `x??` stays optional; `x?*`, `x?+` loop
                node.quant = q if not node.quant or q != "?" else node.quant
                self.i += 1
            node.src = self.s[start: self.i]
            out.append(node)
        return out


def superlinear(expr: str) -> str | None:
    """Why `expr` would take super-linear time on a backtracking engine, or None."""
    p = _Parser(expr)
    alts = p.alternation()
    if p.i != len(expr):
        return None  # unbalanced: the compiler reports it
    return _scan(alts, expr)


def _scan(alts: list[list[_Node]], expr: str) -> str | None:
    for alt in alts:
        run: list[_Node] = []
        for n in alt:
            if n.kind == "group":
                if n.unbounded and any(_alt_loops(a) for a in n.alts):
                    return (f"'{n.src}' repeats a group that can itself repeat: a backtracking engine (IOS, FRR "
                            f"with PCRE) tries exponentially many ways to split the matched text; make each repetition "
                            f"end in something mandatory, e.g. '([0-9]+_)*'")
                inner = _scan(n.alts, expr)
                if inner:
                    return inner
            if n.loops():
                run.append(n)
                if len(run) >= 3:
                    return (f"'{''.join(x.src for x in run)}': three unbounded repetitions in a row take time of "
                            f"the third power of the text length on a backtracking engine; anchor them with "
                            f"mandatory text between them")
            elif not n.nullable:
                run = []
    return None
