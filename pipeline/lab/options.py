"""Per-router options of the lab: the knobs in which real networks differ from a careful lab, so the deploy
is tested against both. A topology's `profiles:` name sets of them (`lab up --profile`, `Lab.apply_profile`).

Adding a knob: a field on RouterOptions (default = the lab's historic behaviour), its baseline lines in
`frr_global` / `frr_neighbor`, and its live switch in `frr_switch` (what `apply_profile` sends).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class RouterOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Keep each neighbor's Adj-RIB-In (`soft-reconfiguration inbound`): most production routers do not (memory),
    # and then an inbound refresh is a ROUTE-REFRESH to the peer.
    soft_reconfiguration_inbound: bool = True
    # `bgp route-map delay-timer`: 0 holds policy edits until `clear ... soft`; "default" leaves FRR's 5 s,
    # after which FRR applies edits by itself.
    route_map_delay_timer: int | Literal["default"] = 0

    def merged(self, override: "OptionsOverride") -> "RouterOptions":
        return RouterOptions.model_validate({**self.model_dump(), **override.model_dump(exclude_unset=True)})


class OptionsOverride(BaseModel):
    """A profile's options for one router (or `"*"`: every router); unset fields keep the node's own."""

    model_config = ConfigDict(extra="forbid")

    soft_reconfiguration_inbound: bool | None = None
    route_map_delay_timer: int | Literal["default"] | None = None


def frr_global(o: RouterOptions) -> list[str]:
    return [] if o.route_map_delay_timer == "default" else [f"bgp route-map delay-timer {o.route_map_delay_timer}"]


def frr_neighbor(o: RouterOptions, addr: str) -> list[str]:
    """Lines inside the neighbor's address-family block."""
    return [f"  neighbor {addr} soft-reconfiguration inbound"] if o.soft_reconfiguration_inbound else []


def frr_switch(old: RouterOptions, new: RouterOptions, asn: int, afs: dict[str, list[str]]) -> list[str]:
    """vtysh lines (from `configure terminal`) that turn a running router from *old* into *new*; *afs*:
    address family -> neighbor addresses."""
    out: list[str] = []
    if old.route_map_delay_timer != new.route_map_delay_timer:
        out.append("no bgp route-map delay-timer" if new.route_map_delay_timer == "default"
                   else f"bgp route-map delay-timer {new.route_map_delay_timer}")
    if old.soft_reconfiguration_inbound != new.soft_reconfiguration_inbound:
        no = "" if new.soft_reconfiguration_inbound else "no "
        out.append(f"router bgp {asn}")
        for af, addrs in afs.items():
            out.append(f"address-family {af}")
            out += [f"{no}neighbor {a} soft-reconfiguration inbound" for a in addrs]
            out.append("exit-address-family")
        out.append("exit")
    return out
