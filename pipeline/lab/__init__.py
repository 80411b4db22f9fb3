"""The namespace lab: FRR routers, an nftables firewall and traffic hosts on one Linux machine,
reached over real SSH like any network.

Stable interfaces (others depend on them):

Topology file ``inventory/topology.yaml`` (model: ``pipeline.lab.topology.Topology``): nodes of kind
``frr`` | ``nftables`` | ``host`` and point-to-point links; only documentation/benchmark prefixes.
The default lab: r1 (AS65001, edge) with upstreams r2 (AS65002, preferred: RM-R2-IN sets
local-preference 200) and r3 (AS65003, RM-R3-IN 100), both originating ext1's 203.0.113.0/24 and
2001:db8:203::/48; fw1 (nftables, ``table inet filter`` chain ``forward``) in front of srv1
(198.51.100.130, 2001:db8:100::2). Route-maps on a session with peer P are ``RM-P-IN``/``RM-P-OUT``
(IPv4) and ``RM-P-V6-IN``/``RM-P-V6-OUT`` (IPv6).

Router options (``options:`` per frr node, ``pipeline.lab.options``): ``soft_reconfiguration_inbound``
(default true) and ``route_map_delay_timer`` (default 0; ``default`` = FRR's 5 s). ``profiles:`` names sets
of them (``"*"``: every router): ``careful`` (the defaults), ``production`` (no Adj-RIB-In, FRR's default
timer: how most networks run), ``lean`` (no Adj-RIB-In, timer 0). ``lab up --profile NAME`` builds with one;
``Lab.apply_profile(NAME)`` switches a running lab without a rebuild (sessions stay up). ``login: password``
(per frr node) makes a router accept only a password.

Inventory: ``Lab.inventory_path`` (``/run/netchange/<prefix>/inventory``) is a nornir SimpleInventory
that loads with ``pipeline.inventory.Inventory``; ``inventory/hosts.yaml`` etc. in the repo are the same
for the default prefix ``nc`` (``netchange lab inventory --write inventory`` regenerates them). Only
managed devices are hosts (``platform`` cisco_ios for frr, linux for nftables); host data carries
``lab: {prefix, node, namespace}``. Traffic hosts (ext1, srv1) are in the topology only.

SSH: ``/run/netchange/<prefix>/ssh/id_ed25519`` and ``known_hosts`` (strict checking). Routers: user
``netchange`` (forced into that router's vtysh); fw1: ``root`` with a shell. See ``pipeline.connect``.

Python API::

    from pipeline.lab import Lab
    lab = Lab("inventory/topology.yaml", prefix="nc")   # or Lab.attach(prefix) for a running lab
    lab.up(); lab.wait_converged(30); lab.status(); lab.down()
    lab.exec("r1", ["vtysh", "-c", "show bgp summary json"])  # -> subprocess.CompletedProcess
    lab.devices["r1"]  # Device(name, kind, namespace, mgmt_address, interfaces {peer: ifname},
                       #        host_facing (interfaces towards traffic hosts), directory)
    lab.bgp_peers("r1"); lab.convergence_gaps(); lab.leftovers()
    lab.apply_profile("production"); lab.restart_daemon("r1", "bgpd")  # tests: realism, faults

Names: namespaces ``<prefix>-<node>``, root bridge ``<prefix>-mgmt``, root veths ``<prefix>-<node>-m``;
interfaces inside a node are ``to-<peer>`` and ``mgmt0``. Prefix from ``--prefix`` or
``NETCHANGE_LAB_PREFIX`` (default ``nc``); sweeps match it exactly (``nct-*`` is never touched).
"""

from .lab import Device, Lab, NodeStatus, namespaces_available

__all__ = ["Device", "Lab", "NodeStatus", "namespaces_available"]
