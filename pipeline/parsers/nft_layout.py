"""Where things sit in netchange's nftables table: chains, their properties and rule handles, as read from
`nft -j list ruleset`. The nftables driver edits the table through it: it flushes and refills only the
chains a change touches, and adds or deletes single jump rules of the base chains by handle, so whatever
else the table holds (rules the model cannot express, sets, base-chain policies) is never rewritten.

The host's own tables are recorded too (`TableLayout.others`): where the inventory places netchange's
chains in one of them (`firewall.nftables.jump_from`), its base chains jump to them, and the plan shows
which of the host's base chains see the same packets."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RuleRef:
    handle: int | None
    text: str  # as nft prints it (parsers/nft_text.py)
    target: str | None = None  # the chain a `jump`/`goto` of this rule goes to
    # A dispatch rule netchange models as an attachment (`[iifname|oifname X] jump CHAIN` in a base chain):
    # (iifname, oifname); None for every other rule.
    dispatch: tuple[str | None, str | None] | None = None


@dataclass
class ChainLayout:
    name: str
    hook: str | None = None  # None: a regular chain
    type: str | None = None
    priority: object = None
    policy: str | None = None
    rules: list[RuleRef] = field(default_factory=list)
    ours: bool = False  # a netchange filter's chain (in a host's table: it ends in netchange's closing drop)

    @property
    def base(self) -> bool:
        return self.hook is not None

    def dispatch_rules(self) -> list[RuleRef]:
        return [r for r in self.rules if r.dispatch is not None]


@dataclass
class TableLayout:
    """netchange's table `inet netchange` as the device has it (empty when the table does not exist)."""

    exists: bool = False
    chains: dict[str, ChainLayout] = field(default_factory=dict)
    # The host's other tables of the filter families, by "<family> <table>" (e.g. "inet filter").
    others: dict[str, "TableLayout"] = field(default_factory=dict)

    def table(self, name: str) -> "TableLayout | None":
        """netchange's table ("inet netchange") or one of the host's."""
        return self if name == "inet netchange" else self.others.get(name)

    def table_of(self, chain: str) -> str | None:
        """The table that holds netchange's chain `chain` (None: no such filter chain anywhere)."""
        if chain in self.chains and not self.chains[chain].base:
            return "inet netchange"
        return next((name for name, t in self.others.items() if chain in t.chains and t.chains[chain].ours), None)

    def base_chains(self, hook: str) -> list[ChainLayout]:
        return [c for c in self.chains.values() if c.hook == hook and c.type in (None, "filter")]

    def references_to(self, chain: str) -> list[tuple[ChainLayout, RuleRef]]:
        """Every rule that jumps to or goes to `chain`."""
        return [(c, r) for c in self.chains.values() for r in c.rules if r.target == chain]
