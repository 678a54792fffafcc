#!/usr/bin/python3
"""Redis clients across recoveries of a 2-process cluster: A hosts a storage server and the Redis
front end, B the transaction roles (and the coordinator). Four clients INCR two counters while
B is killed with kill -9 and restarted, four times. Every INCR is counted before it is sent and
every value the server answers is kept. Then:
  - each counter is at least the highest value answered and at most the INCRs sent;
  - each value up to the counter was answered to some client, or stands for an INCR that
    answered an error: a commit whose outcome the cluster could not confirm must not be run
    again (an INCR applied twice leaves a value nobody was answered, with no error to show);
  - no client waited longer than its 15 s socket timeout.
Bounded: each phase runs at most 12 s of load. Usage: resp_recovery_test.py PATH_TO_KEEL
Run with Debian's /usr/bin/python3 (its python3-redis package)."""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp_lib import free_port  # noqa: E402

KEEL = os.path.abspath(sys.argv[1])
SEED = int(os.environ.get("RESP_RECOVERY_SEED", "2"))  # 2 failed before the fix; so did 3
KILLS = 4
COUNTERS = 2
CLIENTS = 4


class Cluster:
    def __init__(self, work):
        self.work = work
        self.ports = {"a": free_port(), "b": free_port()}
        self.resp_port = free_port()
        self.processes = {}
        config = 'coordinators = ["127.0.0.1:%d"]\n' % self.ports["b"]
        config += '[[process]]\naddress = "127.0.0.1:%d"\nroles = ["storage"]\n' % self.ports["a"]
        config += ('[[process]]\naddress = "127.0.0.1:%d"\nroles = ["sequencer", "proxy", "resolver", "tlog"]\n'
                   % self.ports["b"])
        with open(os.path.join(work, "cluster.toml"), "w") as f:
            f.write(config)

    def start(self, name):
        arguments = [KEEL, "server", "--config", os.path.join(self.work, "cluster.toml"),
                     "--listen", "127.0.0.1:%d" % self.ports[name], "--data", os.path.join(self.work, "data-" + name),
                     "--cluster-file", os.path.join(self.work, "keel.cluster"),
                     "--resp", "127.0.0.1:%d" % self.resp_port if name == "a" else "off"]
        log = open(os.path.join(self.work, name + ".log"), "a")
        self.processes[name] = subprocess.Popen(arguments, stdout=log, stderr=subprocess.STDOUT)

    def kill(self, name):
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self):
        for name in list(self.processes):
            self.kill(name)

    def client(self):
        # No retries by the library: an INCR it sent again would count twice on a correct server.
        return redis.Redis(host="127.0.0.1", port=self.resp_port, socket_timeout=15, socket_connect_timeout=3,
                           retry_on_timeout=False)

    def wait_ready(self, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                client = self.client()
                client.set("__ready__", "1")
                return
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ResponseError):
                time.sleep(0.2)
        raise SystemExit("FAIL: the cluster did not answer Redis clients within %d s (logs in %s)" % (seconds, self.work))


class Load:
    """INCRs of the counters by CLIENTS threads until stop()."""

    def __init__(self, cluster, seed):
        self.cluster = cluster
        self.seed = seed
        self.lock = threading.Lock()
        self.sent = [0] * COUNTERS
        self.answered = [[] for _ in range(COUNTERS)]
        self.errors = [0] * COUNTERS  # INCRs that answered an error or no reply: applied or not
        self.longest = 0.0
        self.stopping = threading.Event()
        self.threads = []

    def start(self):
        self.stopping.clear()
        self.threads = [threading.Thread(target=self.client_loop, args=(i,)) for i in range(CLIENTS)]
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)
        if any(thread.is_alive() for thread in self.threads):
            raise SystemExit("FAIL: a client thread did not stop")

    def client_loop(self, index):
        choose = random.Random(self.seed * 100 + index)
        client = self.cluster.client()
        for _ in range(200000):
            if self.stopping.is_set():
                return
            counter = choose.randrange(COUNTERS)
            with self.lock:
                self.sent[counter] += 1
            started = time.time()
            try:
                value = client.incr("ctr:%d" % counter)
                with self.lock:
                    self.answered[counter].append(value)
            except redis.exceptions.RedisError:
                with self.lock:
                    self.errors[counter] += 1
                time.sleep(0.05)
                client = self.cluster.client()
            with self.lock:
                self.longest = max(self.longest, time.time() - started)


def check(cluster, load):
    client = cluster.client()
    problems = []
    for counter in range(COUNTERS):
        value = int(client.get("ctr:%d" % counter) or 0)
        answered = load.answered[counter]
        highest = max(answered, default=0)
        if not highest <= value <= load.sent[counter]:
            problems.append("ctr:%d is %d: the highest value answered was %d, INCRs sent %d"
                            % (counter, value, highest, load.sent[counter]))
        if len(set(answered)) != len(answered):
            problems.append("ctr:%d: a value was answered twice" % counter)
        never_answered = value - len(set(v for v in answered if v <= value))
        if never_answered > load.errors[counter]:
            problems.append("ctr:%d is %d, but %d of its values were answered to no client while only %d INCRs "
                            "failed: an INCR was applied twice" % (counter, value, never_answered, load.errors[counter]))
        print("ctr:%d = %d: %d INCRs sent, %d answered, %d failed" % (
            counter, value, load.sent[counter], len(answered), load.errors[counter]), flush=True)
    if load.longest > 16:
        problems.append("a client waited %.1f s for one INCR" % load.longest)
    return problems


def main():
    work = tempfile.mkdtemp(prefix="keel-resp-recovery-")
    cluster = Cluster(work)
    choose = random.Random(SEED)
    problems = []
    try:
        cluster.start("b")
        cluster.start("a")
        cluster.wait_ready()
        load = Load(cluster, SEED)
        for kill in range(KILLS):
            load.start()
            time.sleep(choose.uniform(1.0, 2.5))
            cluster.kill("b")
            print("kill -9 of the transaction process (#%d)" % (kill + 1), flush=True)
            time.sleep(1.0)
            cluster.start("b")
            time.sleep(4.0)
            load.stop()
            cluster.wait_ready()
        problems = check(cluster, load)
    finally:
        cluster.stop()
    if problems:
        for problem in problems:
            print("FAIL: " + problem + " (seed %d; logs in %s)" % (SEED, work))
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
