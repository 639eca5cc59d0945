"""A tiny HTTP/1.1 client that sends a request exactly as given (no path normalisation).

``curl --path-as-is`` in Python: the fuzzers need ``/invoke/../x`` and ``%2e%2e`` to reach
the server untouched.  One keep-alive connection, reopened when the server closes it.
"""

from __future__ import annotations

import socket


class RawClient:
    """Send raw requests to 127.0.0.1:<port>; returns (status, body)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.sent = 0

    def _connect(self) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return self.sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def request(
        self, method: str, target: bytes, body: bytes = b"", headers: dict[str, bytes] | None = None
    ) -> tuple[int, bytes]:
        head = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1"]
        for name, value in (headers or {}).items():
            head.append(name.encode() + b": " + value)
        head.append(b"Content-Length: " + str(len(body)).encode())
        data = b"\r\n".join(head) + b"\r\n\r\n" + body
        for attempt in range(2):
            try:
                return self._exchange(data)
            except (OSError, ValueError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _exchange(self, data: bytes) -> tuple[int, bytes]:
        sock = self._connect()
        sock.sendall(data)
        self.sent += 1
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise ValueError("connection closed before a response")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        if close:
            self.close()
        return status, rest[:length]
