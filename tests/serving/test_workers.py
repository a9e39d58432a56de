"""`techauction serve --workers N`: every worker listens on a socket of its own (SO_REUSEPORT),
so the kernel spreads connections over the workers instead of the first one awake taking them
all; and a port another server listens on is refused, not shared."""

import asyncio
import os
import socket
import subprocess
from pathlib import Path

import httpx

from tests.support.harness import TECHAUCTION, Rig
from tests.support.ports import HOST, free_port
from tests.support.waits import wait_for

LISTEN, ESTABLISHED = "0A", "01"  # TCP states in /proc/net/tcp
SOCKET_LINK = "socket:["  # how /proc/<pid>/fd names a socket: socket:[<inode>]


def tcp_inodes(port: int, state: str) -> set[str]:
    """Inodes of the TCP sockets in `state` whose local port is `port` (any address)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                found.add(fields[9])
    return found


def listening_inodes(port: int) -> set[str]:
    return tcp_inodes(port, LISTEN)


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith(SOCKET_LINK):
            inodes.add(target[len(SOCKET_LINK):-1])
    return inodes


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def test_each_worker_listens_on_a_socket_of_its_own(rig: Rig) -> None:
    rig.start_redis(aof=False)
    (api,) = rig.start_apis(1, workers=2)
    # serving as soon as one worker is up; the other may still be starting
    wait_for(lambda: len(listening_inodes(api.port)) == 2, 45, "both workers listening")
    listeners = listening_inodes(api.port)
    supervisor = api.process.pid
    held = {pid: socket_inodes(pid) & listeners for pid in children(supervisor)}
    workers = {pid: inodes for pid, inodes in held.items() if inodes}

    assert len(workers) == 2 and all(len(inodes) == 1 for inodes in workers.values())
    assert set.union(*workers.values()) == listeners
    assert not socket_inodes(supervisor) & listeners  # it dies with its worker
    # 64 connections opened at once, as a proxy's pool or the bench's wrk opens them
    clients = [httpx.AsyncClient(base_url=api.url, timeout=10) for _ in range(64)]
    try:
        answers = await asyncio.gather(*(client.get("/healthz") for client in clients))
        assert {a.status_code for a in answers} == {200}
        per_worker = {pid: len(established(pid, api.port)) for pid in workers}
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    assert sum(per_worker.values()) == 64
    assert min(per_worker.values()) > 0, per_worker


def established(pid: int, port: int) -> set[str]:
    """Inodes of pid's TCP connections accepted on `port`."""
    return tcp_inodes(port, ESTABLISHED) & socket_inodes(pid)


def test_a_port_in_use_is_refused_not_shared(rig: Rig) -> None:
    rig.start_redis(aof=False)
    port = free_port()
    with socket.socket() as other_server:
        other_server.bind((HOST, port))
        other_server.listen()
        done = subprocess.run(
            [TECHAUCTION, "serve", "--host", HOST, "--port", str(port), "--workers", "2"],
            env=rig.env(), capture_output=True, timeout=60, cwd=rig.workdir,
        )
        assert done.returncode != 0
        assert b"in use" in done.stdout + done.stderr
        assert listening_inodes(port) == {_inode(other_server)}


def _inode(sock: socket.socket) -> str:
    return os.readlink(f"/proc/self/fd/{sock.fileno()}")[len(SOCKET_LINK):-1]
