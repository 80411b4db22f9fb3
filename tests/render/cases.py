"""Small per-construct change requests, rendered on every platform (golden) or refused (with a reason)."""

from __future__ import annotations

from pipeline.model.change import ChangeRequest

from .conftest import PLATFORM_HOST

ALL_HOSTS = list(PLATFORM_HOST.values())


def change(id_: str, **sections) -> ChangeRequest:
    return ChangeRequest.model_validate({"id": id_, "title": "construct case", "requested_by": "tests",
                                         "targets": {"hosts": ALL_HOSTS}, **sections})


CASES: dict[str, ChangeRequest] = {
    "prefix-lists": change("CASE-1", routing={"prefix_lists": [
        {"name": "PL-V4", "description": "customer aggregates", "entries": [
            {"seq": 10, "action": "permit", "prefix": "198.51.100.0/24"},
            {"seq": 20, "action": "permit", "prefix": "203.0.113.0/24", "le": 28},
            {"seq": 30, "action": "permit", "prefix": "192.0.2.0/24", "ge": 26, "le": 30}]},
        {"name": "PL-V6", "entries": [{"seq": 10, "action": "permit", "prefix": "2001:db8::/32", "ge": 48}]}]}),
    "community-lists": change("CASE-2", routing={"community_lists": [
        {"name": "CL-STD", "entries": [{"seq": 10, "action": "permit", "communities": ["65001:100", "no-export"]}]},
        {"name": "CL-EXP", "kind": "expanded", "entries": [{"seq": 10, "action": "permit", "regex": "^65001:1[0-9]+$"}]}]}),
    "large-communities": change("CASE-3", routing={"community_lists": [
        {"name": "CL-LARGE", "kind": "large", "entries": [{"seq": 10, "action": "permit", "communities": ["65001:1:3"]}]}]}),
    "as-path-lists": change("CASE-4", routing={"as_path_lists": [
        {"name": "100", "entries": [{"seq": 10, "action": "permit", "regex": "^65002 .*"}]}]}),
    "route-maps": change("CASE-5", routing={
        "prefix_lists": [{"name": "PL-IN", "entries": [{"seq": 10, "action": "permit", "prefix": "198.51.100.0/24"}]},
                         {"name": "PL-IN6", "entries": [{"seq": 10, "action": "permit", "prefix": "2001:db8:1::/48"}]}],
        "community_lists": [{"name": "CL-TAG", "entries": [{"seq": 10, "action": "permit", "communities": ["65002:7"]}]}],
        "route_maps": [
            {"name": "RM-IN", "entries": [
                {"seq": 10, "action": "permit", "match": {"prefix_list": "PL-IN", "community_list": "CL-TAG"},
                 "set": {"local_preference": 200, "med": 10, "community_add": ["65001:300"], "as_path_prepend": [65001, 65001]}},
                {"seq": 20, "action": "deny"}]},
            {"name": "RM-IN6", "entries": [
                {"seq": 10, "action": "permit", "match": {"prefix_list": "PL-IN6"}, "set": {"community_replace": ["65001:600"]}},
                {"seq": 20, "action": "deny"}]}],
        "bindings": [{"neighbor": "198.51.100.2", "afi": "ipv4", "direction": "in", "route_map": "RM-IN"},
                     {"neighbor": "2001:db8:12::2", "afi": "ipv6", "direction": "in", "route_map": "RM-IN6"}]}),
    "filters": change("CASE-6", firewall={"filters": [{"name": "EDGE-IN", "description": "edge", "attach": ["server-edge"], "terms": [
        {"name": "web", "description": "https to the web servers", "sources": ["198.18.100.0/24", "2001:db8:200::/48"],
         "destinations": ["WEB-SERVERS"], "services": ["WEB"], "action": "accept", "counter": True},
        {"name": "dns", "protocols": ["udp"], "source_ports": [53], "destination_ports": ["1024-65535"], "action": "accept"},
        {"name": "ping", "services": ["PING"], "action": "accept"},
        {"name": "rest", "action": "deny", "log": True}]}]}),
    # Every new match a stateless ACL can express too (issue 16): on every filtering platform.
    "matches": change("CASE-7", firewall={"filters": [{"name": "MATCHES", "attach": ["server-edge"], "terms": [
        {"name": "est", "destinations": ["198.51.100.0/24", "2001:db8:100::/64"], "protocols": ["tcp"],
         "connection_state": ["established"], "action": "accept"},
        {"name": "ping", "protocols": ["icmp", "icmpv6"], "icmp_types": ["echo-request", "echo-reply"], "action": "accept"},
        {"name": "ptb", "protocols": ["icmpv6"], "icmp_types": ["packet-too-big"], "action": "accept"},
        {"name": "frag-needed", "protocols": ["icmp"], "icmp_types": [3], "icmp_code": 4, "action": "accept"},
        {"name": "syn", "protocols": ["tcp"], "destination_ports": [8080], "tcp_flags": {"syn": True}, "action": "accept"},
        {"name": "frag", "sources": ["198.18.0.0/15"], "fragment": "non-first", "action": "deny"},
        {"name": "ssh", "sources": ["198.18.0.0/15"], "source_exclude": ["198.18.1.0/24"], "protocols": ["tcp"],
         "destination_ports": [22], "action": "accept"},
        {"name": "not-servers", "destinations": ["198.51.100.0/24"], "destination_exclude": ["198.51.100.128/25"],
         "action": "deny"},
        {"name": "voice", "protocols": ["udp"], "dscp": ["ef", "af41"], "action": "accept"},
        {"name": "trace", "destinations": ["198.51.100.0/24"], "protocols": ["udp"], "destination_ports": ["33434-33534"],
         "hop_limit": 1, "action": "deny"},
        {"name": "rest", "action": "deny", "log": True}]}]}),
    # What only a stateful firewall (nftables) expresses: refused elsewhere with the platform's reason.
    "stateful": change("CASE-8", firewall={"filters": [{"name": "STATEFUL", "attach": ["server-edge"], "terms": [
        {"name": "replies", "connection_state": ["established", "related"], "action": "accept"},
        {"name": "junk", "connection_state": ["invalid"], "action": "deny", "counter": True},
        {"name": "new-web", "destinations": ["198.51.100.128/25", "2001:db8:100::/64"], "protocols": ["tcp"],
         "destination_ports": [8080], "connection_state": ["new"], "tcp_flags": {"syn": True, "ack": False},
         "action": "accept"},
        {"name": "first-frag", "fragment": "first", "action": "deny"},
        {"name": "short-ttl", "hop_limit": "2-5", "action": "deny"},
        {"name": "rest", "action": "deny", "log": True, "log_rate": "10/minute"}]}]}),
}

# (case, platform) -> a fragment of the refusal message. Everything else must render.
REFUSED: dict[tuple[str, str], str] = {
    ("large-communities", "cisco_ios"): "large-community lists are not supported",
    ("large-communities", "aruba_aoscx"): "large-community lists are not supported",
    ("stateful", "cisco_ios"): "cisco_ios: filter STATEFUL term replies \\(ipv4\\): connection_state related needs connection tracking",
    ("stateful", "arista_eos"): "arista_eos: filter STATEFUL term junk \\(ipv4\\): connection_state invalid needs connection",
    ("stateful", "aruba_aoscx"): "aruba_aoscx: filter STATEFUL term new-web \\(ipv4\\): connection_state new needs",
    ("stateful", "juniper_junos"): "juniper_junos: filter STATEFUL term rest \\(ipv6\\): log_rate: Junos `syslog` has no per-term rate",
    ("stateful", "cisco_nxos"): "cisco_nxos: filter STATEFUL term replies \\(ipv4\\): connection_state related needs connection tracking",
    ("as-path-lists", "juniper_junos"): "",  # placeholder removed below: '^65002 .*' is valid on Junos
}
del REFUSED[("as-path-lists", "juniper_junos")]
