#!/usr/bin/python3
"""The Redis front end against real clients: Debian's python3-redis and redis-cli, talking to a
real `keel server --resp` (usage: resp_test.py PATH_TO_KEEL [unittest args]). Every loop is
bounded in count and time."""
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp_lib import KeelServer, RawConnection  # noqa: E402

KEEL = None
SERVER = None
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (a KeelDB string holds at most 99982 bytes)"


def setUpModule():
    global SERVER
    SERVER = KeelServer(KEEL)


def tearDownModule():
    if SERVER is not None:
        SERVER.stop()


def run_in_threads(target, count, timeout=120):
    """Runs target(number) for number in range(count) in as many threads, and joins them."""
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)


class RespTest(unittest.TestCase):
    def setUp(self):
        self.r = SERVER.client(decode_responses=True)
        self.r.flushall()

    def tearDown(self):
        self.r.close()

    def assertError(self, text, call, *args):
        with self.assertRaises(redis.exceptions.ResponseError) as caught:
            call(*args)
        # redis-py drops the "ERR " code from the messages it raises.
        self.assertEqual(str(caught.exception), text[4:] if text.startswith("ERR ") else text)


class Strings(RespTest):
    def test_set_get_and_options(self):
        r = self.r
        self.assertTrue(r.set("k", "v"))
        self.assertEqual(r.get("k"), "v")
        self.assertIsNone(r.get("missing"))
        self.assertIsNone(r.set("k", "w", nx=True))
        self.assertEqual(r.get("k"), "v")
        self.assertIsNone(r.set("other", "w", xx=True))
        self.assertTrue(r.set("k", "w", xx=True))
        self.assertEqual(r.set("k", "x", get=True), "w")
        self.assertTrue(r.set("k", "y", ex=100))
        self.assertTrue(95 <= r.ttl("k") <= 100)
        self.assertTrue(r.set("k", "z", keepttl=True))
        self.assertTrue(r.ttl("k") > 0)
        self.assertTrue(r.set("k", "z"))
        self.assertEqual(r.ttl("k"), -1)
        self.assertError("ERR syntax error", r.execute_command, "SET", "k", "v", "NX", "XX")
        self.assertError("ERR syntax error", r.execute_command, "SET", "k", "v", "EX", "10", "PX", "10")
        self.assertTrue(r.execute_command("SET", "k", "v", "EX", "10", "EX", "200"))  # as Redis: the last stands
        self.assertTrue(150 < r.ttl("k") <= 200)
        self.assertError("ERR invalid expire time in 'set' command", r.execute_command, "SET", "k", "v", "EX", "0")
        self.assertError("ERR value is not an integer or out of range", r.execute_command, "SET", "k", "v", "EX", "x")

    def test_variants(self):
        r = self.r
        self.assertTrue(r.setnx("a", "1"))
        self.assertFalse(r.setnx("a", "2"))
        self.assertTrue(r.setex("b", 50, "x"))
        self.assertTrue(r.psetex("c", 50000, "y"))
        self.assertTrue(40 <= r.ttl("c") <= 50)
        self.assertEqual(r.getset("a", "3"), "1")
        self.assertEqual(r.getdel("a"), "3")
        self.assertEqual(r.exists("a"), 0)
        self.assertEqual(r.getex("b", persist=True), "x")
        # As Redis 7: a missing key answers nil before the expiry's value is checked.
        self.assertIsNone(r.execute_command("GETEX", "no-such-key", "EX", "9223372036854775807"))
        self.assertError("ERR invalid expire time in 'getex' command",
                         r.execute_command, "GETEX", "b", "EX", "9223372036854775807")
        self.assertEqual(r.ttl("b"), -1)
        self.assertTrue(r.mset({"m1": "1", "m2": "2"}))
        self.assertEqual(r.mget("m1", "nothing", "m2"), ["1", None, "2"])
        self.assertFalse(r.msetnx({"m2": "x", "m3": "y"}))
        self.assertTrue(r.msetnx({"m3": "y", "m4": "z"}))
        self.assertEqual(r.append("s", "hello"), 5)
        self.assertEqual(r.append("s", " world"), 11)
        self.assertEqual(r.strlen("s"), 11)
        self.assertEqual(r.getrange("s", 0, 4), "hello")
        self.assertEqual(r.getrange("s", -5, -1), "world")
        self.assertEqual(r.setrange("s", 6, "WORLD"), 11)
        self.assertEqual(r.get("s"), "hello WORLD")
        self.assertEqual(r.setrange("pad", 3, "x"), 4)
        self.assertEqual(r.get("pad"), "\x00\x00\x00x")

    def test_counters(self):
        r = self.r
        self.assertEqual(r.incr("n"), 1)
        self.assertEqual(r.incrby("n", 10), 11)
        self.assertEqual(r.decr("n"), 10)
        self.assertEqual(r.decrby("n", 20), -10)
        self.assertEqual(r.incrbyfloat("f", 10.5), 10.5)
        self.assertEqual(r.incrbyfloat("f", 0.1), 10.6)
        self.assertEqual(r.get("f"), "10.6")
        r.set("big", "9223372036854775807")
        self.assertError("ERR increment or decrement would overflow", r.incr, "big")
        r.set("text", "abc")
        self.assertError("ERR value is not an integer or out of range", r.incr, "text")
        self.assertError("ERR value is not a valid float", r.incrbyfloat, "text", 1)
        r.set("spaced", " 1")
        self.assertError("ERR value is not an integer or out of range", r.incr, "spaced")

    def test_blind_overwrites(self):
        """SET, SETEX and MSET write without reading the old record: a hash's fields and an old
        deadline must still go."""
        r = self.r
        r.hset("h", mapping={"a": 1, "b": 2})
        self.assertTrue(r.set("h", "s"))
        self.assertEqual(r.type("h"), "string")
        r.delete("h")
        r.hset("h", "c", 3)
        self.assertEqual(r.hgetall("h"), {"c": "3"})
        r.hset("h2", "a", 1)
        self.assertTrue(r.mset({"h2": "x", "n": "y"}))
        r.delete("h2")
        r.hset("h2", "z", 1)
        self.assertEqual(r.hkeys("h2"), ["z"])
        r.set("t", "v", px=200)
        r.set("t", "w", ex=100)
        r.set("u", "v", px=200)
        r.set("u", "w")
        r.hset("hx", "f", 1)
        r.setex("hx", 100, "plain")
        time.sleep(0.8)  # past the old deadlines: their index entries must not expire the keys
        self.assertEqual(r.get("t"), "w")
        self.assertTrue(95 <= r.ttl("t") <= 100)
        self.assertEqual(r.get("u"), "w")
        self.assertEqual(r.ttl("u"), -1)
        self.assertEqual(r.get("hx"), "plain")

    def test_binary_values(self):
        raw = SERVER.client()
        value = bytes(range(256)) * 10
        raw.set(b"bin\x00key", value)
        self.assertEqual(raw.get(b"bin\x00key"), value)
        raw.close()

    def test_wrong_type(self):
        r = self.r
        r.hset("h", "f", "v")
        wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value"
        self.assertError(wrongtype, r.get, "h")
        self.assertError(wrongtype, r.incr, "h")
        self.assertError(wrongtype, r.append, "h", "x")
        r.set("s", "v")
        self.assertError(wrongtype, r.hget, "s", "f")
        self.assertTrue(r.set("h", "now a string"))
        self.assertEqual(r.type("h"), "string")
        self.assertEqual(r.hgetall("h2"), {})

    def test_format_one_strings_up_to_the_old_limit(self):
        """A string written before the stamp moved into its record (format 1, 8 header bytes fewer)
        may be longer than a string can be now: commands that do not lengthen it still work."""
        length = 99990  # the value limit less format 1's 10 header bytes
        record = "\\x01\\x01" + "\\x00" * 8 + "a" * length
        subprocess.run([KEEL, "cli", "-C", os.path.join(SERVER.work, "keel.cluster"), "--exec",
                        "writemode on; set \\x02resp/klegacy " + record], check=True, capture_output=True,
                       timeout=30)
        r = self.r
        other = SERVER.client(decode_responses=True)
        self.assertEqual(r.strlen("legacy"), length)
        self.assertTrue(r.expire("legacy", 100))
        self.assertTrue(r.persist("legacy"))
        self.assertEqual(r.getex("legacy", ex=100)[:3], "aaa")
        self.assertEqual(r.setbit("legacy", 8, 1), 0)
        self.assertEqual(r.setrange("legacy", 0, "b"), length)
        self.assertEqual(r.bitfield("legacy").set("u8", 16, 99).execute(), [ord("a")])
        self.assertTrue(r.rename("legacy", "old"))
        raw = SERVER.client()
        self.assertEqual(raw.getrange("old", 0, 3), b"b\xe1ca")
        raw.close()
        self.assertTrue(98 <= r.ttl("old") <= 100)
        self.assertError(STRING_TOO_LONG, r.append, "old", "x")
        self.assertError(STRING_TOO_LONG, r.setbit, "old",
                         8 * length, 1)
        # Its stamp lives beside it: WATCH still sees a change, and the absence of one.
        self.assertFalse(Transactions.watched_exec(self, r, "old", lambda: other.setrange("old", 1, "x")))
        self.assertTrue(Transactions.watched_exec(self, r, "old", lambda: other.get("old")))
        self.assertEqual(r.strlen("old"), length)
        other.close()

    def test_record_in_no_format_of_ours(self):
        """A record another application wrote under the prefix: listings show its key, commands
        that read it fail naming it, DEL removes it and SET replaces it; other keys are unaffected."""
        r = self.r
        r.set("fine", "1")
        for key in ("bad", "worse"):
            subprocess.run([KEEL, "cli", "-C", os.path.join(SERVER.work, "keel.cluster"), "--exec",
                            "writemode on; set \\x02resp/k" + key + " garbage"], check=True, capture_output=True,
                           timeout=30)
        error = ("the record of key 'bad' is not in the Redis front end's format (written through the native "
                 "API?): DEL removes it, SET replaces it (resp_record_invalid, 2147)")
        for call, args in ((r.get, ("bad",)), (r.type, ("bad",)), (r.ttl, ("bad",)), (r.hget, ("bad", "f")),
                           (r.incr, ("bad",)), (r.expire, ("bad", 10)), (r.rename, ("bad", "x"))):
            with self.assertRaises(redis.exceptions.ResponseError) as caught:
                call(*args)
            self.assertEqual(str(caught.exception), error, call.__name__)
        self.assertEqual(sorted(r.keys("*")), ["bad", "fine", "worse"])
        self.assertEqual(r.dbsize(), 3)
        self.assertEqual(sorted(r.scan_iter()), ["bad", "fine", "worse"])
        self.assertEqual(r.exists("bad", "fine"), 2)
        with r.pipeline() as watched:  # WATCH reads it without failing; a change to it fires
            watched.watch("bad")
            watched.multi()
            watched.get("fine")
            self.assertEqual(watched.execute(), ["1"])
        self.assertEqual(r.get("fine"), "1")
        self.assertEqual(r.delete("bad"), 1)
        self.assertTrue(r.set("worse", "now fine"))
        self.assertEqual(r.get("worse"), "now fine")
        self.assertEqual(sorted(r.keys("*")), ["fine", "worse"])
        subprocess.run([KEEL, "cli", "-C", os.path.join(SERVER.work, "keel.cluster"), "--exec",
                        "writemode on; set \\x02resp/k garbage"], check=True, capture_output=True, timeout=30)
        with self.assertRaises(redis.exceptions.ResponseError) as caught:  # the empty key is named too
            r.get("")
        self.assertEqual(str(caught.exception), error.replace("'bad'", "''"))
        self.assertEqual(r.delete(""), 1)


class Bits(RespTest):
    """SETBIT, GETBIT, BITCOUNT, BITPOS and LCS."""

    offset_error = "ERR bit offset is not an integer or out of range"
    wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value"

    def test_setbit_getbit(self):
        r = self.r
        raw = SERVER.client()
        self.assertEqual(r.setbit("b", 1, 1), 0)
        self.assertEqual(raw.get("b"), b"\x40")
        self.assertEqual(r.setbit("b", 1, 0), 1)
        self.assertEqual(r.setbit("b", 17, 1), 0)  # grows with zero bytes
        self.assertEqual(raw.get("b"), b"\x00\x00\x40")
        self.assertEqual(r.getbit("b", 17), 1)
        self.assertEqual(r.getbit("b", 16), 0)
        self.assertEqual(r.getbit("b", 100000), 0)  # past the end
        self.assertEqual(r.getbit("missing", 5), 0)
        r.set("s", "1")  # "1" is 0x31: 00110001
        self.assertEqual([r.getbit("s", i) for i in range(8)], [0, 0, 1, 1, 0, 0, 0, 1])
        self.assertEqual(r.setbit("s", 6, 1), 0)
        self.assertEqual(r.get("s"), "3")
        r.expire("s", 100)
        r.setbit("s", 0, 0)  # keeps the deadline
        self.assertTrue(95 <= r.ttl("s") <= 100)
        r.set("gone", "x", px=100)
        time.sleep(0.3)
        self.assertEqual(r.setbit("gone", 0, 1), 0)  # an expired key is missing: a new key
        self.assertEqual(r.ttl("gone"), -1)
        self.assertEqual(raw.get("gone"), b"\x80")
        # The longest string: 99,982 bytes; beyond it a clear error, and nothing written.
        self.assertEqual(r.setbit("big", 99982 * 8 - 1, 1), 0)
        self.assertEqual(r.strlen("big"), 99982)
        self.assertError(STRING_TOO_LONG,
                         r.setbit, "big2", 99982 * 8, 1)
        self.assertEqual(r.exists("big2"), 0)
        raw.close()

    def test_setbit_getbit_errors(self):
        r = self.r
        for offset in ["x", "-1", "1.5", str(4 * 1024 * 1024 * 1024), "99999999999999999999"]:
            self.assertError(self.offset_error, r.execute_command, "SETBIT", "k", offset, "1")
            self.assertError(self.offset_error, r.execute_command, "GETBIT", "k", offset)
        # A write's offset stays below proto-max-bulk-len (100,000 bytes here); a read's may go
        # to Redis's default (512 MB) and answers 0 past the end, as Redis does.
        self.assertError(self.offset_error, r.execute_command, "SETBIT", "k", str(100000 * 8), "1")
        self.assertEqual(r.getbit("k", 100000 * 8), 0)
        self.assertEqual(r.getbit("k", 4 * 1024 * 1024 * 1024 - 1), 0)
        self.assertEqual(r.execute_command("BITFIELD_RO", "k", "GET", "u8", str(9999999)), [0])
        self.assertError(self.offset_error, r.execute_command, "BITFIELD", "k", "SET", "u8", str(100000 * 8), "1")
        for bit in ["2", "-1", "x", "10"]:
            self.assertError("ERR bit is not an integer or out of range", r.execute_command, "SETBIT", "k", "0", bit)
        self.assertEqual(r.exists("k"), 0)
        self.assertError("ERR wrong number of arguments for 'setbit' command", r.execute_command, "SETBIT", "k", "0")
        r.hset("h", "f", "v")
        self.assertError(self.wrongtype, r.setbit, "h", 0, 1)
        self.assertError(self.wrongtype, r.getbit, "h", 0)
        self.assertError(self.wrongtype, r.bitcount, "h")
        self.assertError(self.wrongtype, r.bitpos, "h", 1)
        self.assertEqual(r.type("h"), "hash")
        # A write's offset limit follows proto-max-bulk-len, as in Redis.
        r.config_set("proto-max-bulk-len", "1024")
        try:
            self.assertError(self.offset_error, r.setbit, "k", 1024 * 8, 1)
            self.assertEqual(r.setbit("k", 1024 * 8 - 1, 1), 0)
            self.assertEqual(r.getbit("k", 1024 * 8 - 1), 1)
            r.delete("k")
        finally:
            r.config_set("proto-max-bulk-len", "100000")

    def test_bitcount(self):
        r = self.r
        r.set("s", "foobar")
        self.assertEqual(r.bitcount("s"), 26)
        self.assertEqual(r.bitcount("s", 0, 0), 4)
        self.assertEqual(r.bitcount("s", 1, 1), 6)
        self.assertEqual(r.bitcount("s", 1, -2), 18)  # "ooba"
        self.assertEqual(r.bitcount("s", -2, 1), 0)
        self.assertEqual(r.bitcount("s", -6, -7), 0)
        self.assertEqual(r.bitcount("s", 0, 1000), 26)
        self.assertEqual(r.bitcount("s", 5, 30, "BIT"), 17)
        self.assertEqual(r.bitcount("s", 1, 1, "byte"), 6)
        self.assertEqual(r.bitcount("s", 0, 4294967296), 26)
        self.assertEqual(r.bitcount("missing"), 0)
        self.assertEqual(r.bitcount("missing", 0, 10, "bit"), 0)
        self.assertError("ERR syntax error", r.execute_command, "BITCOUNT", "s", "0")
        self.assertError("ERR syntax error", r.execute_command, "BITCOUNT", "s", "0", "1", "hello")
        self.assertError("ERR syntax error", r.execute_command, "BITCOUNT", "s", "0", "1", "bit", "x")
        self.assertError("ERR value is not an integer or out of range", r.execute_command, "BITCOUNT", "s", "a", "1")
        # Arguments are checked before the key is read (Redis 7.2), so a missing key errs too.
        self.assertError("ERR value is not an integer or out of range",
                         r.execute_command, "BITCOUNT", "missing", "0", "b")

    def test_bitpos(self):
        r = self.r
        raw = SERVER.client()
        raw.set("s", b"\xff\xf0\x00")
        self.assertEqual(r.bitpos("s", 0), 12)
        self.assertEqual(r.bitpos("s", 1), 0)
        self.assertEqual(r.bitpos("s", 1, 1), 8)
        self.assertEqual(r.bitpos("s", 1, 2), -1)
        self.assertEqual(r.bitpos("s", 0, 0, -1, "bit"), 12)
        self.assertEqual(r.bitpos("s", 1, 7, 15, "BIT"), 7)
        raw.set("ones", b"\xff\xff\xff")
        self.assertEqual(r.bitpos("ones", 0), 24)  # without an end the string continues with zeros
        self.assertEqual(r.bitpos("ones", 0, 1), 24)
        self.assertEqual(r.bitpos("ones", 0, 0, -1), -1)  # with an end: none in the range
        self.assertEqual(r.bitpos("ones", 0, 0, -1, "bit"), -1)
        self.assertEqual(r.bitpos("missing", 0), 0)
        self.assertEqual(r.bitpos("missing", 1), -1)
        r.set("empty", "")
        self.assertEqual(r.bitpos("empty", 0), -1)
        self.assertError("ERR The bit argument must be 1 or 0.", r.execute_command, "BITPOS", "s", "2")
        self.assertError("ERR value is not an integer or out of range", r.execute_command, "BITPOS", "s", "x")
        self.assertError("ERR syntax error", r.execute_command, "BITPOS", "s", "1", "0", "1", "word")
        self.assertError("ERR syntax error", r.execute_command, "BITPOS", "s", "1", "0", "1", "bit", "x")
        self.assertError("ERR value is not an integer or out of range", r.execute_command, "BITPOS", "s", "1", "z")
        raw.close()

    def test_bitop(self):
        r = self.r
        raw = SERVER.client()
        raw.mset({"x": b"\xff\x0f", "y": b"\x0f"})
        self.assertEqual(r.bitop("AND", "d", "x", "y"), 2)
        self.assertEqual(raw.get("d"), b"\x0f\x00")  # the shorter key is padded with zeros
        self.assertEqual(r.bitop("or", "d", "x", "y", "missing"), 2)
        self.assertEqual(raw.get("d"), b"\xff\x0f")
        self.assertEqual(r.bitop("XOR", "d", "x", "x"), 2)
        self.assertEqual(raw.get("d"), b"\x00\x00")
        self.assertEqual(r.bitop("NOT", "x", "x"), 2)  # destination and source the same key
        self.assertEqual(raw.get("x"), b"\x00\xf0")
        r.set("d", "v", ex=100)
        self.assertEqual(r.bitop("AND", "d", "missing", "missing2"), 0)  # empty: destination deleted
        self.assertEqual(r.exists("d"), 0)
        self.assertError("ERR syntax error", r.execute_command, "BITOP", "NAND", "d", "x")
        self.assertError("ERR BITOP NOT must be called with a single source key.", r.bitop, "NOT", "d", "x", "y")
        r.hset("h", "f", "v")
        self.assertError(self.wrongtype, r.bitop, "OR", "d", "x", "h")
        raw.close()

    def test_bitfield(self):
        r = self.r
        self.assertEqual(r.execute_command("BITFIELD", "f", "SET", "u8", "#0", "65", "SET", "u8", "#1", "66",
                                           "GET", "u8", "0", "INCRBY", "i8", "8", "-2"), [0, 0, 65, 64])
        self.assertEqual(r.get("f"), "A@")
        self.assertEqual(r.execute_command("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "200",
                                           "OVERFLOW", "SAT", "INCRBY", "u8", "0", "200", "GET", "u4", "0"),
                         [None, 255, 15])
        self.assertEqual(r.execute_command("BITFIELD_RO", "f", "GET", "i8", "0", "GET", "u16", "100"), [-1, 0])
        self.assertEqual(r.execute_command("BITFIELD", "f"), [])
        self.assertEqual(r.execute_command("BITFIELD", "new", "GET", "u8", "0"), [0])
        self.assertEqual(r.exists("new"), 0)  # GET writes nothing
        self.assertError("ERR BITFIELD_RO only supports the GET subcommand",
                         r.execute_command, "BITFIELD_RO", "f", "SET", "u8", "0", "1")
        self.assertError("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
                         r.execute_command, "BITFIELD", "f", "GET", "u64", "0")
        self.assertError("ERR bit offset is not an integer or out of range",
                         r.execute_command, "BITFIELD", "f", "GET", "u8", "-1")
        self.assertError("ERR Invalid OVERFLOW type specified", r.execute_command, "BITFIELD", "f", "OVERFLOW", "x")
        self.assertError("ERR syntax error", r.execute_command, "BITFIELD", "f", "GET", "u8")
        self.assertError(STRING_TOO_LONG,
                         r.execute_command, "BITFIELD", "f", "SET", "u8", str(99999 * 8), "1")
        r.hset("h", "f", "v")
        self.assertError(self.wrongtype, r.execute_command, "BITFIELD", "h", "GET", "u8", "0")

    def test_lcs(self):
        r = self.r
        r.mset({"a": "ohmytext", "b": "mynewtext"})
        self.assertEqual(r.lcs("a", "b"), "mytext")
        self.assertEqual(r.lcs("a", "b", len=True), 6)
        self.assertEqual(r.execute_command("LCS", "a", "b", "IDX"),
                         ["matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], "len", 6])
        self.assertEqual(r.execute_command("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
                         ["matches", [[[4, 7], [5, 8], 4]], "len", 6])
        self.assertEqual(r.lcs("a", "missing"), "")
        self.assertEqual(r.lcs("missing", "missing2", len=True), 0)
        self.assertError("ERR If you want both the length and indexes, please just use IDX.",
                         r.execute_command, "LCS", "a", "b", "LEN", "IDX")
        self.assertError("ERR syntax error", r.execute_command, "LCS", "a", "b", "FOO")
        self.assertError("ERR syntax error", r.execute_command, "LCS", "a", "b", "MINMATCHLEN")
        self.assertError("ERR value is not an integer or out of range",
                         r.execute_command, "LCS", "a", "b", "MINMATCHLEN", "x")
        r.hset("h", "f", "v")
        self.assertError("ERR The specified keys must contain string values", r.lcs, "a", "h")
        # The table LCS builds is bounded: two strings of 5,000 bytes need 25 M cells.
        r.mset({"long1": "x" * 5000, "long2": "y" * 5000})
        with self.assertRaises(redis.exceptions.ResponseError) as caught:
            r.lcs("long1", "long2")
        self.assertTrue(str(caught.exception).startswith("Insufficient memory, transient memory for LCS exceeds"))
        r.mset({"mid1": "ab" * 1000, "mid2": "ba" * 1000})
        self.assertEqual(r.lcs("mid1", "mid2", len=True), 1999)

    def test_resp3_lcs_idx_is_a_map(self):
        raw = RawConnection(SERVER.port)
        raw.send(raw.command("HELLO", "3") + raw.command("SET", "x", "abc") + raw.command("SET", "y", "abd") +
                 raw.command("LCS", "x", "y", "IDX"))
        raw.reply()
        self.assertEqual(raw.reply(), "OK")
        self.assertEqual(raw.reply(), "OK")
        self.assertEqual(raw.reply(), {"map": [(b"matches", [[[0, 1], [0, 1]]]), (b"len", 2)]})
        raw.close()

    def test_in_multi_and_command_info(self):
        r = self.r
        pipe = r.pipeline(transaction=True)
        pipe.setbit("m", 7, 1).getbit("m", 7).bitcount("m").bitpos("m", 1).get("m")
        self.assertEqual(pipe.execute(), [0, 1, 1, 7, "\x01"])
        raw = RawConnection(SERVER.port)
        raw.send(raw.command("COMMAND", "INFO", "setbit", "getbit", "bitcount", "bitpos", "lcs") +
                 raw.command("COMMAND", "DOCS", "setbit"))
        info = raw.reply()
        self.assertEqual([entry[:2] for entry in info], [[b"setbit", 4], [b"getbit", 3], [b"bitcount", -2],
                                                         [b"bitpos", -3], [b"lcs", -3]])
        self.assertEqual(info[0][2], ["write"])
        self.assertEqual(info[4][2:6], [["readonly"], 1, 2, 1])  # LCS reads two keys
        self.assertEqual(raw.reply()[0], b"setbit")
        raw.close()

    def test_setbit_fires_watch(self):
        r = self.r
        other = SERVER.client(decode_responses=True)
        r.set("w", "\x00")
        watched = Transactions.watched_exec
        self.assertFalse(watched(self, r, "w", lambda: other.setbit("w", 3, 1)))
        self.assertFalse(watched(self, r, "fresh", lambda: other.setbit("fresh", 0, 0)))  # creates the key
        self.assertFalse(watched(self, r, "w", lambda: other.setbit("w", 100, 0)))  # only grows it
        # A SETBIT that changes nothing writes nothing, as in Redis: the WATCH holds.
        self.assertTrue(watched(self, r, "w", lambda: other.setbit("w", 3, 1)))
        self.assertTrue(watched(self, r, "w", lambda: other.getbit("w", 3)))
        other.close()


class Keys(RespTest):
    def test_key_commands(self):
        r = self.r
        r.mset({"a": "1", "b": "2", "c": "3"})
        self.assertEqual(r.exists("a", "b", "nope", "a"), 3)
        self.assertEqual(r.delete("a", "nope", "a"), 1)
        self.assertEqual(r.unlink("b"), 1)
        self.assertEqual(r.type("c"), "string")
        self.assertEqual(r.type("nope"), "none")
        self.assertTrue(r.rename("c", "d"))
        self.assertIsNone(r.get("c"))
        self.assertError("ERR no such key", r.rename, "c", "e")
        r.set("e", "5")
        self.assertFalse(r.renamenx("d", "e"))
        self.assertTrue(r.copy("d", "f"))
        self.assertFalse(r.copy("d", "f"))
        self.assertTrue(r.copy("e", "f", replace=True))
        self.assertEqual(r.get("f"), "5")
        r.hset("h", mapping={"x": "1", "y": "2"})
        self.assertTrue(r.rename("h", "h2"))
        self.assertEqual(r.hgetall("h2"), {"x": "1", "y": "2"})
        self.assertEqual(r.hlen("h"), 0)
        self.assertEqual(sorted(r.keys("*")), ["d", "e", "f", "h2"])
        self.assertEqual(r.keys("h*"), ["h2"])
        self.assertEqual(r.dbsize(), 4)
        self.assertIn(r.randomkey(), ["d", "e", "f", "h2"])
        self.assertTrue(r.flushdb())
        self.assertEqual(r.dbsize(), 0)
        self.assertIsNone(r.randomkey())
        seconds, micros = r.time()
        self.assertLess(abs(seconds - time.time()), 5)
        self.assertTrue(0 <= micros < 1000000)
        # Microseconds, not milliseconds times 1000.
        self.assertTrue(any(r.time()[1] % 1000 != 0 for _ in range(20)))

    def test_scan_over_thousands_of_keys(self):
        r = self.r
        expected = set()
        pipe = r.pipeline(transaction=False)
        for i in range(3000):
            pipe.set("key:%05d" % i, i)
            expected.add("key:%05d" % i)
        for i in range(300):
            pipe.hset("hash:%d" % i, "f", i)
        pipe.execute()
        self.assertEqual(set(r.scan_iter(match="key:*", count=100)), expected)
        self.assertEqual(len(list(r.scan_iter(count=1000))), 3300)
        self.assertEqual(len(set(r.scan_iter(_type="hash", count=500))), 300)
        self.assertEqual(set(r.scan_iter(match="key:0001*")), {"key:%05d" % i for i in range(10, 20)})
        cursor, page = r.scan(0, count=10)
        self.assertNotEqual(cursor, 0)
        self.assertEqual(len(page), 10)
        self.assertEqual(r.dbsize(), 3300)
        self.assertError("ERR invalid cursor", r.execute_command, "SCAN", "abc")

    def test_scan_cursors_fit_in_63_bits(self):
        """redis-cli keeps SCAN cursors in 64-bit integers: long keys must still scan."""
        r = self.r
        prefix = "a-rather-long-key-name-for-scan-cursors:" + "x" * 60 + ":"
        expected = {prefix + "%05d" % i for i in range(4000)}
        pipe = r.pipeline(transaction=False)
        for key in expected:
            pipe.set(key, 1)
        for i in range(500):
            pipe.set("other:" + "y" * 100 + ":%d" % i, 1)
        pipe.execute()
        cursor, seen = 0, []
        for _ in range(10000):  # bounded
            cursor, page = r.scan(cursor, match=prefix + "*", count=50)
            self.assertLess(int(cursor), 2 ** 63)
            seen += page
            if cursor == 0:
                break
        self.assertEqual(len(seen), len(expected))
        self.assertEqual(set(seen), expected)
        result = subprocess.run(["redis-cli", "-p", str(SERVER.port), "--scan", "--pattern", prefix + "0*"],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sorted(result.stdout.split()), sorted(k for k in expected if k.startswith(prefix + "0")))
        result = subprocess.run(["redis-cli", "-p", str(SERVER.port), "--scan"], capture_output=True, text=True,
                                timeout=120)
        self.assertEqual(len(result.stdout.split()), 4500)
        # HSCAN over long fields.
        pipe = r.pipeline(transaction=False)
        fields = {"field-" + "f" * 50 + "-%d" % i for i in range(300)}
        for field in fields:
            pipe.hset("longfields", field, 1)
        pipe.execute()
        self.assertEqual({f for f, _ in r.hscan_iter("longfields", count=7)}, fields)
        self.assertError("ERR invalid cursor", r.execute_command, "SCAN", str(2 ** 62 + 10 ** 15))

    def test_expiry(self):
        r = self.r
        r.set("k", "v")
        self.assertTrue(r.pexpire("k", 300))
        self.assertTrue(0 < r.pttl("k") <= 300)
        self.assertEqual(r.ttl("missing"), -2)
        time.sleep(0.5)
        self.assertIsNone(r.get("k"))
        self.assertEqual(r.exists("k"), 0)
        self.assertEqual(r.ttl("k"), -2)
        self.assertEqual(r.keys("*"), [])
        r.set("k", "v")
        self.assertEqual(r.ttl("k"), -1)
        self.assertTrue(r.expire("k", 100, nx=True))
        self.assertFalse(r.expire("k", 200, nx=True))
        self.assertTrue(r.expire("k", 200, gt=True))
        self.assertFalse(r.expire("k", 100, gt=True))
        self.assertTrue(r.expire("k", 50, lt=True))
        self.assertTrue(r.expire("k", 60, xx=True))
        at = int(time.time()) + 1000
        self.assertTrue(r.expireat("k", at))
        self.assertEqual(r.expiretime("k"), at)
        self.assertEqual(r.pexpiretime("k"), at * 1000)
        self.assertTrue(r.persist("k"))
        self.assertFalse(r.persist("k"))
        self.assertTrue(r.expire("k", -1))  # a deadline in the past deletes the key
        self.assertEqual(r.exists("k"), 0)
        r.set("ttl-a", "v", ex=100)
        r.set("ttl-b", "v", ex=300)
        r.set("ttl-none", "v")
        keyspace = r.info("keyspace")["db0"]
        self.assertEqual((keyspace["keys"], keyspace["expires"]), (3, 2))
        self.assertTrue(190_000 < keyspace["avg_ttl"] <= 200_000, keyspace)  # ms, over the two
        r.delete("ttl-a", "ttl-b", "ttl-none")
        self.assertError("ERR NX and XX, GT or LT options at the same time are not compatible",
                         r.execute_command, "EXPIRE", "k", "10", "NX", "XX")
        # A hash that expires is gone as a whole, and a new one starts empty.
        r.hset("h", mapping={"a": "1", "b": "2"})
        r.pexpire("h", 100)
        time.sleep(0.3)
        self.assertEqual(r.hgetall("h"), {})
        self.assertEqual(r.hset("h", "c", "3"), 1)
        self.assertEqual(r.hgetall("h"), {"c": "3"})

    def test_sweeper_removes_expired_keys(self):
        r = self.r
        before = r.info("stats")["expired_keys"]
        pipe = r.pipeline(transaction=False)
        for i in range(200):
            pipe.set("gone:%d" % i, "x", px=50)
        pipe.execute()
        deadline = time.time() + 20
        while r.info("stats")["expired_keys"] < before + 200:
            self.assertLess(time.time(), deadline, "the sweeper did not remove 200 expired keys in 20 s")
            time.sleep(0.2)


class Hashes(RespTest):
    def test_hash_commands(self):
        r = self.r
        self.assertEqual(r.hset("h", mapping={"a": "1", "b": "2"}), 2)
        self.assertEqual(r.hset("h", mapping={"b": "3", "c": "4"}), 1)
        self.assertEqual(r.hget("h", "b"), "3")
        self.assertIsNone(r.hget("h", "zz"))
        self.assertEqual(r.hmget("h", "a", "zz", "c"), ["1", None, "4"])
        self.assertEqual(r.hgetall("h"), {"a": "1", "b": "3", "c": "4"})
        self.assertEqual(r.hlen("h"), 3)
        self.assertEqual(r.hkeys("h"), ["a", "b", "c"])
        self.assertEqual(r.hvals("h"), ["1", "3", "4"])
        self.assertTrue(r.hexists("h", "a"))
        self.assertFalse(r.hexists("h", "zz"))
        self.assertEqual(r.hstrlen("h", "a"), 1)
        self.assertFalse(r.hsetnx("h", "a", "9"))
        self.assertTrue(r.hsetnx("h", "d", "9"))
        self.assertEqual(r.hincrby("h", "a", 5), 6)
        self.assertEqual(r.hincrbyfloat("h", "x", 1.5), 1.5)
        self.assertEqual(r.hlen("h"), 5)
        self.assertError("ERR hash value is not an integer", r.hincrby, "h", "x", 1)
        self.assertEqual(r.hdel("h", "a", "b", "zz"), 2)
        self.assertIn(r.hrandfield("h"), ["c", "d", "x"])
        self.assertEqual(sorted(r.hrandfield("h", 10)), ["c", "d", "x"])
        self.assertEqual(len(r.hrandfield("h", -7)), 7)
        self.assertEqual(sorted(r.hrandfield("h", 2 ** 62)), ["c", "d", "x"])  # the whole hash, as Redis
        self.assertEqual(len(r.hrandfield("h", -1000000)), 1000000)
        with self.assertRaisesRegex(redis.exceptions.ResponseError, "out of range.*at most 1000000 fields"):
            r.hrandfield("h", -1000001)  # not truncated
        r.config_set("proto-max-bulk-len", "200000")
        try:  # a field's value holds up to the value limit, more than a string (and the error says so)
            self.assertEqual(r.hset("h", "big", "v" * 100000), 1)
            self.assertError("ERR string exceeds maximum allowed size (a KeelDB hash field's value holds at most "
                             "100000 bytes)", r.hset, "h", "big", "v" * 100001)
        finally:
            r.config_set("proto-max-bulk-len", "100000")
        self.assertEqual(r.hdel("h", "c", "d", "x", "big"), 4)
        self.assertEqual(r.exists("h"), 0)
        self.assertEqual(r.type("h"), "none")
        self.assertTrue(r.hmset("m", {"f": "v"}))
        self.assertError("ERR wrong number of arguments for 'hset' command", r.execute_command, "HSET", "h", "f")

    def test_large_hash_and_hscan(self):
        r = self.r
        fields = {"field:%04d" % i: str(i) for i in range(2000)}
        self.assertEqual(r.hset("big", mapping=fields), 2000)
        self.assertEqual(r.hlen("big"), 2000)
        self.assertEqual(dict(r.hscan_iter("big", count=100)), fields)
        self.assertEqual(len(dict(r.hscan_iter("big", match="field:19*"))), 100)
        self.assertEqual(r.hgetall("big"), fields)

    def test_large_values_read_back_whole_once_durable(self):
        """Range reads of rows that take more than a megabyte, after they left the storage
        servers' 5 s window for the engine: every field and key comes back, and RENAME and COPY
        move all of them (an engine answer cut short by bytes once ended the range there)."""
        r = self.r
        fields = {"f:%02d" % i: ("%02d" % i) * 45000 for i in range(30)}
        self.assertEqual(r.hset("wide", mapping=fields), 30)
        r.mset({"wide-key:%02d" % i: "v" * 90000 for i in range(30)})
        time.sleep(7)
        self.assertEqual(r.hgetall("wide"), fields)
        self.assertEqual(len(r.keys("wide-key:*")), 30)
        self.assertEqual(len(list(r.scan_iter(match="wide-key:*", count=1000))), 30)
        self.assertTrue(r.rename("wide", "wide2"))
        self.assertTrue(r.copy("wide2", "wide3"))
        time.sleep(7)
        self.assertEqual(r.hgetall("wide2"), fields)
        self.assertEqual(r.hgetall("wide3"), fields)
        r.delete("wide2", "wide3", *["wide-key:%02d" % i for i in range(30)])


    def test_fields_too_long_to_store_read_as_absent(self):
        r = self.r
        r.hset("hl", "a", "1")
        long_field = "f" * 9995  # with the key and the prefix, past KeelDB's 10,000-byte keys
        self.assertIsNone(r.hget("hl", long_field))
        self.assertEqual(r.hexists("hl", long_field), 0)
        self.assertEqual(r.hmget("hl", "a", long_field), ["1", None])
        self.assertEqual(r.hstrlen("hl", long_field), 0)
        self.assertEqual(r.hdel("hl", long_field), 0)
        self.assertError("ERR hash field too large: with this key, a KeelDB hash field is at most 9987 bytes "
                         "(a key, its field and the front end's prefix take at most 10000 bytes)",
                         r.hincrby, "hl", long_field, 1)
        # In MULTI the error is that command's alone; the others apply, as in Redis.
        pipe = r.pipeline(transaction=True)
        pipe.incr("hl:c")
        pipe.hset("hl", long_field, "v")
        pipe.hget("hl", long_field)
        pipe.incr("hl:c")
        replies = pipe.execute(raise_on_error=False)
        self.assertEqual(replies[0], 1)
        self.assertIsInstance(replies[1], redis.exceptions.ResponseError)
        self.assertIsNone(replies[2])
        self.assertEqual(replies[3], 2)
        self.assertEqual(r.hgetall("hl"), {"a": "1"})


class Connection(RespTest):
    def test_connection_commands(self):
        r = self.r
        self.assertTrue(r.ping())
        self.assertEqual(r.echo("hi"), "hi")
        self.assertTrue(r.client_setname("tester"))
        self.assertEqual(r.client_getname(), "tester")
        self.assertIsInstance(r.client_id(), int)
        self.assertTrue(any(c["name"] == "tester" for c in r.client_list()))
        self.assertTrue(r.execute_command("SELECT", "0"))
        self.assertError("ERR DB index is out of range", r.execute_command, "SELECT", "1")
        info = r.info()
        self.assertEqual(info["redis_version"], "7.2.0")
        self.assertIn("connected_clients", info)
        self.assertEqual(r.config_get("save"), {"save": ""})
        self.assertIn("appendonly", r.config_get("append*"))
        self.assertTrue(r.config_set("maxmemory", "0"))
        with self.assertRaises(redis.exceptions.ResponseError) as caught:  # a limit that would not be kept
            r.config_set("maxmemory", "100mb")
        self.assertIn("KeelDB does not evict keys", str(caught.exception))
        self.assertEqual(r.config_get("maxmemory"), {"maxmemory": "0"})
        with self.assertRaises(redis.exceptions.ResponseError):
            r.config_set("timeout", "-1")
        idle = RawConnection(SERVER.port)  # waiting for input already when the timeout is set
        idle.send(b"PING\r\n")
        self.assertEqual(idle.reply(), "PONG")
        time.sleep(1.2)
        self.assertTrue(any(int(c["idle"]) >= 1 for c in r.client_list()))  # CLIENT LIST shows idle time
        self.assertTrue(r.config_set("timeout", "1"))  # an idle client is closed after it
        try:
            time.sleep(2.5)
            self.assertTrue(idle.closed_by_server())
            idle.close()
        finally:
            self.assertTrue(r.config_set("timeout", "0"))
        self.assertGreater(r.command_count(), 50)
        commands = r.command()  # redis-py parses every entry of COMMAND
        self.assertEqual(commands["get"]["arity"], 2)
        self.assertIn("write", commands["set"]["flags"])
        self.assertEqual(r.command_getkeys("MSET", "a", "1", "b", "2"), ["a", "b"])
        with self.assertRaisesRegex(redis.exceptions.ResponseError, "wrong number of arguments for 'command.getkeys'"):
            r.command_getkeys("PING")
        with self.assertRaisesRegex(redis.exceptions.ResponseError, "wrong number of arguments for 'command.count'"):
            r.execute_command("COMMAND", "COUNT", "extra")
        with self.assertRaisesRegex(redis.exceptions.ResponseError, "syntax error"):
            r.execute_command("CLIENT", "NO-EVICT", "maybe")
        self.assertTrue(r.execute_command("FUNCTION", "FLUSH"))
        self.assertEqual(info["process_id"], SERVER.process.pid)
        self.assertGreater(r.info("memory")["used_memory"], 1 << 20)  # redis-cli --stat shows it
        self.assertEqual(r.info("memory")["maxmemory_policy"], "noeviction")
        self.assertGreater(r.info("cpu")["used_cpu_user"], 0)
        self.assertEqual(r.execute_command("ROLE"), ["master", 0, []])
        self.assertEqual(r.slowlog_get(), [])
        self.assertEqual(r.slowlog_len(), 0)
        self.assertTrue(r.slowlog_reset())
        self.assertEqual(r.execute_command("LATENCY", "LATEST"), [])
        r.set("t1", "v")
        self.assertEqual(r.touch("t1", "t2", "t1"), 2)

    def test_client_list_filters_and_kill(self):
        r = self.r
        my_id = r.client_id()

        def raw_client():  # a connection of its own, with its id and address
            raw = RawConnection(SERVER.port)
            raw.send(raw.command("CLIENT", "ID"))
            raw_id = raw.reply()
            address = next(c["addr"] for c in r.client_list() if int(c["id"]) == raw_id)
            return raw, raw_id, address

        first, first_id, first_address = raw_client()
        second, second_id, second_address = raw_client()
        listed = r.execute_command("CLIENT", "LIST", "ID", second_id, first_id, 10 ** 9)
        self.assertEqual([int(line.split()[0][len("id="):]) for line in listed.splitlines()],
                         sorted([first_id, second_id]))
        self.assertEqual([int(c["id"]) for c in r.client_list(client_id=[str(first_id)])], [first_id])
        self.assertEqual(len(r.client_list(_type="normal")), len(r.client_list()))
        self.assertEqual(r.client_list(_type="pubsub"), [])
        self.assertError("ERR Unknown client type 'bogus'", r.execute_command, "CLIENT", "LIST", "TYPE", "bogus")
        self.assertError("ERR Invalid client ID", r.execute_command, "CLIENT", "LIST", "ID", "x")
        self.assertError("ERR syntax error", r.execute_command, "CLIENT", "LIST", "FOO")
        # Filters: SKIPME yes by default, so killing this client's own id closes nothing.
        self.assertEqual(r.client_kill_filter(_id=my_id), 0)
        self.assertEqual(r.client_kill_filter(_id=first_id, _type="pubsub"), 0)
        self.assertEqual(r.client_kill_filter(_id=first_id), 1)
        self.assertTrue(first.closed_by_server())
        first.close()
        self.assertEqual(r.client_kill_filter(_id=first_id), 0)
        # The old form: OK, or an error when no client has the address.
        self.assertTrue(r.client_kill(second_address))
        self.assertTrue(second.closed_by_server())
        second.close()
        self.assertError("ERR No such client", r.client_kill, second_address)
        self.assertError("ERR client-id should be greater than 0", r.execute_command, "CLIENT", "KILL", "ID", "0")
        self.assertError("ERR No such user 'nobody'", r.execute_command, "CLIENT", "KILL", "USER", "nobody")
        self.assertError("ERR syntax error", r.execute_command, "CLIENT", "KILL", "ID", str(my_id), "SKIPME")
        self.assertError("ERR syntax error", r.execute_command, "CLIENT", "KILL", "FOO", "bar")
        self.assertError("ERR wrong number of arguments for 'client|kill' command", r.execute_command, "CLIENT", "KILL")
        # SKIPME no: this client is closed after the reply.
        own = RawConnection(SERVER.port)
        own.send(own.command("CLIENT", "KILL", "ADDR", first_address, "SKIPME", "no") +
                 own.command("CLIENT", "ID"))
        self.assertEqual(own.reply(), 0)
        own_id = own.reply()
        own.send(own.command("CLIENT", "KILL", "ID", str(own_id), "SKIPME", "no") + own.command("PING"))
        self.assertEqual(own.reply(), 1)
        self.assertTrue(own.closed_by_server())  # the PING after it is not answered
        own.close()

    def test_errors(self):
        r = self.r
        self.assertError("ERR wrong number of arguments for 'get' command", r.execute_command, "GET")
        self.assertError("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ",
                         r.execute_command, "FOO", "a", "b")
        with self.assertRaises(redis.exceptions.NoScriptError):
            r.evalsha("0" * 40, 0)
        with self.assertRaises(redis.exceptions.ResponseError):
            r.eval("return 1", 0)

    def test_protocol_errors_close_the_connection(self):
        raw = RawConnection(SERVER.port)
        raw.send(b"*1\r\n$x\r\n")
        kind, text = raw.reply()
        self.assertEqual(kind, "error")
        self.assertTrue(text.startswith("ERR Protocol error: invalid bulk length"), text)
        self.assertTrue(raw.closed_by_server())
        raw.close()
        raw = RawConnection(SERVER.port)
        raw.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$200000\r\n")
        kind, text = raw.reply()
        self.assertIn("invalid bulk length", text)
        raw.close()
        raw = RawConnection(SERVER.port)
        raw.send(b'SET k "unbalanced\r\n')
        self.assertEqual(raw.reply(), ("error", "ERR Protocol error: unbalanced quotes in request"))
        raw.close()

    def test_value_over_the_bulk_limit_gets_the_error_before_the_close(self):
        """The server answers the bulk length at once, while the client is still sending the
        value: it must drop the rest instead of resetting the connection, which would make the
        client's system drop the error unread."""
        for size in (300 * 1000, 4 * 1000 * 1000):
            r = redis.Redis(port=SERVER.port, socket_timeout=30)
            with self.assertRaises(redis.exceptions.ResponseError) as raised:
                r.set("big", b"x" * size)
            self.assertIn("invalid bulk length", str(raised.exception))
            r.close()

    def test_half_close_gets_replies_then_the_close(self):
        """A client that sends its commands and then closes its side (`nc -N`) gets every reply,
        then the server's close, even when the close comes in one piece with the commands."""
        for _ in range(20):
            raw = RawConnection(SERVER.port)
            raw.sock.settimeout(10)
            raw.send(b"PING\r\n")
            raw.sock.shutdown(socket.SHUT_WR)
            self.assertEqual(raw.reply(), "PONG")
            self.assertTrue(raw.closed_by_server())
            raw.close()

    def test_quit(self):
        raw = RawConnection(SERVER.port)
        raw.send(b"PING\r\nQUIT\r\nPING\r\n")
        self.assertEqual(raw.reply(), "PONG")
        self.assertEqual(raw.reply(), "OK")
        self.assertTrue(raw.closed_by_server())
        raw.close()

    def test_resp3(self):
        raw = RawConnection(SERVER.port)
        raw.send(raw.command("HELLO", "3", "SETNAME", "three"))
        hello = raw.reply()
        self.assertIn((b"proto", 3), hello["map"])
        raw.send(raw.command("HSET", "h3", "a", "1") + raw.command("HGETALL", "h3") + raw.command("GET", "none") +
                 raw.command("CONFIG", "GET", "save") + raw.command("EXEC") + raw.command("CLIENT", "GETNAME"))
        self.assertEqual(raw.reply(), 1)
        self.assertEqual(raw.reply(), {"map": [(b"a", b"1")]})
        self.assertIsNone(raw.reply())
        self.assertEqual(raw.reply(), {"map": [(b"save", b"")]})
        self.assertEqual(raw.reply(), ("error", "ERR EXEC without MULTI"))
        self.assertEqual(raw.reply(), b"three")
        raw.send(raw.command("HELLO", "2") + raw.command("HGETALL", "h3") + raw.command("GET", "none"))
        raw.reply()
        self.assertEqual(raw.reply(), [b"a", b"1"])
        self.assertIsNone(raw.reply())
        raw.send(raw.command("HELLO", "4"))
        self.assertEqual(raw.reply(), ("error", "NOPROTO unsupported protocol version"))
        raw.close()


    def test_read_commands_count_keyspace_hits_and_misses(self):
        r = self.r
        r.set("hit1", "v")
        r.hset("hit2", "f", "v")
        before = r.info("stats")
        self.assertEqual(r.mget("hit1", "miss1", "miss2"), ["v", None, None])
        self.assertEqual(r.hget("hit2", "f"), "v")
        self.assertEqual(r.exists("hit1", "miss1"), 1)
        self.assertEqual(r.strlen("miss3"), 0)
        r.set("hit1", "w")  # a write's lookup does not count
        after = r.info("stats")
        self.assertEqual(after["keyspace_hits"] - before["keyspace_hits"], 3)
        self.assertEqual(after["keyspace_misses"] - before["keyspace_misses"], 4)
        # Writes that read as GET does count, as in Redis; MEMORY USAGE and SCAN do not.
        before = after
        self.assertEqual(r.getset("hit1", "x"), "w")
        self.assertIsNone(r.getdel("miss4"))
        self.assertIsNone(r.set("miss5", "1", get=True))
        r.execute_command("BITOP", "OR", "dest", "hit1", "miss6")
        r.memory_usage("hit1")
        r.scan(0)
        after = r.info("stats")
        self.assertEqual(after["keyspace_hits"] - before["keyspace_hits"], 2)
        self.assertEqual(after["keyspace_misses"] - before["keyspace_misses"], 3)

    def test_a_group_run_again_after_an_error_counts_once(self):
        r = self.r
        r.set("once", "v")
        big = "x" * 99000
        for first in range(0, 110, 10):  # over 10 MB in all: COPY cannot commit it
            r.hset("bighash", mapping={f"f{i}": big for i in range(first, first + 10)})
        before = r.info("stats")["keyspace_hits"]
        pipe = r.pipeline(transaction=False)
        pipe.get("once")
        pipe.copy("bighash", "bigcopy")
        replies = pipe.execute(raise_on_error=False)
        self.assertEqual(replies[0], "v")
        self.assertIsInstance(replies[1], redis.exceptions.ResponseError)
        self.assertEqual(r.info("stats")["keyspace_hits"] - before, 1)
        r.delete("bighash")

    def test_info_commandstats_and_errorstats(self):
        r = self.r
        r.config_resetstat()
        r.set("cs", "1")
        r.get("cs")
        r.get("cs")
        self.assertError("ERR value is not an integer or out of range", r.incrby, "cs", "x")
        self.assertError("WRONGTYPE Operation against a key holding the wrong kind of value", r.hget, "cs", "f")
        self.assertError("ERR wrong number of arguments for 'get' command", r.execute_command, "GET")
        commands = r.info("commandstats")
        self.assertEqual(commands["cmdstat_get"]["calls"], 2)
        self.assertEqual(commands["cmdstat_get"]["rejected_calls"], 1)
        self.assertEqual(commands["cmdstat_get"]["failed_calls"], 0)
        self.assertEqual(commands["cmdstat_set"]["calls"], 1)
        self.assertEqual(commands["cmdstat_incrby"]["failed_calls"], 1)
        self.assertEqual(commands["cmdstat_hget"]["failed_calls"], 1)
        self.assertNotIn("cmdstat_del", commands)
        errors = r.info("errorstats")  # redis-py leaves a lone "count=N" as it is
        self.assertEqual(errors["errorstat_ERR"], "count=2")
        self.assertEqual(errors["errorstat_WRONGTYPE"], "count=1")
        self.assertEqual(r.info("stats")["total_error_replies"], 3)
        self.assertNotIn("cmdstat_get", r.info())  # not a default section, as in Redis
        self.assertIn("errorstat_ERR", r.info())

    def test_persistence_and_replication_commands(self):
        r = self.r
        # Every acknowledged write is durable already: nothing to save or wait for.
        self.assertTrue(r.save())
        self.assertTrue(r.bgsave())  # "+Background saving started", as redis-py reads it
        self.assertError("ERR syntax error", r.execute_command, "BGSAVE", "now")
        self.assertLessEqual(abs(r.lastsave().timestamp() - time.time()), 5)
        self.assertEqual(r.execute_command("WAIT", "1", "100"), 0)
        self.assertEqual(r.execute_command("WAITAOF", "1", "0", "0"), [1, 0])
        self.assertError("ERR timeout is negative", r.execute_command, "WAIT", "0", "-1")
        self.assertError("ERR value is not an integer or out of range", r.execute_command, "WAIT", "x", "0")
        self.assertEqual(r.command_getkeys("EVAL", "return 1", "2", "a", "b", "arg"), ["a", "b"])
        self.assertEqual(r.command_getkeys("EVAL", "return 1", "0"), [])
        for count in (["3", "a"], ["-1"], ["x", "a"]):  # no keys, as Redis 7 answers
            self.assertEqual(r.command_getkeys("EVAL", "return 1", *count), [])
        self.assertError("ERR value is out of range, value must between 0 and 1",
                         r.execute_command, "WAITAOF", "2", "0", "0")
        self.assertError("ERR value is out of range, must be positive", r.execute_command, "WAITAOF", "0", "-1", "0")


class Pipelining(RespTest):
    def test_pipeline_replies_in_order(self):
        r = self.r
        pipe = r.pipeline(transaction=False)
        for i in range(1000):
            pipe.set("p%d" % i, i)
            pipe.incr("counter")
            pipe.get("p%d" % i)
        results = pipe.execute()
        for i in range(1000):
            self.assertEqual(results[3 * i:3 * i + 3], [True, i + 1, str(i)])

    def test_pipelines_of_reads_alone(self):
        """A group of GETs and MGETs alone is answered without the commands' handlers
        (frontend/resp/plain_reads.h); a hash or an expired key among them must read as the
        handlers would have it, and the lookups must count the same."""
        r = self.r
        for i in range(200):
            r.set("s%d" % i, "v%d" % i)
        r.set("soon", "gone", px=50)
        r.hset("h", "f", "v")
        time.sleep(0.1)
        before = r.info("stats")
        pipe = r.pipeline(transaction=False)
        for i in range(200):
            pipe.get("s%d" % i)
            pipe.mget("s%d" % i, "missing%d" % i, "soon")
        replies = pipe.execute()
        for i in range(200):
            self.assertEqual(replies[2 * i], "v%d" % i)
            self.assertEqual(replies[2 * i + 1], ["v%d" % i, None, None])
        after = r.info("stats")
        self.assertEqual(after["keyspace_hits"] - before["keyspace_hits"], 400)
        self.assertEqual(after["keyspace_misses"] - before["keyspace_misses"], 400)
        # A hash among the reads: WRONGTYPE for its GET, nil in an MGET, the rest unchanged.
        pipe = r.pipeline(transaction=False)
        pipe.get("s1")
        pipe.get("h")
        pipe.mget("h", "s2", "soon")
        pipe.get("soon")
        replies = pipe.execute(raise_on_error=False)
        self.assertEqual(replies[0], "v1")
        self.assertIsInstance(replies[1], redis.exceptions.ResponseError)
        self.assertTrue(str(replies[1]).startswith("WRONGTYPE"), replies[1])
        self.assertEqual(replies[2], [None, "v2", None])
        self.assertIsNone(replies[3])
        # Reads alone see every write acknowledged before them, from any connection.
        other = SERVER.client(decode_responses=True)
        for i in range(50):
            other.set("s0", "w%d" % i)
            pipe = r.pipeline(transaction=False)
            pipe.get("s0")
            pipe.mget("s0", "s1")
            self.assertEqual(pipe.execute(), ["w%d" % i, ["w%d" % i, "v1"]])
        other.close()

    def test_pipeline_sent_whole_before_its_large_replies_are_read(self):
        """redis-py sends a whole pipeline before it reads a reply. Once more than a megabyte of
        replies waits for it, the server still reads its requests (it only stops running them),
        so the client finishes sending and reads: no deadlock. (It hung before: 30 s timeout.)"""
        value = "x" * 10000
        pipe = self.r.pipeline(transaction=False)
        for i in range(1000):
            pipe.set("big%d" % (i % 100), value)
            pipe.get("big%d" % (i % 100))
        results = pipe.execute()
        self.assertEqual(len(results), 2000)
        self.assertTrue(all(result == value for result in results[1::2]))
        self.assertEqual(self.r.ping(), True)

    def test_commands_sent_before_the_client_closes_run_while_replies_back_up(self):
        """A client that sends a pipeline and closes without reading (as `nc -N` does): its
        replies back up past a megabyte, yet every command it sent runs, as in Redis."""
        self.r.set("big", "x" * 90000)
        raw = RawConnection(SERVER.port)
        raw.send(b"".join(raw.command("GET", "big") for _ in range(100)) + raw.command("SET", "sent-last", "1"))
        raw.sock.shutdown(socket.SHUT_WR)  # open for reading, but it reads nothing
        deadline = time.time() + 20
        while self.r.get("sent-last") is None and time.time() < deadline:
            time.sleep(0.05)
        raw.close()
        self.assertEqual(self.r.get("sent-last"), "1")

    def test_one_write_many_commands(self):
        raw = RawConnection(SERVER.port)
        payload = b"".join(raw.command("INCR", "seq") for _ in range(2000)) + b"PING\r\n"
        raw.send(payload)
        for i in range(2000):
            self.assertEqual(raw.reply(), i + 1)
        self.assertEqual(raw.reply(), "PONG")
        raw.close()

    def test_pipelined_batch_with_errors_in_the_middle(self):
        """Commands that arrive together run as one transaction; each sees the previous one's
        effects, and an error reply (runtime, queue-time, or a key too large for KeelDB) changes
        nothing and does not undo the others."""
        raw = RawConnection(SERVER.port)
        long_key = "k" * 10001
        script = [
            (("SET", "a", "1"), "OK"),
            (("INCR", "a"), 2),
            (("GET", "a"), b"2"),
            (("SET", "s", "abc"), "OK"),
            (("INCR", "s"), ("error", "ERR value is not an integer or out of range")),
            (("APPEND", "s", "def"), 6),
            (("HSET", "h", "f", "v", "g", "w"), 2),
            (("GET", "h"), ("error", "WRONGTYPE Operation against a key holding the wrong kind of value")),
            (("HINCRBY", "h", "f", "1"), ("error", "ERR hash value is not an integer")),
            (("HLEN", "h"), 2),
            (("NOSUCHCOMMAND", "x"), ("error", "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'x' ")),
            (("GET",), ("error", "ERR wrong number of arguments for 'get' command")),
            (("SET", long_key, "v"), ("error", "ERR key too large: KeelDB's Redis keys are at most 9985 bytes")),
            (("SET", "k" * 9985, "v", "EX", "100"), "OK"),  # the longest key takes an expiry too
            (("DEL", "k" * 9985), 1),
            (("HSET", "h", "f" * 9990, "v"), ("error", "ERR hash field too large: with this key, a KeelDB hash "
                                                      "field is at most 9988 bytes (a key, its field and the front "
                                                      "end's prefix take at most 10000 bytes)")),
            (("INCRBY", "a", "10"), 12),
            (("PING",), "PONG"),
            (("MSET", "m1", "x", "m2", "y"), "OK"),
            (("DEL", "m1", "nothing"), 1),
            (("EXISTS", "m1", "m2"), 1),
            (("SET", "t", "v", "EX", "100"), "OK"),
            (("TTL", "t"), 100),
            (("RENAME", "m2", "m3"), "OK"),
            (("GET", "m3"), b"y"),
            (("GETDEL", "m3"), b"y"),
            (("GET", "m3"), None),
            (("MULTI",), "OK"),
            (("INCR", "a"), "QUEUED"),
            (("INCR", "s"), "QUEUED"),
            (("EXEC",), [13, ("error", "ERR value is not an integer or out of range")]),
            (("WATCH", "w"), "OK"),
            (("SET", "w", "1"), "OK"),
            (("SET", "other", "2"), "OK"),
            (("MULTI",), "OK"),
            (("GET", "w"), "QUEUED"),
            (("EXEC",), None),  # the pipeline's own write touched the WATCHed key
            (("GET", "a"), b"13"),
            (("GET", "s"), b"abcdef"),
            (("DBSIZE",), 6),  # a, s, h, t, w, other
        ]
        raw.send(b"".join(raw.command(*command) for command, _ in script))
        for command, expected in script:
            self.assertEqual(raw.reply(), expected, command)
        raw.close()
        self.assertIsNone(self.r.get(long_key[:100]))

    def test_pipelined_batches_racing_lose_no_update(self):
        """Two connections pipeline INCRs on one key; conflicts re-run whole batches, never
        applying one twice nor losing one."""
        rounds, per_round = 20, 50
        failures = []

        def client():
            try:
                raw = RawConnection(SERVER.port)
                for _ in range(rounds):
                    raw.send(b"".join(raw.command("INCR", "race") + raw.command("INCR", "mine%d" % id(raw))
                                      for _ in range(per_round)))
                    replies = [raw.reply() for _ in range(2 * per_round)]
                    if any(not isinstance(reply, int) for reply in replies):
                        failures.append(replies)
                raw.close()
            except Exception as error:  # reported by the main thread
                failures.append(error)

        run_in_threads(lambda number: client(), 2)
        self.assertEqual(failures, [])
        self.assertEqual(self.r.get("race"), str(2 * rounds * per_round))

    def test_connections_sharing_transactions(self):
        """Commands of many connections arriving together share transactions (command_groups.h):
        each connection still sees its own writes in order, a shared counter loses no increment,
        and a command that fails (a key too large, a wrong type) answers only its own client."""
        threads_count, commands = 12, 150
        long_key = "k" * 10001
        stats_before = self.r.info("stats")
        failures = []

        def client(number):
            try:
                connection = SERVER.client()
                connection.set("own:%d" % number, "wrong type for INCR")
                for i in range(commands):
                    connection.incr("shared")
                    connection.set("seq:%d" % number, i)
                    if connection.get("seq:%d" % number) != str(i).encode():
                        failures.append("client %d did not read its own write %d" % (number, i))
                    connection.append("log:%d" % number, "%d," % i)
                    if i % 25 == 0:
                        try:
                            connection.set(long_key, "x")
                            failures.append("client %d: a too large key was accepted" % number)
                        except redis.exceptions.ResponseError as error:
                            if "key too large" not in str(error):
                                failures.append("client %d: %s" % (number, error))
                        try:
                            connection.incr("own:%d" % number)
                            failures.append("client %d: INCR of a string was accepted" % number)
                        except redis.exceptions.ResponseError as error:
                            if "not an integer" not in str(error):
                                failures.append("client %d: %s" % (number, error))
                connection.close()
            except Exception as error:  # reported by the main thread
                failures.append("client %d: %r" % (number, error))

        run_in_threads(client, threads_count)
        self.assertEqual(failures, [])
        self.assertEqual(self.r.get("shared"), str(threads_count * commands))
        for number in range(threads_count):
            self.assertEqual(self.r.get("log:%d" % number), "".join("%d," % i for i in range(commands)))
        stats = self.r.info("stats")
        groups = stats["keel_command_groups"] - stats_before["keel_command_groups"]
        runs = stats["keel_grouped_runs"] - stats_before["keel_grouped_runs"]
        self.assertGreater(runs, groups, "no transaction was shared by two connections (%d runs in %d groups)"
                           % (runs, groups))

    def test_runs_of_a_running_groups_key_wait_instead_of_conflicting(self):
        """Groups running at once would conflict on a key they share, and a conflict re-runs a
        whole group (command_groups.h): a run naming a key of a running group waits for it. Many
        connections incrementing one counter lose no increment and hardly ever re-run a group."""
        threads_count, commands = 16, 150
        before = self.r.info("stats")
        failures = []

        def client(number):
            try:
                connection = SERVER.client()
                for _ in range(commands):
                    connection.incr("hot")
                connection.close()
            except Exception as error:  # reported by the main thread
                failures.append("client %d: %r" % (number, error))

        run_in_threads(client, threads_count)
        self.assertEqual(failures, [])
        self.assertEqual(self.r.get("hot"), str(threads_count * commands))
        after = self.r.info("stats")
        delta = {name: after[name] - before[name]
                 for name in ("keel_command_groups", "keel_group_retries", "keel_group_key_waits")}
        self.assertGreater(delta["keel_group_key_waits"], 0, delta)
        self.assertLessEqual(delta["keel_group_retries"], max(2, delta["keel_command_groups"] // 100), delta)

    def test_many_connections(self):
        clients = [SERVER.client() for _ in range(300)]
        for i, client in enumerate(clients):
            client.set("conn:%d" % i, i)
        for i, client in enumerate(clients):
            self.assertEqual(client.get("conn:%d" % i), str(i).encode())
        for client in clients:
            client.close()


class WatchMarkerLimits(unittest.TestCase):
    """Past resp_flush_watch_markers_max WATCH markers, or resp_flush_watch_marker_bytes_max bytes
    of them, FLUSHALL removes them all: every WATCH of a key that was not alive fires (safe), and
    the markers are reclaimed. The sweeper drops markers older than resp_watch_marker_seconds."""

    @classmethod
    def setUpClass(cls):
        cls.server = KeelServer(KEEL, ["--knob", "resp_flush_watch_markers_max=1",
                                       "--knob", "resp_flush_watch_marker_bytes_max=60",
                                       "--knob", "resp_watch_marker_seconds=1",
                                       "--knob", "resp_sweep_interval_seconds=0.05"])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_limits_and_age(self):
        r = self.server.client(decode_responses=True)
        other = self.server.client(decode_responses=True)
        watched_exec = Transactions.watched_exec
        self.assertTrue(watched_exec(self, r, "one", lambda: other.flushall()))  # one marker: looked at
        self.assertFalse(watched_exec(self, r, "one", lambda: (other.set("one", "1"), other.flushall())))
        other.set("two", "1")
        other.delete("two")
        self.assertTrue(watched_exec(self, r, "two", lambda: None))  # two markers now
        self.assertFalse(watched_exec(self, r, "two", lambda: other.flushall()))  # too many: all fire
        self.assertTrue(watched_exec(self, r, "two", lambda: other.flushall()))  # reclaimed: one again
        # A marker older than a second goes: the WATCH held that long fires.
        self.assertFalse(watched_exec(self, r, "three", lambda: time.sleep(2.5)))
        # One marker alone, but of a long key: past the bytes limit.
        self.assertTrue(watched_exec(self, r, "L" * 100, lambda: None))
        self.assertFalse(watched_exec(self, r, "L" * 100, lambda: other.flushall()))
        r.close()
        other.close()


class GroupGathering(unittest.TestCase):
    """A group's start waits for the runs of finished groups to come back (command_groups.h), but
    never for a lone client, and only once for clients that left. INFO's keel_group_waits counts
    the waits, keel_group_waits_expired those that ended short. One group at a time here, so
    that the clients of a finished group are the ones the next start waits for, and the longest
    wait allowed (2 ms, a pause of 1 ms), so that clients in Python threads come back in time."""

    @classmethod
    def setUpClass(cls):
        cls.server = KeelServer(KEEL, ["--knob", "resp_groups_in_flight_max=1", "--knob", "resp_group_gather_fraction=1000"])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def stats(self):
        connection = self.server.client(decode_responses=True)
        info = connection.info("stats")
        connection.close()
        return {name: info[name] for name in ("keel_group_waits", "keel_group_waits_expired", "keel_command_groups",
                                              "keel_grouped_runs")}

    def test_lone_client_never_waits(self):
        client = self.server.client()
        client.set("lone", "first")  # a client of an earlier test that left may be awaited once
        before = self.stats()
        for i in range(20):
            client.set("lone", i)
        after = self.stats()
        self.assertEqual(after["keel_group_waits"], before["keel_group_waits"])
        client.close()

    def test_clients_are_awaited_and_those_that_left_once(self):
        """Whether Python threads come back within a wait's 2 ms depends on the machine's load
        (CI runs this beside other tests on two cores), so a busy round is tried again, up to
        `attempts` rounds; a start that never waits, or whose waits all end short, still fails."""
        clients, rounds, attempts = 8, 40, 5
        failures = []

        def client(number, start):
            try:
                connection = self.server.client()
                start.wait(timeout=30)
                for i in range(rounds):
                    connection.set("many:%d" % number, i)
                connection.close()
            except Exception as error:  # reported by the main thread
                failures.append(error)

        before = self.stats()
        for attempt in range(attempts):
            start = threading.Barrier(clients)
            run_in_threads(lambda number, start=start: client(number, start), clients)
            self.assertEqual(failures, [])
            during = self.stats()
            waits = during["keel_group_waits"] - before["keel_group_waits"]
            expired = during["keel_group_waits_expired"] - before["keel_group_waits_expired"]
            groups = during["keel_command_groups"] - before["keel_command_groups"]
            runs = during["keel_grouped_runs"] - before["keel_grouped_runs"]
            if waits - expired > 0 and runs > 2 * groups:
                break
        self.assertGreater(waits, 0, "no start waited for the clients of a finished group (%d rounds)" % (attempt + 1))
        self.assertGreater(waits - expired, 0, "every wait ended short (%d waits, %d rounds)" % (waits, attempt + 1))
        self.assertGreater(runs, 2 * groups, "%d runs in %d groups (%d rounds)" % (runs, groups, attempt + 1))
        # Everyone left with the last group: a new lone client waits at most once, for them.
        client = self.server.client()
        for i in range(10):
            client.set("after", i)
        client.close()
        after = self.stats()
        self.assertLessEqual(after["keel_group_waits"] - during["keel_group_waits"], 1)
        self.assertLessEqual(after["keel_group_waits_expired"] - during["keel_group_waits_expired"], 1)


class Transactions(RespTest):
    def test_multi_exec(self):
        r = self.r
        pipe = r.pipeline(transaction=True)
        pipe.set("a", "1").incr("a").get("a")
        self.assertEqual(pipe.execute(), [True, 2, "2"])
        # A runtime error goes into the reply array; the other commands still apply.
        r.hset("h", "f", "v")
        pipe = r.pipeline(transaction=True)
        pipe.set("x", "1").incr("h").set("y", "2")
        results = pipe.execute(raise_on_error=False)
        self.assertTrue(results[0])
        self.assertIsInstance(results[1], redis.exceptions.ResponseError)
        self.assertEqual(r.mget("x", "y"), ["1", "2"])

    def test_subcommand_and_session_command_errors_abort_exec(self):
        """As in Redis: a subcommand unknown or of the wrong length (CONFIG GET alone, CLIENT
        FOO) is refused at queue time, and so is MULTI or WATCH of the wrong length, so EXEC
        aborts; an EXEC of the wrong length discards the transaction at once."""
        raw = RawConnection(SERVER.port)
        raw.send(raw.command("SET", "a", "0"))
        self.assertEqual(raw.reply(), "OK")
        for bad, error in ((("CONFIG", "GET"), "ERR wrong number of arguments for 'config|get' command"),
                           (("CLIENT", "FOO"), "ERR unknown subcommand 'FOO'. Try CLIENT HELP."),
                           (("CLIENT", "SETNAME"), "ERR wrong number of arguments for 'client|setname' command"),
                           (("OBJECT", "FOO", "x"), "ERR unknown subcommand 'FOO'. Try OBJECT HELP."),
                           (("MULTI", "extra"), "ERR wrong number of arguments for 'multi' command"),
                           (("WATCH",), "ERR wrong number of arguments for 'watch' command")):
            raw.send(raw.command("MULTI") + raw.command("INCR", "a") + raw.command(*bad) + raw.command("EXEC"))
            self.assertEqual([raw.reply() for _ in range(4)],
                             ["OK", "QUEUED", ("error", error),
                              ("error", "EXECABORT Transaction discarded because of previous errors.")], bad)
        raw.send(raw.command("MULTI") + raw.command("SET", "a", "5") + raw.command("EXEC", "extra") +
                 raw.command("SET", "a", "6") + raw.command("DISCARD") + raw.command("GET", "a"))
        self.assertEqual([raw.reply() for _ in range(6)],
                         ["OK", "QUEUED",
                          ("error", "EXECABORT Transaction discarded because of: "
                                    "wrong number of arguments for 'exec' command"),
                          "OK", ("error", "ERR DISCARD without MULTI"), b"6"])
        raw.close()

    def test_queue_errors_abort_exec(self):
        raw = RawConnection(SERVER.port)
        raw.send(raw.command("MULTI") + raw.command("SET", "q", "1") + raw.command("NOSUCH") +
                 raw.command("GET") + raw.command("EXEC") + raw.command("GET", "q"))
        self.assertEqual(raw.reply(), "OK")
        self.assertEqual(raw.reply(), "QUEUED")
        self.assertEqual(raw.reply()[0], "error")
        self.assertEqual(raw.reply(), ("error", "ERR wrong number of arguments for 'get' command"))
        self.assertEqual(raw.reply(), ("error", "EXECABORT Transaction discarded because of previous errors."))
        self.assertIsNone(raw.reply())
        raw.send(raw.command("MULTI") + raw.command("MULTI") + raw.command("WATCH", "k") + raw.command("DISCARD") +
                 raw.command("DISCARD"))
        self.assertEqual(raw.reply(), "OK")
        self.assertEqual(raw.reply(), ("error", "ERR MULTI calls can not be nested"))
        self.assertEqual(raw.reply(), ("error", "ERR WATCH inside MULTI is not allowed"))
        self.assertEqual(raw.reply(), "OK")
        self.assertEqual(raw.reply(), ("error", "ERR DISCARD without MULTI"))
        raw.close()

    def watched_exec(self, client, key, change):
        """WATCH key, run `change` (another client's or our own write), then MULTI/EXEC."""
        pipe = client.pipeline(transaction=True)
        pipe.watch(key)
        change()
        pipe.multi()
        pipe.set("result", "applied")
        try:
            pipe.execute()
            return True
        except redis.exceptions.WatchError:
            return False

    def test_watch_meaning(self):
        r = self.r
        other = SERVER.client(decode_responses=True)
        r.set("w", "same")
        self.assertTrue(self.watched_exec(r, "w", lambda: None))
        self.assertFalse(self.watched_exec(r, "w", lambda: other.set("w", "same")))  # same value
        self.assertFalse(self.watched_exec(r, "new", lambda: (other.set("new", "1"), other.delete("new"))))
        self.assertFalse(self.watched_exec(r, "w", lambda: r.set("w", "mine")))  # the client's own write
        self.assertFalse(self.watched_exec(r, "w", lambda: other.delete("w")))
        self.assertTrue(self.watched_exec(r, "never", lambda: other.set("unrelated", "1")))
        self.assertTrue(self.watched_exec(r, "never", lambda: other.flushall()))
        r.set("e", "1", px=200)
        self.assertFalse(self.watched_exec(r, "e", lambda: time.sleep(0.4)))  # expired meanwhile
        # A hash field's new value changes the hash; a key removed before keeps firing on a
        # create-then-delete; removing a key that had already expired is no change (Redis's
        # "Delete WATCHed stale keys should not fail EXEC").
        r.hset("h", "f", "1")
        self.assertFalse(self.watched_exec(r, "h", lambda: other.hset("h", "f", "2")))
        self.assertTrue(self.watched_exec(r, "h", lambda: other.hget("h", "f")))
        self.assertFalse(self.watched_exec(r, "w", lambda: (other.set("w", "2"), other.delete("w"))))
        r.set("stale", "0")
        r.delete("stale")  # leaves a stamp beside the record to come
        r.set("stale", "1", px=50)
        time.sleep(0.1)
        self.assertTrue(self.watched_exec(r, "stale", lambda: other.delete("stale")))
        other.close()

    def test_watch_across_flushall(self):
        """FLUSHALL touches the watched keys it removes and no other (Redis's unit/multi), including
        a key created after WATCH and removed by the flush."""
        r = self.r
        other = SERVER.client(decode_responses=True)
        self.assertTrue(self.watched_exec(r, "fl", lambda: other.flushall()))
        self.assertFalse(self.watched_exec(r, "fl", lambda: (other.set("fl", "1"), other.flushall())))
        r.set("fl", "1")
        r.delete("fl")  # a removal's stamp, which the creation must replace
        self.assertFalse(self.watched_exec(r, "fl", lambda: (other.set("fl", "1"), other.flushall())))
        self.assertFalse(self.watched_exec(r, "fl", lambda: (other.hset("fl", "f", "1"), other.flushall())))
        r.set("fl", "1")
        self.assertFalse(self.watched_exec(r, "fl", lambda: other.flushall()))
        r.set("fl", "1", px=50)
        time.sleep(0.1)
        self.assertTrue(self.watched_exec(r, "fl", lambda: other.flushall()))  # it had expired: no change
        self.assertTrue(self.watched_exec(r, "fl", lambda: other.flushall()))
        other.close()

    def test_watch_beyond_the_mvcc_window(self):
        r = self.r
        other = SERVER.client(decode_responses=True)
        r.set("slow", "1")
        self.assertFalse(self.watched_exec(r, "slow", lambda: (time.sleep(6), other.set("slow", "1"))))
        self.assertTrue(self.watched_exec(r, "slow", lambda: time.sleep(6)))
        other.close()

    def test_racing_increments_lose_no_update(self):
        r = self.r
        r.set("counter", 0)
        increments = 150
        errors = []

        def worker():
            client = SERVER.client()
            deadline = time.time() + 60
            try:
                done = 0
                while done < increments and time.time() < deadline:
                    with client.pipeline(transaction=True) as pipe:
                        try:
                            pipe.watch("counter")
                            value = int(pipe.get("counter"))
                            pipe.multi()
                            pipe.set("counter", value + 1)
                            pipe.execute()
                            done += 1
                        except redis.exceptions.WatchError:
                            continue
            except Exception as error:  # reported by the main thread
                errors.append(error)
            finally:
                client.close()

        run_in_threads(lambda number: worker(), 2, timeout=90)
        self.assertEqual(errors, [])
        self.assertEqual(int(r.get("counter")), 2 * increments, "a lost update")

    def test_each_command_sees_the_previous(self):
        r = self.r
        for i in range(200):
            r.set("seq", i)
            self.assertEqual(r.get("seq"), str(i))


class RedisCli(RespTest):
    def cli(self, *args, stdin=None):
        result = subprocess.run(["redis-cli", "-p", str(SERVER.port)] + list(args), input=stdin,
                                capture_output=True, text=True, timeout=30)
        return result.stdout.strip()

    def test_redis_cli(self):
        self.assertEqual(self.cli("PING"), "PONG")
        self.assertEqual(self.cli("SET", "cli", "value"), "OK")
        self.assertEqual(self.cli("GET", "cli"), "value")
        self.assertEqual(self.cli("HSET", "clih", "f", "v"), "1")
        self.assertEqual(self.cli("HGETALL", "clih").split("\n"), ["f", "v"])
        self.assertIn("redis_version:7.2.0", self.cli("INFO", "server"))
        self.assertEqual(self.cli("-3", "HGETALL", "clih"), "f v")
        commands = "".join("SET pipe:%d %d\r\n" % (i, i) for i in range(500))
        self.assertIn("replies: 500", self.cli("--pipe", stdin=commands))
        self.assertEqual(self.cli("GET", "pipe:499"), "499")
        self.assertEqual(self.cli("DBSIZE"), "502")
        self.assertEqual(self.cli("SETBIT", "clibits", "9", "1"), "0")
        self.assertEqual(self.cli("BITCOUNT", "clibits"), "1")
        self.assertEqual(self.cli("BITPOS", "clibits", "1"), "9")
        self.assertEqual(self.cli("LCS", "cli", "nokey"), "")
        self.assertEqual(self.cli("SET", "cli2", "valley"), "OK")
        self.assertEqual(self.cli("LCS", "cli", "cli2"), "vale")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: resp_test.py PATH_TO_KEEL [unittest args]")
    KEEL = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
