#!/usr/bin/env python3
"""Record real Redis replies that vireo-cmdspec's unit tests compare against.

Usage: record.py PORT   (a redis-server listening on 127.0.0.1:PORT; stdlib only)

Writes, next to this script:
  redis-7.0-command-info.txt  one line per command: full name, TAB, COMMAND INFO entry
  redis-7.0-command-docs.txt  one line per command: full name, TAB, COMMAND DOCS entry
                              (summaries replaced by "<summary>": Vireo writes its own)
  getkeys.txt                 fills the expected column of each case from
                              COMMAND GETKEYSANDFLAGS (cases marked "7.2" are kept as
                              written: they need a 7.2 server)

Replies are written in a canonical text form: "str", 12, null, [array], ~[set],
{"key":value}, !"error".
"""
import json
import os
import shlex
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")
        self.call(["HELLO", "3"])

    def call(self, args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.read()

    def read(self):
        line = self.file.readline()[:-2]
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return ("str", rest.decode())
        if kind == b"-":
            return ("err", rest.decode())
        if kind == b":":
            return ("int", int(rest))
        if kind == b"_":
            return ("null",)
        if kind in (b"$", b"="):
            n = int(rest)
            if n < 0:
                return ("null",)
            return ("str", self.file.read(n + 2)[:-2].decode())
        if kind in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return ("null",)
            return ("set" if kind == b"~" else "arr", [self.read() for _ in range(n)])
        if kind == b"%":
            return ("map", [(self.read(), self.read()) for _ in range(int(rest))])
        raise ValueError(line)


def render(v):
    kind = v[0]
    if kind == "str":
        return json.dumps(v[1])
    if kind == "err":
        return "!" + json.dumps(v[1])
    if kind == "int":
        return str(v[1])
    if kind == "null":
        return "null"
    if kind == "arr":
        return "[" + ",".join(render(x) for x in v[1]) + "]"
    if kind == "set":
        return "~[" + ",".join(render(x) for x in v[1]) + "]"
    return "{" + ",".join(render(a) + ":" + render(b) for a, b in v[1]) + "}"


def hide_summaries(v):
    """Replace every "summary" value of a docs map (recursively) by "<summary>"."""
    if v[0] == "map":
        return ("map", [(k, ("str", "<summary>") if k == ("str", "summary") else hide_summaries(x))
                        for k, x in v[1]])
    if v[0] in ("arr", "set"):
        return (v[0], [hide_summaries(x) for x in v[1]])
    return v


def sorted_subcommands(v):
    """Redis lists subcommands in hash table order; sort them by name."""
    if v[0] == "arr" and len(v[1]) == 10 and v[1][9][0] == "arr":
        items = list(v[1])
        items[9] = ("arr", sorted((sorted_subcommands(x) for x in items[9][1]), key=lambda x: x[1][0][1]))
        return ("arr", items)
    if v[0] == "map":
        return ("map", [(k, ("map", sorted(x[1], key=lambda e: e[0][1])) if k == ("str", "subcommands")
                         else sorted_subcommands(x)) for k, x in v[1]])
    return v


def main():
    conn = Conn(int(sys.argv[1]))
    names = sorted(x[1] for x in conn.call(["COMMAND", "LIST"])[1])
    with open(os.path.join(HERE, "redis-7.0-command-info.txt"), "w") as f:
        for name in names:
            reply = conn.call(["COMMAND", "INFO", name])[1][0]
            f.write("%s\t%s\n" % (name, render(sorted_subcommands(reply))))
    with open(os.path.join(HERE, "redis-7.0-command-docs.txt"), "w") as f:
        for name in names:
            reply = conn.call(["COMMAND", "DOCS", name])[1][0][1]
            f.write("%s\t%s\n" % (name, render(hide_summaries(sorted_subcommands(reply)))))

    path = os.path.join(HERE, "getkeys.txt")
    lines = []
    for line in open(path):
        line = line.rstrip("\n")
        if not line or line.startswith("#") or line.startswith("7.2\t"):
            lines.append(line)
            continue
        fields = line.split("\t")
        args = shlex.split(fields[0])
        reply = conn.call(["COMMAND", "GETKEYSANDFLAGS"] + args)
        lines.append("%s\t%s" % (fields[0], render(reply)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
