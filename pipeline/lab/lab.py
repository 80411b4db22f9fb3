"""The Lab: build, check, inspect and tear down a topology on this machine.

Everything created is recorded in the state dir (/run/netchange/<prefix>/: state.json, the effective
topology, per-node dirs with FRR sockets/logs/pid files, SSH keys, the generated inventory), and `down`
also sweeps by exact name so a crashed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LabError
from . import frr, netns, nft, sshd
from . import inventory as inv
from . import topology as topo_mod
from .topology import Mgmt, Topology

STATE_ROOT = Path("/run/netchange")
DEFAULT_PREFIX = "nc"

# binary -> apt package that provides it
REQUIRED = {
    "ip": "iproute2", "unshare": "util-linux", "vtysh": "frr", "/usr/lib/frr/zebra": "frr",
    "/usr/lib/frr/bgpd": "frr", "/usr/lib/frr/staticd": "frr", "/usr/sbin/sshd": "openssh-server",
    "ssh-keygen": "openssh-client", "nft": "nftables", "useradd": "passwd", "sysctl": "procps",
}


def default_prefix() -> str:
    return os.environ.get("NETCHANGE_LAB_PREFIX") or DEFAULT_PREFIX


def default_topology() -> Path:
    local = Path("inventory/topology.yaml")
    return local if local.exists() else demo_topology()


def demo_topology() -> Path:
    """The bundled demo topology: inventory/topology.yaml, installed as package data `pipeline.labdata`
    (an editable install maps no data-only package, so it reads the checkout's file)."""
    from importlib.resources import files

    try:
        packaged = files("pipeline.labdata") / "topology.yaml"
        if packaged.is_file():
            return Path(str(packaged))
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "inventory" / "topology.yaml"


def namespaces_available() -> tuple[bool, str]:
    """(ok, reason): root and a kernel that lets us create network and UTS namespaces."""
    if os.geteuid() != 0:
        return False, "the lab needs root (network namespaces, veth links, sshd): run it with sudo"
    if not Path("/proc/self/ns/net").exists():
        return False, "this kernel has no network namespaces (CONFIG_NET_NS)"
    if shutil.which("unshare") is None:
        return False, "`unshare` is missing: apt-get install util-linux"
    p = subprocess.run(["unshare", "--net", "--uts", "true"], capture_output=True, text=True)
    if p.returncode != 0:
        return False, (f"creating namespaces is forbidden here ({p.stderr.strip() or 'unshare failed'}): "
                       "run on a VM or in a privileged container (docker run --privileged)")
    return True, ""


@dataclass(frozen=True)
class Device:
    """One node of the lab as the rest of netchange sees it."""

    name: str
    kind: str  # frr | nftables | host
    namespace: str
    mgmt_address: str | None  # None for traffic hosts (no SSH)
    interfaces: dict[str, str]  # peer node -> interface name inside the namespace
    host_facing: tuple[str, ...]  # interfaces towards traffic hosts (where the eBPF agent attaches)
    directory: Path  # per-node state: FRR sockets, logs, pid files, sshd_config


@dataclass
class NodeStatus:
    name: str
    kind: str
    namespace: bool
    processes: dict[str, bool] = field(default_factory=dict)
    sessions_up: int = 0
    sessions: int = 0


class Lab:
    def __init__(self, topology_path: Path | str | None = None, prefix: str | None = None, *,
                 topology: Topology | None = None, mgmt_subnet: str | None = None,
                 progress: Callable[[str], None] | None = None, profile: str | None = None):
        self.prefix = netns.check_prefix(prefix or default_prefix())
        self.state_dir = STATE_ROOT / self.prefix
        self.topology_path = Path(topology_path) if topology_path else None
        base = topology if topology is not None else topo_mod.load(self.topology_path or default_topology())
        subnet = mgmt_subnet or topo_mod.mgmt_subnet_for_prefix(self.prefix, base.mgmt.subnet)
        if profile is not None:
            try:
                base = base.with_profile(profile)
            except ValueError as e:
                raise LabError(str(e)) from None
        self.topology: Topology = base.model_copy(update={"mgmt": Mgmt(subnet=subnet)})
        self.ssh_dir = self.state_dir / "ssh"
        self.inventory_path = self.state_dir / "inventory"
        self.known_hosts = self.ssh_dir / "known_hosts"
        self.ssh_key = self.ssh_dir / "id_ed25519"
        self.password_file = self.ssh_dir / "password"  # for routers with `login: password`
        self._progress = progress or (lambda msg: None)
        self.timings: dict[str, float] = {}

    @classmethod
    def attach(cls, prefix: str | None = None, **kw) -> "Lab":
        """The lab running under *prefix* (its recorded topology), or the default topology if none is."""
        prefix = netns.check_prefix(prefix or default_prefix())
        recorded = STATE_ROOT / prefix / "topology.yaml"
        if recorded.exists():
            try:
                return cls(recorded, prefix, **kw)
            except Exception:  # a corrupt record must not prevent `down`
                pass
        return cls(None, prefix, **kw)

    # ---- model views -------------------------------------------------------------------------
    @property
    def devices(self) -> dict[str, Device]:
        t = self.topology
        out = {}
        for name, node in t.nodes.items():
            ifs = {ln.peer(name): t.interface_name(name, ln.peer(name)) for ln in t.links_of(name)}
            mg = t.mgmt_address(name)
            out[name] = Device(
                name=name, kind=node.kind, namespace=netns.ns_name(self.prefix, name),
                mgmt_address=str(mg.ip) if mg else None, interfaces=ifs,
                host_facing=tuple(i for p, i in ifs.items() if t.nodes[p].kind == "host"),
                directory=self.state_dir / "nodes" / name)
        return out

    def device(self, name: str) -> Device:
        try:
            return self.devices[name]
        except KeyError:
            raise LabError(f"no node {name!r} in this lab (nodes: {', '.join(self.topology.nodes)})") from None

    # ---- preflight ---------------------------------------------------------------------------
    def preflight(self) -> None:
        ok, reason = namespaces_available()
        if not ok:
            raise LabError(reason)
        missing = sorted({pkg for b, pkg in REQUIRED.items() if shutil.which(b) is None and not Path(b).exists()})
        if missing:
            raise LabError(f"missing packages: {', '.join(missing)}: apt-get install -y {' '.join(missing)}")
        try:
            import grp

            grp.getgrnam("frrvty")
        except KeyError:
            raise LabError("group frrvty is missing (it comes with FRR): apt-get install -y frr") from None

    # ---- lifecycle ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _step(self, key: str, msg: str) -> Iterator[None]:
        self._progress(msg)
        t0 = time.monotonic()
        yield
        self.timings[key] = round(time.monotonic() - t0, 3)

    def _state(self) -> dict:
        try:
            return json.loads((self.state_dir / "state.json").read_text())
        except (OSError, json.JSONDecodeError):
            return {}

    def _save_state(self, status: str) -> None:
        state = {"prefix": self.prefix, "status": status, "fingerprint": self.topology.fingerprint(),
                 "topology_source": str(self.topology_path or ""),
                 "namespaces": [d.namespace for d in self.devices.values()],
                 "root_links": [netns.bridge_name(self.prefix)] + [netns.mgmt_veth_name(self.prefix, d.name)
                                                                  for d in self.devices.values() if d.mgmt_address],
                 "timings": self.timings}
        (self.state_dir / "state.json").write_text(json.dumps(state, indent=1))

    def is_up(self) -> bool:
        """Recorded as up for this exact topology, and every namespace and process is still there."""
        st = self._state()
        if st.get("status") != "up" or st.get("fingerprint") != self.topology.fingerprint():
            return False
        existing = set(netns.list_namespaces())
        if any(d.namespace not in existing for d in self.devices.values()):
            return False
        return all(all(self._processes(d).values()) for d in self.devices.values())

    def up(self, fresh: bool = False, converge_timeout: float = 60) -> dict[str, float]:
        """Build the lab (idempotent: a healthy lab of the same topology is left as is). Returns timings."""
        self.preflight()
        t0 = time.monotonic()
        self.timings = {}
        if not fresh and self.is_up():
            self._progress("lab already up")
            self._write_inventory()
            self.timings["converged"] = round(self.wait_converged(converge_timeout), 3)
            self.timings["total"] = round(time.monotonic() - t0, 3)
            return self.timings
        with self._step("cleanup", "removing leftovers"):
            self.down()
        try:
            self._build()
            with self._step("converged", "waiting for BGP to converge"):
                self.wait_converged(converge_timeout)
        except BaseException:
            # keep what was built for inspection but make sure `down` finds it; re-raise the clear error
            with contextlib.suppress(Exception):
                self._save_state("failed")
            raise
        self.timings["total"] = round(time.monotonic() - t0, 3)
        self._save_state("up")
        return self.timings

    def _build(self) -> None:
        t, devs = self.topology, self.devices
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o755)  # the router login user must traverse it to its authorized_keys
        (self.state_dir / "topology.yaml").write_text(_dump_topology(t))
        self._save_state("building")
        managed = [d for d in devs.values() if d.mgmt_address]
        with self._step("keys", "generating SSH keys"):
            if any(n.kind == "frr" for n in t.nodes.values()):
                sshd.ensure_router_user()
            sshd.make_keys(self.ssh_dir, [d.name for d in managed], self.prefix)
            sshd.write_known_hosts(self.ssh_dir, {d.name: d.mgmt_address for d in managed if d.mgmt_address})
            if self.password_nodes:
                sshd.ensure_password_user(self.prefix, self._new_password())
        with self._step("namespaces", f"creating {len(devs)} namespaces and {len(t.links)} links"):
            netns.ensure_bridge(self.prefix, str(t.mgmt_gateway()))
            _parallel(lambda d: self._make_namespace(d), devs.values())
            _parallel(lambda ln: netns.add_veth(devs[ln.a].namespace, t.interface_name(ln.a, ln.b),
                                                devs[ln.b].namespace, t.interface_name(ln.b, ln.a)), t.links)
            _parallel(lambda d: self._addresses(d), devs.values())
        with self._step("daemons", "starting FRR, nftables and sshd"):
            _parallel(self._start_node, devs.values())
        self._write_inventory()

    def _make_namespace(self, d: Device) -> None:
        netns.add_namespace(d.namespace)
        netns.set_forwarding(d.namespace, d.kind != "host")
        d.directory.mkdir(parents=True, exist_ok=True)
        if d.mgmt_address:
            netns.attach_mgmt(self.prefix, d.name, d.namespace,
                              f"{d.mgmt_address}/{self.topology.mgmt.subnet.prefixlen}")

    def _addresses(self, d: Device) -> None:
        t, node = self.topology, self.topology.nodes[d.name]
        for a in node.loopback:
            netns.add_address(d.namespace, "lo", str(a))
        for ln in t.links_of(d.name):
            for v in (4, 6):
                addr = ln.address(d.name, v)
                if addr is not None:
                    netns.add_address(d.namespace, d.interfaces[ln.peer(d.name)], str(addr))
        if node.kind != "frr":  # routers get their static routes from staticd
            for r in node.routes:
                nhs = [str(t.next_hop(d.name, via, r.prefix.version)) for via in r.vias]
                netns.add_route(d.namespace, str(r.prefix), nhs, str(r.src) if r.src else None)

    def _start_node(self, d: Device) -> None:
        node = self.topology.nodes[d.name]
        cfg = None
        if d.mgmt_address:
            cfg = sshd.write_config(self.ssh_dir, d.name, d.directory, d.mgmt_address, router=node.kind == "frr",
                                    password_login=sshd.password_user(self.prefix) if node.login == "password" else None)
            sshd.check_config(cfg)
        if node.kind == "frr":
            conf = d.directory / "frr.conf"
            conf.write_text(frr.render_config(self.topology, d.name))
            # vtysh (also the forced SSH command) reads it from --config_dir and warns into the session if absent
            (d.directory / "vtysh.conf").write_text("service integrated-vtysh-config\n")
            os.chmod(d.directory / "vtysh.conf", 0o644)
            shutil.chown(d.directory, "frr", "frr")
            shutil.chown(conf, "frr", "frr")
            os.chmod(d.directory, 0o775)
            os.chmod(conf, 0o660)
            frr.start(d.namespace, d.name, d.directory, cfg)
            return
        if node.kind == "nftables":
            nft.apply_baseline(d.namespace, node.nftables, d.directory)
        if cfg is not None:
            netns.run(["ip", "netns", "exec", d.namespace, "unshare", "--uts", "sh", "-c",
                       f"hostname {d.name} && /usr/sbin/sshd -f {cfg}"])

    @property
    def password_nodes(self) -> list[str]:
        return [n for n, node in self.topology.nodes.items() if node.login == "password"]

    def _new_password(self) -> str:
        import secrets

        password = secrets.token_urlsafe(18)
        self.ssh_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password)
        return password

    def login_password(self) -> str:
        """The password of the routers with `login: password` (for NETCHANGE_SSH_PASSWORD...)."""
        try:
            return self.password_file.read_text()
        except OSError:
            raise LabError(f"lab {self.prefix} has no password-login router (or is not up)") from None

    def _write_inventory(self) -> None:
        files = inv.render(self.topology, self.prefix, self.ssh_dir, str(self.topology_path or "topology.yaml"))
        inv.write(self.inventory_path, files)

    def repo_inventory_stale(self, directory: Path | str) -> list[str]:
        """Files of a checked-in inventory that no longer match this lab (empty when in sync)."""
        files = inv.render(self.topology, self.prefix, self.ssh_dir, "topology.yaml")
        return inv.stale_files(Path(directory), files)

    def down(self) -> dict[str, list[str]]:
        """Remove every namespace, link, process, mount and file of this lab (also after a crash)."""
        removed: dict[str, list[str]] = {"namespaces": [], "links": [], "processes": []}
        recorded = self._state()
        pids = self._our_pids()
        netns.kill_pids(pids)
        removed["processes"] = [str(p) for p in pids]
        names = set(netns.owned_namespaces(self.prefix))
        names |= set(netns.owned_namespaces(self.prefix, recorded.get("namespaces", [])))
        existing = set(netns.list_namespaces())
        _parallel(netns.delete_namespace, sorted(names & existing))
        removed["namespaces"] = sorted(names & existing)
        for link in netns.owned_root_links(self.prefix):
            netns.run(["ip", "link", "del", link], check=False)
            removed["links"].append(link)
        for m in netns.leftover_mounts(self.prefix):
            netns.run(["umount", "-l", m], check=False)
        for n in names:
            with contextlib.suppress(OSError):
                (Path("/run/netns") / n).unlink()
        shutil.rmtree(self.state_dir, ignore_errors=True)
        if sshd.remove_password_user(self.prefix):
            removed["users"] = [sshd.password_user(self.prefix)]
        return removed

    def leftovers(self) -> dict[str, list[str]]:
        """What of this lab exists right now (all empty after `down`)."""
        return {
            "namespaces": netns.owned_namespaces(self.prefix),
            "links": netns.owned_root_links(self.prefix),
            "processes": [str(p) for p in self._our_pids()],
            "mounts": netns.leftover_mounts(self.prefix),
            "files": [str(self.state_dir)] if self.state_dir.exists() else [],
            "users": [sshd.password_user(self.prefix)] if sshd.password_user_exists(self.prefix) else [],
        }

    def _our_pids(self) -> list[int]:
        """Processes of this lab: inside its namespaces, or started with paths in its state dir."""
        pids: set[int] = set()
        for ns in netns.owned_namespaces(self.prefix):
            pids.update(netns.namespace_pids(ns))
        marker = (str(self.state_dir) + "/").encode()
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                with contextlib.suppress(OSError):
                    if marker in (proc / "cmdline").read_bytes():
                        pids.add(int(proc.name))
        pids.discard(os.getpid())
        return sorted(p for p in pids if netns.pid_alive(p))

    # ---- inspection --------------------------------------------------------------------------
    def _processes(self, d: Device) -> dict[str, bool]:
        names = list(frr.DAEMONS) if d.kind == "frr" else []
        if d.mgmt_address:
            names.append("sshd")
        out = {}
        for n in names:
            try:
                out[n] = netns.pid_alive(int((d.directory / f"{n}.pid").read_text().split()[0]))
            except (OSError, ValueError, IndexError):
                out[n] = False
        return out

    def status(self) -> list[NodeStatus]:
        existing = set(netns.list_namespaces())

        def one(d: Device) -> NodeStatus:
            st = NodeStatus(d.name, d.kind, d.namespace in existing, self._processes(d) if d.namespace in existing else {})
            if d.kind == "frr" and st.processes.get("bgpd"):
                peers = frr.bgp_peers(d.directory)
                st.sessions = len(self.topology.bgp_sessions(d.name))
                st.sessions_up = sum(1 for p in peers.values() if p["state"] == "Established")
            return st

        return _parallel(one, self.devices.values())

    def exec(self, node: str, argv: Sequence[str], *, timeout: float = 60, input: str | None = None) -> subprocess.CompletedProcess:
        """Run *argv* inside *node*'s namespace (vtysh is pointed at that router's daemons)."""
        d = self.device(node)
        argv = list(argv)
        if not argv:
            raise LabError("nothing to run: give a command after --")
        if d.kind == "frr" and argv[0] == "vtysh":
            argv = frr.vtysh(d.directory, *argv[1:])
        if d.namespace not in netns.list_namespaces():
            raise LabError(f"{node} is not running (namespace {d.namespace} missing): run `netchange lab up`")
        full = netns.in_ns(d.namespace, argv)
        with contextlib.suppress(OSError, ValueError, IndexError):
            # join the router's UTS namespace too, so vtysh and `hostname` show the router's name
            pid = int((d.directory / "zebra.pid").read_text().split()[0])
            if d.kind == "frr" and netns.pid_alive(pid):
                full = netns.in_ns(d.namespace, ["nsenter", "-t", str(pid), "--uts", "--", *argv])
        try:
            return subprocess.run(full, capture_output=True, text=True, timeout=timeout, input=input)
        except subprocess.TimeoutExpired:
            raise LabError(f"{node}: `{' '.join(argv)}` did not finish within {timeout:.0f}s") from None

    def apply_profile(self, name: str, converge_timeout: float = 30) -> list[str]:
        """Switch the running lab's routers to profile *name*'s options (no rebuild: sessions stay up) and
        keep frr.conf and the recorded topology in step. Returns the routers that changed."""
        try:
            new = self.topology.with_profile(name)
        except ValueError as e:
            raise LabError(str(e)) from None
        changed = []
        for d in self.devices.values():
            if d.kind != "frr":
                continue
            lines = frr.switch_options(self.topology, new, d.name)
            if not lines:
                continue
            argv = ["vtysh", "-c", "configure terminal"]
            for ln in lines:
                argv += ["-c", ln]
            p = self.exec(d.name, argv, timeout=30)
            bad = [ln for ln in (p.stdout + p.stderr).splitlines() if ln.startswith("%")]
            if p.returncode != 0 or bad:
                raise LabError(f"{d.name}: switching to profile {name} failed: {'; '.join(bad) or p.stderr.strip()}")
            (d.directory / "frr.conf").write_text(frr.render_config(new, d.name))
            changed.append(d.name)
        self.topology = new
        if self.state_dir.exists():
            (self.state_dir / "topology.yaml").write_text(_dump_topology(new))
        self.wait_converged(converge_timeout)
        return changed

    def restart_daemon(self, node: str, daemon: str) -> None:
        """Start a router's crashed (or killed) FRR daemon again with the baseline config (fault tests)."""
        d = self.device(node)
        if d.kind != "frr" or daemon not in frr.DAEMONS:
            raise LabError(f"{node}: no FRR daemon {daemon}")
        frr.restart_daemon(d.namespace, node, d.directory, daemon)

    def bgp_peers(self, node: str) -> dict[str, dict]:
        return frr.bgp_peers(self.device(node).directory)

    def convergence_gaps(self) -> list[str]:
        """Sessions not Established or short of their expected accepted-prefix counts."""
        t = self.topology
        routers = [d for d in self.devices.values() if d.kind == "frr"]

        def gaps(d: Device) -> list[str]:
            peers = frr.bgp_peers(d.directory)
            out = []
            for peer, v, addr in t.bgp_sessions(d.name):
                p = peers.get(str(addr))
                want = getattr(t.nodes[d.name].expect.get(peer), f"ipv{v}", None) if peer in t.nodes[d.name].expect else None
                if p is None or p["state"] != "Established":
                    out.append(f"{d.name}->{peer} ({addr}): {p['state'] if p else 'not configured'}")
                elif want is not None and p["pfxRcd"] != want:
                    out.append(f"{d.name}->{peer} ({addr}): {p['pfxRcd']}/{want} prefixes")
            return out

        return [g for gs in _parallel(gaps, routers) for g in gs]

    def wait_converged(self, timeout: float = 60) -> float:
        """Block until every session is Established with its expected prefix counts; seconds waited."""
        t0 = time.monotonic()
        while True:
            gaps = self.convergence_gaps()
            if not gaps:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise LabError(f"BGP not converged after {timeout:.0f}s: " + "; ".join(gaps[:6])
                               + (f" (+{len(gaps) - 6} more)" if len(gaps) > 6 else ""))
            time.sleep(0.2)


def _parallel(fn, items, workers: int = 8) -> list:
    items = list(items)
    if len(items) <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(min(workers, len(items))) as ex:
        return list(ex.map(fn, items))


def _dump_topology(t: Topology) -> str:
    import io

    from ruamel.yaml import YAML

    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    y.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # ruamel types it None; node order fixes management addresses
    buf = io.StringIO()
    y.dump(json.loads(t.model_dump_json()), buf)
    return buf.getvalue()
