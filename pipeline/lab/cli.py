"""`netchange lab ...`: up, down, status, exec, inventory, generate-scale."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..console import Messages, plain_console
from ..errors import LabError

app = typer.Typer(no_args_is_help=True)
console = Messages()

PrefixOpt = typer.Option(None, "--prefix", "-p", envvar="NETCHANGE_LAB_PREFIX",
                         help="Name prefix of namespaces/links (default nc); lets two labs coexist.")


def _progress(msg: str) -> None:
    console.info(f"[cyan]•[/] {msg}", highlight=False)


@app.command()
def up(topology: Optional[Path] = typer.Argument(None, help="Topology file (default inventory/topology.yaml)."),
       prefix: Optional[str] = PrefixOpt,
       scale: Optional[int] = typer.Option(None, "--scale", help="Generated topology with N edge routers instead."),
       fresh: bool = typer.Option(False, "--fresh", help="Rebuild even if the same lab is already up."),
       timeout: float = typer.Option(120, "--timeout", help="Seconds to wait for BGP convergence."),
       profile: Optional[str] = typer.Option(None, "--profile", help="Router options from the topology's `profiles:` "
                                             "(e.g. production: no soft-reconfiguration inbound, FRR's default delay timer).")) -> None:
    """Build the lab (idempotent) and wait until BGP has converged."""
    from .lab import Lab
    from .scale import generate

    if scale is not None and topology is not None:
        raise LabError("give a topology file or --scale, not both")
    if scale is not None:
        try:
            topo = generate(scale)
        except ValueError as e:
            raise LabError(str(e)) from None
        lab = Lab(prefix=prefix, topology=topo, progress=_progress, profile=profile)
    else:
        lab = Lab(topology, prefix, progress=_progress, profile=profile)
    if console.shows_progress:
        with console.status("building lab", spinner="dots"):
            timings = lab.up(fresh=fresh, converge_timeout=timeout)
    else:
        timings = lab.up(fresh=fresh, converge_timeout=timeout)
    console.info(f"[green]lab {lab.prefix} up[/] in {timings.get('total', 0):.1f}s "
                  f"({', '.join(f'{k} {v:.2f}s' for k, v in timings.items() if k != 'total')})", highlight=False)
    console.info(f"inventory: {lab.inventory_path}", highlight=False)
    if scale is None and lab.prefix == "nc":
        src = (topology or Path("inventory/topology.yaml")).parent
        stale = lab.repo_inventory_stale(src) if (src / "hosts.yaml").exists() else []
        if stale:
            console.print(f"[yellow]warning[/] {src}/{', '.join(stale)} differ from the lab: "
                          f"run `netchange lab inventory --write {src}`", highlight=False)


@app.command()
def down(prefix: Optional[str] = PrefixOpt) -> None:
    """Remove every namespace, link, process and file of the lab (also after a crashed run)."""
    from .lab import Lab

    lab = Lab.attach(prefix)
    _require_root()
    removed = lab.down()
    left = {k: v for k, v in lab.leftovers().items() if v}
    console.info(f"[green]lab {lab.prefix} down[/]: removed {len(removed['namespaces'])} namespaces, "
                  f"{len(removed['links'])} links, {len(removed['processes'])} processes", highlight=False)
    if left:
        raise LabError(f"could not remove: {left}")


@app.command()
def status(prefix: Optional[str] = PrefixOpt) -> None:
    """Namespaces, processes and BGP sessions per node."""
    from .lab import Lab

    lab = Lab.attach(prefix)
    _require_root()
    table = Table(title=f"lab {lab.prefix} ({lab.topology.name})")
    for col in ("node", "kind", "namespace", "mgmt", "processes", "bgp"):
        table.add_column(col)
    devs = lab.devices
    up_all = True
    for st in lab.status():
        d = devs[st.name]
        procs = " ".join(f"[{'green' if ok else 'red'}]{n}[/]" for n, ok in st.processes.items())
        bgp = f"{st.sessions_up}/{st.sessions}" if st.kind == "frr" else ""
        up_all &= st.namespace and all(st.processes.values()) and st.sessions_up == st.sessions
        table.add_row(st.name, st.kind, d.namespace if st.namespace else "[red]missing[/]",
                      d.mgmt_address or "", procs, bgp)
    plain_console().print(table)
    if not up_all:
        raise typer.Exit(1)


@app.command("exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def exec_(node: str = typer.Argument(..., help="Node name, e.g. r1 or srv1."),
          cmd: list[str] = typer.Argument(..., help="Command after --, e.g. -- vtysh -c 'show bgp summary'."),
          prefix: Optional[str] = PrefixOpt) -> None:
    """Run a command inside a node's namespace (vtysh talks to that router)."""
    from .lab import Lab

    lab = Lab.attach(prefix)
    _require_root()
    p = lab.exec(node, cmd)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    raise typer.Exit(p.returncode)


@app.command()
def inventory(topology: Optional[Path] = typer.Argument(None, help="Topology file (default inventory/topology.yaml)."),
              write: Optional[Path] = typer.Option(None, "--write", help="Write hosts/groups/defaults.yaml here."),
              check: Optional[Path] = typer.Option(None, "--check", help="Fail if the inventory here is stale."),
              prefix: Optional[str] = PrefixOpt) -> None:
    """Generate (or check) the nornir inventory that reaches the lab."""
    from . import inventory as inv
    from .lab import Lab

    lab = Lab(topology, prefix)
    files = inv.render(lab.topology, lab.prefix, lab.ssh_dir, "topology.yaml")
    if check is not None:
        stale = inv.stale_files(check, files)
        if stale:
            raise LabError(f"{check}: {', '.join(stale)} out of date: run `netchange lab inventory --write {check}`")
        console.info(f"{check}: inventory matches the topology")
    elif write is not None:
        from .. import safefiles

        safefiles.make_dir(write, "the inventory folder")
        inv.write(write, files)
        console.info(f"wrote {', '.join(files)} to {write}")
    else:
        for f, text in files.items():
            sys.stdout.write(f"--- {f}\n{text}")


@app.command("generate-scale")
def generate_scale(n: int = typer.Argument(50, help="Number of edge routers."),
                   output: Path = typer.Option(..., "--output", "-o", help="Topology file to write.")) -> None:
    """Write the scale topology (N edges, two shared upstreams) to a file."""
    from .lab import _dump_topology
    from .scale import generate

    from .. import safefiles

    try:
        text = _dump_topology(generate(n))
    except ValueError as e:
        raise LabError(str(e)) from None
    safefiles.write_text(output, text, "the topology")
    console.info(f"wrote {output}")


def _require_root() -> None:
    import os

    if os.geteuid() != 0:
        raise LabError("the lab needs root: run it with sudo")
