"""Property (issue 13): random scoped changes over a generated multi-host inventory. On every device, at every
step of the ordered plan (phase 1, the switches, the garbage collection), nothing refers to an object the
device does not hold at that step; and a change object lands only where its scope, or something of the change
that uses it, puts it (or everywhere, when nothing of the change uses it)."""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.drivers import get_driver
from pipeline.errors import InputError
from pipeline.inventory import Bgp, Host, HostData, Neighbor
from pipeline.model.change import ChangeRequest
from pipeline.model.objects import ObjectStore
from pipeline.model.resolve import host_bindings, placed_objects, resolve
from pipeline.plan.diff import apply_desired, diff
from pipeline.plan.groups import regroup
from pipeline.plan.order import order
from pipeline.plan.planner import _describe, plan_device
from pipeline.plan.replay import replay
from pipeline.plan.versioned import logical_view, versioned_plan

NAMES = ["ra", "rb", "rc", "rd"]
SITES = ["north", "south"]


def _addr(i: int, j: int, v: int) -> str:
    """Address of host j on the link between hosts i and j."""
    lo, hi = sorted((i, j))
    base = 4 * (lo * 8 + hi)
    side = 0 if j == lo else 1
    return str(ipaddress.ip_address("198.18.40.0") + base + side) if v == 4 else f"2001:db8:40:{base:x}::{side + 1}"


def fleet(n: int, grouped: list[bool]) -> dict[str, Host]:
    hosts = {}
    for i in range(n):
        nbrs = [Neighbor(address=_addr(i, j, v), remote_as=65100 + j, afis=(f"ipv{v}_unicast",), description=NAMES[j])
                for j in range(n) if j != i for v in (4, 6)]
        data = HostData(driver="frr", role="edge" if i % 2 else "core", site=SITES[i % 2],
                        bgp=Bgp(asn=65100 + i, neighbors=tuple(nbrs)))
        hosts[NAMES[i]] = Host(name=NAMES[i], hostname=f"198.18.0.{i + 1}", data=data)
    return hosts


def running_config(hosts: dict[str, Host], name: str, grouped: bool) -> str:
    """Every session bound to BASE-IN/BASE-OUT; with `grouped`, through a peer-group holding all of them."""
    h = hosts[name]
    lines = ["ip prefix-list PL-BASE seq 10 permit 198.18.0.0/16 le 32",
             "ipv6 prefix-list PL-BASE6 seq 10 permit 2001:db8::/32 le 128",
             "route-map BASE-IN permit 10", " match ip address prefix-list PL-BASE",
             "route-map BASE-IN permit 20", " match ipv6 address prefix-list PL-BASE6",
             "route-map BASE-OUT permit 10", f"router bgp {h.data.bgp.asn}"]
    if grouped:
        lines.append(" neighbor PG-ALL peer-group")
    for n in h.data.bgp.neighbors:
        lines.append(f" neighbor {n.address} remote-as {n.remote_as}")
        if grouped:
            lines.append(f" neighbor {n.address} peer-group PG-ALL")
    for afi in ("ipv4", "ipv6"):
        lines.append(f" address-family {afi} unicast")
        who = ["PG-ALL"] if grouped else [str(n.address) for n in h.data.bgp.neighbors if n.address.version == int(afi[-1])]
        for w in who:
            lines += [f"  neighbor {w} route-map BASE-IN in", f"  neighbor {w} route-map BASE-OUT out"]
        lines.append(" exit-address-family")
    return "\n".join(lines + ["exit", ""])


@st.composite
def scopes(draw, n: int):
    kind = draw(st.sampled_from(["none", "hosts", "sites", "roles"]))
    if kind == "none":
        return None
    if kind == "hosts":
        return {"hosts": draw(st.lists(st.sampled_from(NAMES[:n]), min_size=1, max_size=n, unique=True))}
    if kind == "sites":
        return {"sites": [draw(st.sampled_from(SITES[:min(n, 2)]))]}
    return {"roles": [draw(st.sampled_from(["core", "edge"][:min(n, 2)]))]}


@st.composite
def cases(draw):
    n = draw(st.integers(2, 4))
    grouped = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    pls = []
    for k in range(draw(st.integers(0, 3))):
        pl = {"name": f"PL-{k}", "entries": [{"seq": 10, "action": "permit", "prefix": f"198.18.{50 + k}.0/24"}]}
        if (sc := draw(scopes(n))) is not None:
            pl["scope"] = sc
        pls.append(pl)
    rms = []
    for k in range(draw(st.integers(1, 3))):
        entries = [{"seq": 10 * (e + 1), "action": "permit",
                    **({"match": {"prefix_list": draw(st.sampled_from([p["name"] for p in pls] + ["PL-BASE"]))}}
                       if draw(st.booleans()) else {})} for e in range(draw(st.integers(1, 2)))]
        rm = {"name": f"RM-{k}", "entries": entries}
        if (sc := draw(scopes(n))) is not None:
            rm["scope"] = sc
        rms.append(rm)
    binds = []
    for _ in range(draw(st.integers(0, 3))):
        b = {"neighbor": draw(st.sampled_from(NAMES[:n])), "direction": draw(st.sampled_from(["in", "out"])),
             "route_map": draw(st.sampled_from([r["name"] for r in rms] + ["BASE-IN"]))}
        if draw(st.booleans()):
            b["afi"] = draw(st.sampled_from(["ipv4", "ipv6"]))
        if (sc := draw(scopes(n))) is not None:
            b["scope"] = sc
        if not any((x["neighbor"], x["direction"], x.get("afi"), str(x.get("scope"))) ==
                   (b["neighbor"], b["direction"], b.get("afi"), str(b.get("scope"))) for x in binds):
            binds.append(b)
    change = {"id": "CHG-7700", "title": "t", "requested_by": "tests", "targets": {"hosts": NAMES[:n]},
              "strategy": draw(st.sampled_from(["in_place", "versioned"])),
              "routing": {"prefix_lists": pls, "route_maps": rms, "bindings": binds}}
    return n, grouped, change


def dangling(p) -> list[str]:
    """References to objects the policy does not hold: bound route-maps, lists route-maps match, groups."""
    out = [f"binding {k} -> missing route-map {b.route_map}" for k, b in p.bindings.items()
           if b.route_map and b.route_map not in p.route_maps]
    out += [f"binding {k} on a group the device does not have" for k, b in p.bindings.items()
            if b.is_group and str(b.neighbor) not in p.peer_groups]
    for rm in p.route_maps.values():
        out += [f"route-map {rm.name} -> missing {kind} {name}" for kind, name in rm.references()
                if name not in p.table(kind)]
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_random_scoped_changes_never_reference_an_absent_object(case):
    n, grouped, raw = case
    change = ChangeRequest.model_validate(raw)
    hosts = fleet(n, grouped)
    driver, store = get_driver("frr"), ObjectStore()
    for i, name in enumerate(NAMES[:n]):
        host, text = hosts[name], running_config(hosts, name, grouped[i])
        running = driver.parse(text)
        assert not dangling(running)
        try:
            plan = plan_device(host, driver, text, change, store, peers=hosts)
        except InputError as e:  # the only refusal allowed: members of one peer-group bound differently
            assert "bind the group's members alike" in str(e), e
            continue
        # the same steps the planner ordered, replayed one at a time
        desired = regroup(resolve(change, store, host, hosts), running, name, change.id)
        view, names = logical_view(running) if change.strategy == "versioned" else (running, None)
        intended = apply_desired(view, desired)
        ops = order(diff(view, intended, only={(d.kind, d.key) for d in desired}, canonical=driver.canonical))
        if change.strategy == "versioned" and ops:
            commit, gc = versioned_plan(view, intended, ops, names)
            steps, gc = order(commit), order(gc)
        else:
            steps, gc = ops, []
        assert [_describe(o) for o in steps] == plan.ops[:len(steps)], "the replay follows the plan's order"
        state = running if change.strategy == "versioned" else view
        for k, op in enumerate(steps + gc):
            state = replay(state, [op])
            assert not dangling(state), (name, k, _describe(op), dangling(state))
        # placement: a change object lands only where it is scoped, used, or (used nowhere) on every target
        here = placed_objects(change, host, host_bindings(change, host, hosts))
        created = {(o.kind, o.name.split(".nc")[0]) for o in steps if o.verb == "Create"}
        assert created <= here | {("route_map", "BASE-IN")}, (name, created - here)
        for kind, obj in change.objects():
            users = [b for b in change.routing.bindings if b.route_map == obj.name] + \
                    [r for r in change.routing.route_maps if (kind, obj.name) in r.references()]
            if (kind, obj.name) in here and obj.scope is not None and not obj.scope.selects(host):
                assert users, f"{obj.name} placed on {name} outside its scope without a user"
