"""Which platform expresses which term match: every refusal names the platform, filter, term, family and why;
everything else renders. `netchange validate` (NC180) reports from the same table, so validate and plan agree."""

from __future__ import annotations


import pytest

from pipeline.drivers import get_driver
from pipeline.drivers.render import UnsupportedConstruct
from pipeline.plan.planner import plan_device
from pipeline.project import Project
from pipeline.validate.validator import Validator

from pipeline.model.resolve import resolve

from .cases import change
from .test_roundtrip import RENDERS_EDITS, normal, parse
from .conftest import FLEET, PLATFORM_HOST, ROOT, assert_golden, render_change

FILTERING = {p: h for p, h in PLATFORM_HOST.items() if "filter" in get_driver(p).kinds}
STATELESS = ("cisco_ios", "arista_eos", "aruba_aoscx", "juniper_junos", "cisco_nxos")
V4 = {"destinations": ["198.51.100.0/24"]}

# One term per match; per platform the fragment of the refusal (None: it renders).
FEATURES: dict[str, tuple[dict, dict[str, str]]] = {
    "related": ({"connection_state": ["established", "related"]},
                {p: "connection_state related needs connection tracking" for p in STATELESS}),
    "new": ({"connection_state": ["new"], "protocols": ["tcp"]},
            {p: "connection_state new needs connection tracking" for p in STATELESS}),
    "established-udp": ({"connection_state": ["established"], "protocols": ["udp"]},
                        {p: "means TCP with ACK or RST set on this stateless platform" for p in STATELESS}),
    "established-tcp": ({"connection_state": ["established"], "protocols": ["tcp"]}, {}),
    "syn-not-ack": ({**V4, "protocols": ["tcp"], "tcp_flags": {"syn": True, "ack": False}},
                    {"arista_eos": "EOS ACLs match TCP flags that are set, not clear ones",
                     "aruba_aoscx": "AOS-CX ACLs match TCP flags that are set, not clear ones",
                     "cisco_nxos": "NX-OS flag words match TCP flags that are set, not clear ones"}),
    "syn-and-ack": ({**V4, "protocols": ["tcp"], "tcp_flags": {"syn": True, "ack": True}}, {}),
    "ack-established": ({**V4, "protocols": ["tcp"], "connection_state": ["established"], "tcp_flags": {"psh": True}},
                        {p: "established and TCP flags" for p in ("cisco_ios", "arista_eos", "aruba_aoscx", "cisco_nxos")}),
    "reject": ({**V4, "action": "reject"},
               {p: "action reject cannot be expressed" for p in ("cisco_ios", "arista_eos", "aruba_aoscx", "cisco_nxos")}),
    "syn-not-ack-v6": ({"destinations": ["2001:db8:100::/64"], "protocols": ["tcp"], "tcp_flags": {"syn": True, "ack": False}},
                       {"cisco_ios": "IOS IPv6 ACLs match TCP flags that are set",
                        "arista_eos": "EOS ACLs match TCP flags that are set, not clear ones",
                        "aruba_aoscx": "AOS-CX ACLs match TCP flags that are set, not clear ones",
                        "cisco_nxos": "NX-OS flag words match TCP flags that are set, not clear ones"}),
    "icmp-code": ({"protocols": ["icmp"], "icmp_types": ["destination-unreachable"], "icmp_code": 4}, {}),
    "first-fragment": ({**V4, "fragment": "first"},
                       {"cisco_ios": "IOS `fragments` matches non-initial fragments only",
                        "arista_eos": "EOS `fragments` matches non-initial fragments only",
                        "aruba_aoscx": "AOS-CX `fragment` matches non-initial fragments only",
                        "cisco_nxos": "NX-OS `fragments` matches non-initial fragments only"}),
    "non-first-fragment-v6": ({"destinations": ["2001:db8:100::/64"], "fragment": "non-first"},
                              {"juniper_junos": "Junos inet6 filters have no first / non-first fragment match"}),
    "exclusion": ({"sources": ["198.18.0.0/15"], "source_exclude": ["198.18.7.0/24"]}, {}),
    "dscp": ({"dscp": ["ef", "af41"]}, {}),
    "ttl-range": ({**V4, "hop_limit": "2-5"},
                  {"arista_eos": "EOS matches a TTL / hop limit equal to, above or below one value, not a range",
                   "aruba_aoscx": "AOS-CX matches one TTL value (ttl N), not a range",
                   "cisco_nxos": "NX-OS matches one TTL value (ttl N), not a range"}),
    "hop-limit-v6": ({"destinations": ["2001:db8:100::/64"], "hop_limit": 255},
                     {"cisco_ios": "IOS IPv6 ACLs have no hop-limit match", "aruba_aoscx": "AOS-CX IPv6 ACLs have no hop-limit match",
                      "cisco_nxos": "NX-OS IPv6 ACLs have no hop-limit match"}),
    "log-rate": ({"log": True, "log_rate": "5/second"},
                 {"cisco_ios": "logging is rate-limited for the whole device", "arista_eos": "logging is rate-limited for the whole device",
                  "aruba_aoscx": "logging is rate-limited for the whole device", "juniper_junos": "Junos `syslog` has no per-term rate",
                  "cisco_nxos": "logging is rate-limited for the whole device"}),
}


def one_term(feature: str):
    term, _ = FEATURES[feature]
    return change("CASE-90", firewall={"filters": [{"name": "CAP", "attach": ["server-edge"], "terms": [
        {"name": "t", **{"action": "accept", **term}}]}]})


@pytest.mark.parametrize("platform", sorted(FILTERING))
@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_each_platform_expresses_or_refuses_each_match(feature, platform, fleet, store):
    """A match the platform takes is printed (golden file `term-<match>.<platform>.txt`) and parses back; one
    it cannot take is refused, never dropped."""
    why = FEATURES[feature][1].get(platform)
    if why is None:
        text = render_change(one_term(feature), FILTERING[platform], fleet, store)
        assert_golden(f"term-{feature}.{platform}.txt", text)
        if platform in RENDERS_EDITS:  # nft input, read back by real nft in test_nft_check
            assert "CAP" in text
            return
        host = fleet.hosts[FILTERING[platform]]
        (want,) = [d.obj for d in resolve(one_term(feature), store, host) if d.kind == "filter"]
        got = parse(platform, text).get("filter", want.name)
        assert got is not None and normal(platform, "filter", got) == normal(platform, "filter", want), text
        return
    with pytest.raises(UnsupportedConstruct) as e:
        render_change(one_term(feature), FILTERING[platform], fleet, store)
    assert f"{platform}: filter CAP term t (ipv" in str(e.value) and why in str(e.value)


def test_a_refusal_lists_every_problem_not_the_first(fleet, store):
    c = change("CASE-91", firewall={"filters": [{"name": "CAP", "attach": ["server-edge"], "terms": [
        {"name": "a", "connection_state": ["related"], "action": "accept"},
        {"name": "b", "fragment": "first", "log": True, "log_rate": "1/second", "action": "deny"}]}]})
    with pytest.raises(UnsupportedConstruct) as e:
        render_change(c, "eos1", fleet, store)
    lines = str(e.value).splitlines()
    assert {ln.split(":")[1].strip() for ln in lines} == {"filter CAP term a (ipv4)", "filter CAP term a (ipv6)",
                                                         "filter CAP term b (ipv4)", "filter CAP term b (ipv6)"}
    assert sum("log_rate" in ln for ln in lines) == 2 and sum("fragments" in ln for ln in lines) == 2


STATEFUL_ON_TWO = """\
id: CHG-0950
title: replies on a firewall and a switch
requested_by: tests
targets: {hosts: [fw1, eos1]}
firewall:
  filters:
    - name: REPLIES
      attach: [server-edge]
      terms:
        - name: replies
          connection_state: [established, related]
          action: accept
        - name: web
          protocols: [tcp]
          destination_ports: [443]
          action: accept
"""


def test_validate_and_plan_agree_on_what_a_platform_cannot_express(tmp_path, fleet, store):
    path = tmp_path / "CHG-0950.yaml"
    path.write_text(STATEFUL_ON_TWO)
    findings = Validator(Project(ROOT), inventory_dir=FLEET).validate(path)
    nc180 = [f for f in findings if f.rule == "NC180"]
    assert nc180 and all(f.message.startswith("arista_eos: filter REPLIES term replies") for f in nc180)
    assert all(f.location.line == 10 for f in nc180)  # the term's name line
    assert not [f for f in nc180 if "nftables" in f.message]
    from pipeline.project import load_change

    c, _ = load_change(path)
    host = fleet.hosts["eos1"]
    with pytest.raises(UnsupportedConstruct) as e:
        plan_device(host, get_driver(host.platform), "", c, store)
    assert sorted(str(e.value).splitlines()) == sorted(f.message for f in nc180)
    fw = fleet.hosts["fw1"]
    assert plan_device(fw, get_driver(fw.platform), '{"nftables": []}', c, store).commands
