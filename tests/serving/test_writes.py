"""`techauction serve` sends each answer in one write: head and body together, not a system
call and a TCP segment for each (uvicorn's own protocol writes them separately). Whatever is
held for the end of a loop turn still goes out whole: before a close, for pipelined requests,
for a body larger than the socket's buffer."""

import socket
from pathlib import Path

from tests.support.harness import HOST, Rig

REQUESTS = 200


def write_calls(pid: int) -> int:
    """System calls of the write family the process made (libuv writes sockets with them)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("syscw:"):
            return int(line.split()[1])
    raise AssertionError("no syscw in /proc/<pid>/io")


def get(path: str, *, close: bool = False) -> bytes:
    connection = b"close" if close else b"keep-alive"
    return (f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: ".encode() + connection
            + b"\r\n\r\n")


def read_response(sock: socket.socket, pending: bytearray) -> tuple[bytes, bytes]:
    """One whole response (head, body) from the socket; what follows it stays in pending."""
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed inside a head: {bytes(pending)!r}"
        pending += chunk
    head, _, rest = bytes(pending).partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside a body"
        rest += chunk
    pending[:] = rest[length:]
    return head, rest[:length]


def connect(port: int, *, receive_buffer: int = 0) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(10)
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect((HOST, port))
    return sock


def test_an_answer_leaves_in_one_write(rig: Rig) -> None:
    rig.start_redis(aof=False)
    (api,) = rig.start_apis(1, access_log=False)  # a log line is a write too
    pending = bytearray()
    with connect(api.port) as sock:
        sock.sendall(get("/healthz"))
        read_response(sock, pending)
        before = write_calls(api.process.pid)
        for _ in range(REQUESTS):
            sock.sendall(get("/healthz"))
            head, body = read_response(sock, pending)
            assert head.startswith(b"HTTP/1.1 200 ") and body == b'{"status":"ok"}'
        writes = write_calls(api.process.pid) - before
    # two per answer without the coalescing; a few to spare for anything else the server does
    assert REQUESTS <= writes < REQUESTS * 1.2, writes


def test_held_writes_go_out_before_a_close_in_order_and_whole(rig: Rig) -> None:
    rig.start_redis(aof=False)
    (api,) = rig.start_apis(1)
    # a small receive buffer: the big body cannot leave in one write, the rest waits for it
    with connect(api.port, receive_buffer=4096) as sock:
        sock.sendall(get("/healthz") + get("/openapi.json") + get("/healthz", close=True))
        pending = bytearray()
        answers = [read_response(sock, pending) for _ in range(3)]
        assert sock.recv(65536) == b"" and not pending  # closed after the third, nothing more
    assert [head.split(b"\r\n")[0] for head, _ in answers] == [b"HTTP/1.1 200 OK"] * 3
    assert answers[0][1] == answers[2][1] == b'{"status":"ok"}'
    assert len(answers[1][1]) > 100_000 and answers[1][1].endswith(b"}")
