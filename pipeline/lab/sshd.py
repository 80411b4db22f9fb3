"""OpenSSH per managed node: host keys, a client key for the pipeline, known_hosts and sshd configs.

Routers are reached as a dedicated system user whose session is forced into that router's vtysh
(netmiko `cisco_ios`); the firewall is reached as root with a shell (netmiko `linux`). Password and
keyboard-interactive logins are off, except on routers with `login: password`: those accept only a
password, for a login user of their own lab (`<prefix>-login`) whose password is generated at `lab up`
and kept in the lab's state dir (ssh/password, mode 0600). The pipeline keeps strict host-key checking on
against the known_hosts file written here.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import LabError
from .netns import run

ROUTER_USER = "netchange"
ROUTER_USER_HOME = Path("/var/lib/netchange-lab")


def ensure_router_user() -> None:
    """A system user in frrvty (vty sockets) and frr (write memory); its shell only runs the forced vtysh."""
    try:
        pw = pwd.getpwnam(ROUTER_USER)
    except KeyError:
        # password "*": no password login possible, but not "locked" ("!"), which sshd without PAM refuses
        run(["useradd", "--system", "--shell", "/bin/sh", "--home-dir", str(ROUTER_USER_HOME), "--create-home",
             "--password", "*", "--groups", "frrvty,frr", "--comment", "netchange lab router login", ROUTER_USER])
        return
    if _shadow_locked(ROUTER_USER):
        run(["usermod", "--password", "*", ROUTER_USER])
    groups = {g.gr_name for g in grp.getgrall() if ROUTER_USER in g.gr_mem}
    if not {"frrvty", "frr"} <= groups:
        run(["usermod", "-a", "-G", "frrvty,frr", ROUTER_USER])
    if not Path(pw.pw_dir).is_dir():  # sshd prints a chdir warning into the session otherwise
        ROUTER_USER_HOME.mkdir(mode=0o755, parents=True, exist_ok=True)


def password_user(prefix: str) -> str:
    """The password-login user of one lab (each lab its own, so concurrent labs never share a password)."""
    return f"{prefix}-login"


def ensure_password_user(prefix: str, password: str) -> str:
    """The lab's password-login user, in frrvty and frr like the key user, with *password* (through
    chpasswd's stdin: never on a command line)."""
    name = password_user(prefix)
    try:
        pwd.getpwnam(name)
    except KeyError:
        ROUTER_USER_HOME.mkdir(mode=0o755, parents=True, exist_ok=True)
        run(["useradd", "--system", "--shell", "/bin/sh", "--home-dir", str(ROUTER_USER_HOME), "--no-create-home",
             "--groups", "frrvty,frr", "--comment", f"netchange lab {prefix} password login", name])
    run(["chpasswd"], input=f"{name}:{password}\n")
    return name


def password_user_exists(prefix: str) -> bool:
    try:
        pwd.getpwnam(password_user(prefix))
        return True
    except KeyError:
        return False


def remove_password_user(prefix: str) -> bool:
    if not password_user_exists(prefix):
        return False
    run(["userdel", password_user(prefix)], check=False)
    return True


def _shadow_locked(user: str) -> bool:
    try:
        for line in Path("/etc/shadow").read_text().splitlines():
            name, pw, *_ = line.split(":")
            if name == user:
                return pw.startswith("!")
    except OSError:
        pass
    return False


def keygen(path: Path, comment: str) -> None:
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])


def make_keys(ssh_dir: Path, nodes: list[str], prefix: str) -> None:
    """Client key (id_ed25519) and one host key per node, generated in parallel (ed25519 is cheap)."""
    ssh_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    jobs = [(ssh_dir / "id_ed25519", f"netchange-lab-{prefix}")]
    jobs += [(ssh_dir / f"host_{n}", f"{prefix}-{n}") for n in nodes]
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda j: keygen(*j) if not j[0].exists() else None, jobs))
    # sshd reads AuthorizedKeysFile with the user's privileges: world-readable public key only.
    shutil.copyfile(ssh_dir / "id_ed25519.pub", ssh_dir / "authorized_keys")
    os.chmod(ssh_dir / "authorized_keys", 0o644)


def write_known_hosts(ssh_dir: Path, addresses: dict[str, str]) -> Path:
    lines = []
    for node, addr in addresses.items():
        keytype, key, *_ = (ssh_dir / f"host_{node}.pub").read_text().split()
        lines.append(f"{addr} {keytype} {key}")
    path = ssh_dir / "known_hosts"
    path.write_text("\n".join(lines) + "\n")
    os.chmod(path, 0o644)
    return path


def write_config(ssh_dir: Path, node: str, node_dir: Path, address: str, router: bool,
                 password_login: str | None = None) -> Path:
    """sshd_config of one node; *password_login*: the only user, and password the only way in."""
    user = password_login or (ROUTER_USER if router else "root")
    if password_login:
        auth = ["PubkeyAuthentication no", "PasswordAuthentication yes", "PermitEmptyPasswords no",
                "AuthenticationMethods password"]
    else:
        auth = [f"AuthorizedKeysFile {ssh_dir / 'authorized_keys'}", "PubkeyAuthentication yes",
                "PasswordAuthentication no"]
    cfg = [
        f"ListenAddress {address}",
        "Port 22",
        f"HostKey {ssh_dir / f'host_{node}'}",
        f"PidFile {node_dir / 'sshd.pid'}",
        *auth,
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "StrictModes no",  # keys live in the lab's state dir, not in the user's ~/.ssh
        "UsePAM no",
        "PrintMotd no",
        "PrintLastLog no",
        "X11Forwarding no",
        "AllowTcpForwarding no",
        "LogLevel ERROR",
        f"AllowUsers {user}",
        "Subsystem sftp internal-sftp",
    ]
    if router:
        cfg.append(f"ForceCommand /usr/bin/vtysh --vty_socket {node_dir} --config_dir {node_dir}")
    path = node_dir / "sshd_config"
    path.write_text("\n".join(cfg) + "\n")
    return path


def check_config(path: Path) -> None:
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege-separation dir, absent on a fresh machine
    p = run(["/usr/sbin/sshd", "-t", "-f", str(path)], check=False)
    if p.returncode != 0:
        raise LabError(f"sshd rejects {path}: {p.stderr.strip()}")
