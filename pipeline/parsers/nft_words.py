"""nftables' names for ICMP types and codes and DSCP values (`nft describe icmp type`, nft 1.0.6): the
printer writes them, `nft -j list ruleset` gives them back, the parser reads them as numbers."""

from __future__ import annotations

NFT_ICMP_TYPES: dict[str, dict[str, int]] = {
    "icmp": {"echo-reply": 0, "destination-unreachable": 3, "source-quench": 4, "redirect": 5, "echo-request": 8,
             "router-advertisement": 9, "router-solicitation": 10, "time-exceeded": 11, "parameter-problem": 12,
             "timestamp-request": 13, "timestamp-reply": 14, "info-request": 15, "info-reply": 16,
             "address-mask-request": 17, "address-mask-reply": 18},
    "icmpv6": {"destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3, "parameter-problem": 4,
               "echo-request": 128, "echo-reply": 129, "mld-listener-query": 130, "mld-listener-report": 131,
               "mld-listener-done": 132, "mld-listener-reduction": 132, "nd-router-solicit": 133,
               "nd-router-advert": 134, "nd-neighbor-solicit": 135, "nd-neighbor-advert": 136, "nd-redirect": 137,
               "router-renumbering": 138, "ind-neighbor-solicit": 141, "ind-neighbor-advert": 142,
               "mld2-listener-report": 143},
}
NFT_ICMP_CODES: dict[str, dict[str, int]] = {
    "icmp": {"net-unreachable": 0, "host-unreachable": 1, "prot-unreachable": 2, "port-unreachable": 3,
             "frag-needed": 4, "net-prohibited": 9, "host-prohibited": 10, "admin-prohibited": 13},
    "icmpv6": {"no-route": 0, "admin-prohibited": 1, "addr-unreachable": 3, "port-unreachable": 4, "policy-fail": 5,
               "reject-route": 6},
}
NFT_DSCP = {"cs0": 0, "df": 0, "be": 0, "lephb": 1, "cs1": 8, "af11": 10, "af12": 12, "af13": 14, "cs2": 16,
            "af21": 18, "af22": 20, "af23": 22, "cs3": 24, "af31": 26, "af32": 28, "af33": 30, "cs4": 32, "af41": 34,
            "af42": 36, "af43": 38, "cs5": 40, "va": 44, "ef": 46, "cs6": 48, "cs7": 56}

_TYPE_NAME = {p: {v: k for k, v in reversed(t.items())} for p, t in NFT_ICMP_TYPES.items()}


def nft_icmp_type(protocol: str, number: int) -> str:
    """The name nft prints for an ICMP(v6) type, else the number."""
    return _TYPE_NAME[protocol].get(number, str(number))


def nft_number(value: object, names: dict[str, int]) -> int:
    """A value of `nft -j` (a number, or one of nft's names) as a number; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"value {value!r} not understood")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value in names:
            return names[value]
        if value.isdigit():
            return int(value)
        if value.lower().startswith("0x"):
            return int(value, 16)
    raise ValueError(f"value {value!r} not understood")
