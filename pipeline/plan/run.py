"""Plan a change across its targets: fetch (live or from snapshots), plan each device, stream results.

Devices are planned one at a time per worker and only the (small) DevicePlan is kept, never the fleet's
configs. Live fetching runs through nornir's threaded runner over netmiko; snapshots are planned in a
process pool (parsing is CPU-bound).
"""

from __future__ import annotations

import ipaddress

import gc
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import safefiles
from ..drivers.base import get_driver
from ..errors import DeviceError, InputError, Location, NetchangeError
from ..inventory import Host, Inventory
from ..model.change import ChangeRequest
from ..model.objects import ObjectStore
from ..drivers.observers.frr import routes_from_frr_json
from .impact import AcceptedRoutes, Route
from .planner import DevicePlan, UnmodelledConfig, plan_device


def snapshot_path(directory: Path, host: Host) -> Path:
    return safefiles.named_path(directory, host.name, get_driver(host.platform).snapshot_suffix)


def read_snapshot(path: Path, directory: Path) -> str:
    """A snapshot's text: a regular, size-capped file that really lives in the snapshot folder."""
    return safefiles.read_text(path, safefiles.SNAPSHOT_MAX, within=directory, errors="surrogateescape")


def received_routes_from_snapshot(directory: Path, host: Host) -> dict[tuple[str, str], list[Route]] | None:
    """Optional `<host>.routes/<neighbor>_<afi>.json` files: FRR `received-routes json` (the Adj-RIB-In) or,
    from a router without soft-reconfiguration inbound, `neighbors X routes json` (what it accepted). None:
    no such folder (nothing was saved for the preview)."""
    d = safefiles.named_path(directory, host.name, ".routes")
    if not d.is_dir():
        return None
    out: dict[tuple[str, str], list[Route]] = {}
    for f in sorted(d.glob("*.json")):
        neighbor, _, afi = f.stem.rpartition("_")
        out[(neighbor, afi)] = _routes_file(f, directory)
    return out


def _routes_file(path: Path, directory: Path) -> list[Route]:
    """One received-routes file, checked: a malformed one is an error naming the file and the prefix."""
    data = safefiles.read_json(path, safefiles.SNAPSHOT_MAX, within=directory, expect=dict)
    key = next((k for k in ("receivedRoutes", "routes", "advertisedRoutes") if data.get(k)), "receivedRoutes")
    table = data.get(key) or {}
    if not isinstance(table, dict):
        raise InputError(f"not FRR received-routes JSON: {key} is not an object of prefix -> path(s)",
                         Location(str(path), field=key))
    try:
        routes = routes_from_frr_json(data)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError, StopIteration):
        routes = None
    bad = None if routes is not None else next((p for p in table if not _parses(data, key, p)), "?")
    for r in routes or ():
        if not _is_route(r):
            bad = r.prefix
            break
    if bad is not None:
        raise InputError(f"not FRR received-routes JSON: the path of {bad} is malformed",
                         Location(str(path), field=f"{key}.{bad}"))
    assert routes is not None  # else `bad` is set and raised above
    return AcceptedRoutes(routes) if key == "routes" else routes  # `routes json`: after the inbound policy


def _parses(data: dict[str, Any], key: str, prefix: str) -> bool:
    try:
        return all(_is_route(r) for r in routes_from_frr_json({**data, key: {prefix: data[key][prefix]}}))
    except (AttributeError, TypeError, ValueError, KeyError, IndexError, StopIteration):
        return False


def _is_route(r: Route) -> bool:
    def opt(v: object, t: type) -> bool:
        return v is None or (isinstance(v, t) and not isinstance(v, bool))

    return (isinstance(r.prefix, str) and _is_network(r.prefix) and opt(r.next_hop, str) and opt(r.local_pref, int)
            and opt(r.med, int) and opt(r.weight, int))


def _is_network(prefix: str) -> bool:
    try:
        ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return False
    return True


def targets(change: ChangeRequest, inventory: Inventory) -> list[Host]:
    t = change.targets
    hosts = inventory.select(t.hosts, t.groups, t.roles, t.sites)
    missing = [h for h in t.hosts if h not in inventory.hosts]
    if missing:
        raise InputError(f"targets name hosts not in the inventory: {', '.join(missing)}", Location(f"policies/changes/{change.id}.yaml", field="targets.hosts"))
    if not hosts:
        raise InputError("targets select no host of the inventory", Location(f"policies/changes/{change.id}.yaml", field="targets"))
    return hosts


@dataclass(frozen=True)
class _Job:
    host: Host
    path: str
    change: ChangeRequest
    store: ObjectStore
    strategy: str | None
    peers: dict[str, Host] | None = None  # the inventory's hosts: bindings naming a neighbor by its host


def _plan_from_snapshot(job: _Job) -> DevicePlan | str:
    try:
        path = Path(job.path)
        if not path.exists() and not path.is_symlink():
            return f"{job.host.name}: no snapshot at {path} (run `netchange backup` first)"
        text = read_snapshot(path, path.parent)
        driver = get_driver(job.host.platform)
        refused = driver.fetch_error(text)
        if refused:
            return (f"{job.host.name}: snapshot {path} holds the device's error output, not its configuration: "
                    f"{refused!r} (run `netchange backup` again)")
        routes = received_routes_from_snapshot(path.parent, job.host)
        return plan_device(job.host, driver, text, job.change, job.store, job.strategy, routes, peers=job.peers)
    except UnmodelledConfig as e:  # a refused plan: reported with its lines, not as an error
        return e.plan
    except NetchangeError as e:
        msg = str(e)
        return msg if msg.startswith(f"{job.host.name}:") else f"{job.host.name}: {msg}"


# Per worker process: what every job of one plan_snapshots call shares, set once by the pool initializer
# instead of being pickled into every job.
_SHARED: dict[str, Any] = {}


def _init_worker(change: ChangeRequest, store: ObjectStore, strategy: str | None, peers: dict[str, Host] | None = None) -> None:
    # Objects inherited from the parent (inventory, nornir, the change) live as long as the worker: move
    # them out of the cyclic GC's reach, so its full passes neither rescan them after every few devices nor
    # touch (and so copy) the parent's memory pages.
    gc.freeze()
    _SHARED.update(change=change, store=store, strategy=strategy, peers=peers)


def _plan_host(item: tuple[Host, str]) -> DevicePlan | str:
    host, path = item
    return _plan_from_snapshot(_Job(host, path, _SHARED["change"], _SHARED["store"], _SHARED["strategy"],
                                   _SHARED.get("peers")))


def plan_snapshots(change: ChangeRequest, inventory: Inventory, store: ObjectStore, directory: Path,
                   strategy: str | None = None, workers: int | None = None,
                   progress: Callable[[str], None] | None = None) -> Iterator[DevicePlan | str]:
    """Yields one DevicePlan (or an error string) per target, in inventory order."""
    hosts = targets(change, inventory)
    items = [(h, str(snapshot_path(directory, h))) for h in hosts]
    workers = workers or min(len(items), os.cpu_count() or 1)
    if workers <= 1 or len(items) < 4:
        for h, path in items:
            r = _plan_from_snapshot(_Job(h, path, change, store, strategy, dict(inventory.hosts)))
            if progress:
                progress(h.name)
            yield r
        return
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(change, store, strategy, dict(inventory.hosts)))
    try:
        for (h, _), r in zip(items, pool.map(_plan_host, items, chunksize=8)):
            if progress:
                progress(h.name)
            yield r
    finally:
        # A consumer that stops early (error, Ctrl-C) must not wait for the rest of the fleet to be planned.
        pool.shutdown(wait=True, cancel_futures=True)


def fetch_running(host: Host, conn: Any = None) -> str:
    """Running config (or `nft -j list ruleset`) of one live device over SSH (`conn`: an open session)."""
    from ..connect import connect

    driver = get_driver(host.platform)
    text: str
    if conn is not None:
        text = conn.send_command(driver.fetch_command, read_timeout=60)
    else:
        with connect(host) as own:
            text = own.send_command(driver.fetch_command, read_timeout=60)
    refused = driver.fetch_error(text)
    if refused:
        raise DeviceError(f"{host.name}: `{driver.fetch_command}` was answered with an error, not a configuration: {refused!r}")
    return text


def plan_live(change: ChangeRequest, inventory: Inventory, store: ObjectStore, strategy: str | None = None,
              workers: int = 50, progress: Callable[[str], None] | None = None) -> Iterator[DevicePlan | str]:
    """Fetch each target concurrently (nornir threaded runner) and plan it as it arrives."""
    from nornir.core.task import Result, Task

    from ..connect import connect

    hosts = targets(change, inventory)
    names = {h.name for h in hosts}
    for platform in {h.platform for h in hosts}:
        get_driver(platform).prepare()

    def task(t: Task) -> Result:
        # Errors are returned, not raised: nornir would log a traceback for a raised one.
        host = inventory.hosts[t.host.name]
        try:
            with connect(host) as conn:  # one session per device for the config and the received routes
                text = fetch_running(host, conn)
                routes = fetch_received_routes(host, change, conn)
            plan = plan_device(host, get_driver(host.platform), text, change, store, strategy, routes,
                               peers=inventory.hosts)
        except UnmodelledConfig as e:  # a refused plan: reported with its lines, not as an error
            return Result(host=t.host, result=e.plan)
        except NetchangeError as e:  # device errors already name the device
            msg = str(e)
            return Result(host=t.host, result=msg if msg.startswith(f"{host.name}:") else f"{host.name}: {msg}", failed=True)
        except Exception as e:
            return Result(host=t.host, result=f"{host.name}: {type(e).__name__}: {e}", failed=True)
        return Result(host=t.host, result=plan)

    nr = inventory.nornir.filter(filter_func=lambda h: h.name in names)
    nr.runner.num_workers = workers  # ThreadedRunner: the --workers option
    results = nr.run(task=task, on_failed=True)
    for h in hosts:
        r = results[h.name][0]
        if progress:
            progress(h.name)
        yield r.result if not r.failed else (r.result if isinstance(r.result, str) else f"{h.name}: {_failure(r)}")


def _failure(r: Any) -> str:  # a nornir Result
    e = r.exception
    return f"{type(e).__name__}: {e}" if e is not None else str(r.result)


def fetch_received_routes(host: Host, change: ChangeRequest, conn: Any) -> dict[tuple[str, str], list[Route]]:
    """Adj-RIB-In per neighbor (needs soft-reconfiguration inbound) for the impact preview, on platforms whose
    route-map semantics the preview follows (`Driver.impact_preview`) and whose observer reads it; without
    an Adj-RIB-In, the routes accepted now (`AcceptedRoutes`: the preview says what that can and cannot show)."""
    driver = get_driver(host.platform)
    obs = driver.observer(conn, host.name) if driver.impact_preview and host.data.bgp else None
    if obs is None or not {"received", "accepted"} & obs.answers:
        return {}
    assert host.data.bgp is not None  # an observer is made for BGP speakers only
    # addresses as written (a name resolves to one of the host's neighbors, all of which are read below)
    wanted: set[tuple[str, str]] = {(str(b.neighbor), b.afi) for b in change.routing.bindings
                                    if b.afi and not getattr(b, "by_name", False)}
    wanted |= {(str(n.address), afi.split("_")[0]) for n in host.data.bgp.neighbors for afi in n.afis}
    out: dict[tuple[str, str], list[Route]] = {}
    for neighbor, afi in sorted(wanted):
        routes = obs.received(neighbor, afi) if "received" in obs.answers else None
        if routes is None and "accepted" in obs.answers:  # no soft-reconfiguration inbound: no Adj-RIB-In
            accepted = obs.accepted(neighbor, afi)
            routes = AcceptedRoutes(accepted) if accepted is not None else None
        if routes is not None:  # None: not a neighbor in that AF
            out[(neighbor, afi)] = routes
    return out
