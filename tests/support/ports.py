"""Free TCP ports on loopback for the servers the tests start."""

import random
import socket

HOST = "127.0.0.1"


def free_port() -> int:
    """A port the kernel has just handed out on loopback (free unless someone takes it now)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_ports_with_bus(count: int, bus_offset: int = 10000) -> list[int]:
    """Ports p that are free together with p + bus_offset (a Redis Cluster node's bus port)."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20000, 29999)
        if port not in ports and bindable(port) and bindable(port + bus_offset):
            ports.append(port)
    return ports
