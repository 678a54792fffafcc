"""Shared by the Redis front-end tests (imported, not run): a real `keel server` on free ports of
127.0.0.1 with a scratch data directory, killed when the test ends, and raw-socket helpers.

Run with Debian's /usr/bin/python3 (its python3-redis package), not another python on PATH."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import redis


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class KeelServer:
    """`keel server --resp` in a temporary directory; stop() kills it (by PID) and cleans up."""

    def __init__(self, keel, extra_args=()):
        self.keel = keel
        self.work = tempfile.mkdtemp(prefix="keel-resp-")
        self.process = None
        self.port = None
        for _ in range(5):  # a free port may be taken between probing and binding: retry
            self.port = free_port()
            if self._start(extra_args):
                return
        self.stop()
        raise RuntimeError("keel server did not start; see " + self.log_path())

    def log_path(self):
        return os.path.join(self.work, "server.out")

    def _start(self, extra_args):
        log = open(self.log_path(), "w")
        self.process = subprocess.Popen(
            [self.keel, "server", "--listen", "127.0.0.1:0", "--data", os.path.join(self.work, "data"),
             "--cluster-file", os.path.join(self.work, "keel.cluster"),
             "--resp", "127.0.0.1:%d" % self.port] + list(extra_args),
            stdout=log, stderr=subprocess.STDOUT, cwd=self.work)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.process.poll() is not None:
                with open(self.log_path()) as f:
                    text = f.read()
                if "cannot listen" in text:
                    return False
                raise RuntimeError("keel server exited: " + text)
            with open(self.log_path()) as f:
                if "Redis clients on" in f.read():
                    break
            time.sleep(0.05)
        else:
            self.process.kill()
            raise RuntimeError("keel server did not report its Redis port in 15 s")
        # The cluster needs a moment for its first generation: wait until a write goes through.
        client = self.client()
        deadline = time.time() + 15
        while True:
            try:
                client.set("__ready__", "1")
                client.delete("__ready__")
                return True
            except redis.exceptions.ConnectionError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    def client(self, **kwargs):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=30, **kwargs)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        if os.environ.get("KEEL_KEEP_WORK") != "1":
            shutil.rmtree(self.work, ignore_errors=True)


class RawConnection:
    """A plain socket speaking RESP by hand, for what client libraries hide."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def command(self, *args):
        out = b"*%d\r\n" % len(args)
        for arg in args:
            arg = arg if isinstance(arg, bytes) else str(arg).encode()
            out += b"$%d\r\n%s\r\n" % (len(arg), arg)
        return out

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buffer += data

    def line(self):
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def reply(self):
        """One reply, RESP2 or RESP3, as Python values (errors as ('error', text))."""
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return ("error", rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b",":
            return ("double", rest.decode())
        if kind == b"#":
            return rest == b"t"
        if kind == b"_":
            return None
        if kind in (b"$", b"="):
            length = int(rest)
            if length < 0:
                return None
            while len(self.buffer) < length + 2:
                self._fill()
            data, self.buffer = self.buffer[:length], self.buffer[length + 2:]
            return data
        if kind in (b"*", b"~"):
            count = int(rest)
            if count < 0:
                return None
            items = [self.reply() for _ in range(count)]
            return items if kind == b"*" else ("set", items)
        if kind == b"%":
            return {"map": [(self.reply(), self.reply()) for _ in range(int(rest))]}
        raise AssertionError("unexpected reply line %r" % line)

    def closed_by_server(self):
        try:
            while True:
                self._fill()
        except (EOFError, ConnectionResetError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()
