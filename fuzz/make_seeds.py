#!/usr/bin/env python3
"""Seed corpora of the fuzz targets, from the project's real material.

Writes fuzz/seeds/<target>/ (not committed: `cargo fuzz cmin` then keeps what adds coverage in
fuzz/corpus/<target>/). Sources, per target:

- decode: the events of the recorded attacks and look-alikes (tests/fixtures/attacks),
  encoded back into the ring-buffer records the kernel side writes (agent-common layouts).
- netcat_argv, socat_argv, tool_identity: the argv tables of the grammar tests (real attack
  and benign command lines) and the execs of the recordings.
- cgroup_path: the cgroup path tests (GKE, containerd, CRI-O, Docker, podman, kind shapes),
  as paths and as /proc/<pid>/cgroup texts.
- cri_reply: CRI replies (ListContainers, PodSandboxStatus, ImageStatus) carrying what the
  recordings' container lines say of their pods.
- config, rules: the configuration and rules files under deploy/ and rules/.
- recording: the recordings themselves, whole and cut short.
- python_features: the benign Python training files (training/python/benign) and the `-c`
  code of the recordings. Never any malicious sample.
- btf: small valid BTF built from the running kernel's /sys/kernel/btf/vmlinux: the structs
  the agent resolves (pointers cut to void), a prefix of the types, one type of every kind.

Usage: python3 fuzz/make_seeds.py   (from anywhere; the repository is found from this file)
"""

import glob
import hashlib
import json
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "seeds")


def put(target, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


# ---------------------------------------------------------------------------------------------
# Recordings


def recordings():
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/**/*.jsonl"), recursive=True)):
        with open(path, "rb") as f:
            yield path, f.read()


def events():
    for _, text in recordings():
        for line in text.splitlines():
            if line.strip():
                yield json.loads(line)


def raw(s):
    """A RawStr as JSON: a string, or an array of byte values."""
    if isinstance(s, list):
        return bytes(s)
    return s.encode()


# ---------------------------------------------------------------------------------------------
# decode: ring-buffer records (agent-common layouts, little-endian x86_64)

SCHEMA_VERSION = 4
USER_HZ_NS = 10_000_000
S_IFIFO, S_IFCHR, S_IFREG, S_IFSOCK = 0o010000, 0o020000, 0o100000, 0o140000
VIA = {"dup": 1, "dup2": 2, "dup3": 3, "connect": 4, "fcntl": 5, "use": 6}
PROTO = {"tcp": 1, "udp": 2, "raw": 3, "other": 0}


def header(kind, size, ev):
    p = ev["process"]
    return struct.pack("<HHIQIIQQ", kind, SCHEMA_VERSION, size, ev["ts_boot_ns"], ev["tid"], p["pid"],
                       p["start"] * USER_HZ_NS, ev["cgroup_id"])


def sockaddr(text):
    host, port = text.rsplit(":", 1)
    host = host.strip("[]")
    if ":" in host:
        import ipaddress
        return 10, ipaddress.IPv6Address(host).packed, int(port)
    return 2, bytes(int(x) for x in host.split(".")) + bytes(12), int(port)


def stdio_raw(s):
    k = s.get("kind")
    mode = family = sock_type = lport = rport = flags = rdev = ino = 0
    laddr = raddr = bytes(16)
    if k == "pipe":
        mode, ino, flags = S_IFIFO | 0o600, s["ino"], 1 if s.get("named") else 0
    elif k == "tty":
        mode, rdev = S_IFCHR | 0o620, s["rdev"]
    elif k == "file":
        mode, ino = S_IFREG | 0o644, s["ino"]
    elif k == "other":
        mode, rdev = s["mode"], s["rdev"]
    elif k == "unix":
        mode, family, sock_type, ino = S_IFSOCK | 0o777, 1, 1, s["ino"]
    elif k == "other_socket":
        mode, family, ino = S_IFSOCK | 0o777, s["family"], s["ino"]
    elif k == "inet":
        mode, sock_type, ino = S_IFSOCK | 0o777, PROTO[s["proto"]], s["ino"]
        family, laddr, lport = sockaddr(s["local"])
        _, raddr, rport = sockaddr(s["remote"])
    return struct.pack("<HHHHHBBIQ16s16s", mode, family, sock_type, lport, rport, flags, 0, rdev, ino, laddr, raddr)


def exec_record(ev):
    argv = b"\0".join(raw(a) for a in ev["argv"]) + b"\0"
    argv = argv[:4096]
    exe_parts = [p for p in raw(ev["exe"]).split(b"/") if p]
    exe = b"".join(p + b"\0" for p in reversed(exe_parts))[:1279]
    filename = raw(ev["filename"])[:255]
    flags = (1 if ev.get("argv_truncated") else 0) | (2 if ev.get("exe_truncated") else 0)
    body = struct.pack("<IIIIQIHHH6s16s", ev["parent"]["pid"], ev["uid"], ev["gid"], flags,
                       ev["parent"]["start"] * USER_HZ_NS, ev["pid_ns"], len(exe), len(argv), len(filename),
                       bytes(6), raw(ev["comm"])[:16].ljust(16, b"\0"))
    body += b"".join(stdio_raw(s) for s in ev["stdio"])
    assert 40 + len(body) == 264, 40 + len(body)
    # As the kernel sends it: the head, then executable path, filename and argv, packed.
    body += exe + filename + argv
    size = 40 + len(body)
    return header(1, size, ev) + body


def record(ev):
    t = ev["type"]
    if t == "exec":
        return exec_record(ev)
    if t == "fork":
        return header(2, 56, ev) + struct.pack("<IIQ", ev["parent"]["pid"], 0, ev["parent"]["start"] * USER_HZ_NS)
    if t == "exit":
        return header(3, 48, ev) + struct.pack("<II", ev["code"], 0)
    if t == "stdio_redirect":
        return header(10, 104, ev) + struct.pack("<HHi", VIA[ev["via"]], ev["fd"], ev["old_fd"]) + stdio_raw(ev["target"])
    return None


def seed_decode():
    for ev in events():
        if "type" in ev and "ts_boot_ns" in ev:
            r = record(ev)
            if r:
                put("decode", r)


# ---------------------------------------------------------------------------------------------
# argv grammars, from the tests' tables and the recordings

RUST_STR = r'"(?:[^"\\]|\\.)*"'


def rust_str(lit):
    return bytes(lit[1:-1], "utf-8").decode("unicode_escape").encode("latin-1", "replace") if "\\" in lit else lit[1:-1].encode()


def str_arrays(text):
    """Every `&["a", "b", ...]` literal with what precedes it on its line."""
    for m in re.finditer(r'&\[((?:\s*' + RUST_STR + r'\s*,?)*)\s*\]', text):
        items = [rust_str(s) for s in re.findall(RUST_STR, m.group(1))]
        line_start = text.rfind("\n", 0, m.start()) + 1
        yield text[line_start:m.start()], items


def test_section(path):
    text = read(path).decode()
    return text[text.find("#[cfg(test)]"):]


FLAVORS = ["Traditional", "OpenBsd", "Ncat", "Busybox", "Unknown"]


def seed_argv():
    nc = test_section("agent/src/detect/netcat.rs")
    for before, items in str_arrays(nc):
        m = re.search(r"\((\w+),\s*$", before)
        flavor = FLAVORS.index(m.group(1)) if m and m.group(1) in FLAVORS else 4
        put("netcat_argv", bytes([flavor]) + b"\0".join(items))
    for _, items in str_arrays(test_section("agent/src/detect/socat.rs")):
        put("socat_argv", b"\0".join(items))
    tools = test_section("agent/src/detect/tools.rs")
    for before, items in str_arrays(tools):
        m = re.search(r'\((' + RUST_STR + r'),\s*$', before)
        exe = rust_str(m.group(1)) if m else b""
        put("tool_identity", exe + b"\0" + b"\0".join(items))
    for ev in events():
        if ev.get("type") != "exec":
            continue
        argv = [raw(a) for a in ev["argv"]]
        exe = raw(ev["exe"])
        put("tool_identity", exe + b"\0" + b"\0".join(argv))
        base = exe.rsplit(b"/", 1)[-1]
        if base.startswith(b"socat"):
            put("socat_argv", b"\0".join(argv[1:]))
        if base.startswith(b"nc") or base.startswith(b"netcat") or base.startswith(b"busybox"):
            flavor = 0 if b"traditional" in base else 2 if base == b"ncat" else 3 if base.startswith(b"busybox") else 4
            put("netcat_argv", bytes([flavor]) + b"\0".join(argv[1:]))
        # `sh -c "..."`: the command line of the tool inside, split on spaces.
        if len(argv) >= 3 and argv[1] == b"-c":
            inner = argv[2].split()
            if inner:
                put("tool_identity", b"/usr/bin/" + inner[0].rsplit(b"/", 1)[-1] + b"\0" + b"\0".join(inner))
                if inner[0].startswith(b"socat"):
                    put("socat_argv", b"\0".join(inner[1:]))
                if inner[0].startswith(b"nc") or inner[0].startswith(b"netcat"):
                    put("netcat_argv", bytes([4]) + b"\0".join(inner[1:]))


# ---------------------------------------------------------------------------------------------
# cgroup paths, from the parser's tests (their consts and format! templates)


def seed_cgroup():
    text = test_section("agent/src/container/cgroup_path.rs")
    consts = dict(re.findall(r'const (\w+): &str = "([^"]*)";', text))
    lets = {
        "pod_besteffort": "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice",
        "pod": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice",
        "node": "/system.slice/docker-{B}.scope",
        "long": "x" * 128,
        "too_long": "x" * 129,
    }
    paths = set()
    for lit in re.findall(r'format!\(\s*(' + RUST_STR + r')', text) + re.findall(r'(' + RUST_STR + r')\.to_owned\(\)', text) + re.findall(r'^\s*(' + RUST_STR + r'),\s*$', text, re.M):
        s = lit[1:-1]
        s = s.replace('{}/cri-containerd', lets["pod_besteffort"] + "/cri-containerd").replace('{}', consts["A"])
        s = s.replace("{pod}", lets["pod"]).replace("{node}", lets["node"])
        s = s.replace("{long}", lets["long"]).replace("{too_long}", lets["too_long"])
        for k, v in sorted(consts.items(), key=lambda kv: -len(kv[0])):
            s = s.replace("{" + k + "}", v)
        s = s.replace("{UID_}", consts["UID_"])
        if "{" not in s and (s == "" or s.startswith("/")):
            paths.add(s)
    for p in sorted(paths):
        put("cgroup_path", p)
        put("cgroup_path", f"12:pids:/\n1:name=systemd:{p}\n0::{p}\n")
    put("cgroup_path", "0::/\n")


# ---------------------------------------------------------------------------------------------
# CRI replies (protobuf, hand-encoded: varints and length-delimited fields)


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, value):
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def pb_map(num, d):
    return b"".join(field(num, field(1, k) + field(2, v)) for k, v in sorted(d.items()))


def cri_replies(c):
    labels = {
        "io.kubernetes.pod.name": c.get("pod_name", ""),
        "io.kubernetes.pod.namespace": c.get("pod_namespace", ""),
        "io.kubernetes.pod.uid": c.get("pod_uid", ""),
        "io.kubernetes.container.name": c.get("container_name", ""),
    }
    labels = {k: v for k, v in labels.items() if v}
    sandbox_id = hashlib.sha256(c["id"].encode()).hexdigest()
    container = (field(1, c["id"]) + field(2, sandbox_id) + field(3, field(1, c.get("container_name", "main")) + field(2, 0))
                 + field(4, field(1, c.get("image", ""))) + field(5, c.get("image_digest", "")) + field(6, 1)
                 + field(7, 1733000000000000000) + pb_map(8, labels)
                 + pb_map(9, {"io.kubernetes.container.restartCount": "0"}))
    listing = field(1, container)
    pod_labels = dict(c.get("pod_labels", {}))
    pod_labels.update({"io.kubernetes.pod.name": c.get("pod_name", ""), "io.kubernetes.pod.namespace": c.get("pod_namespace", "")})
    status = (field(1, sandbox_id) + field(2, field(1, c.get("pod_name", "")) + field(2, c.get("pod_uid", ""))
                                            + field(3, c.get("pod_namespace", "")) + field(4, 0))
              + field(3, 0) + field(4, 1733000000000000000) + pb_map(7, pod_labels) + field(9, "runc"))
    sandbox = field(1, status) + field(4, 1733000000000000000)
    digest = c.get("image_digest", "")
    image = c.get("image", "")
    repo = image.rsplit(":", 1)[0] if image else ""
    img = field(1, digest) + field(2, image) + field(3, f"{repo}@{digest}" if repo else "") + field(4, 12345678) + field(8, 0)
    image_status = field(1, img)
    return listing, sandbox, image_status


def framed(*msgs):
    return b"".join(struct.pack("<H", len(m)) + m for m in msgs)


def seed_cri():
    seen = set()
    for ev in events():
        c = ev.get("container")
        if not c or c.get("enrichment") != "complete" or json.dumps(c, sort_keys=True) in seen:
            continue
        seen.add(json.dumps(c, sort_keys=True))
        listing, sandbox, image = cri_replies(c)
        put("cri_reply", framed(listing, sandbox, image))
        put("cri_reply", framed(b"", sandbox, b""))  # a sandbox (pause) id: no container listed
    put("cri_reply", framed(b"", b"", b""))


# ---------------------------------------------------------------------------------------------
# config and rules files


def seed_files():
    for p in ["deploy/systemd/shrike.toml", "deploy/kubernetes/base/config/shrike.toml",
              "deploy/kubernetes/overlays/k3s/shrike.toml", "deploy/kubernetes/overlays/kind/shrike.toml"]:
        put("config", read(p))
    put("config", "")
    for p in ["deploy/systemd/rules.toml", "deploy/kubernetes/base/config/rules.toml", "rules/default.toml"]:
        put("rules", read(p))
    put("rules", "")


# ---------------------------------------------------------------------------------------------
# recordings and Python


def seed_recordings():
    for path, text in recordings():
        name = os.path.basename(path)
        put("recording", text, name)
        lines = text.splitlines(keepends=True)
        put("recording", b"".join(lines[: len(lines) // 2]), name + ".half")


def seed_python():
    for p in sorted(glob.glob(os.path.join(ROOT, "training/python/benign/*"))):
        with open(p, "rb") as f:
            data = f.read()
        if p.endswith(".lines"):
            for line in data.splitlines():
                if line.strip() and not line.startswith(b"#"):
                    put("python_features", line)
        else:
            put("python_features", data)
    for ev in events():
        if ev.get("type") == "exec" and raw(ev["exe"]).rsplit(b"/", 1)[-1].startswith(b"python"):
            argv = [raw(a) for a in ev["argv"]]
            put("python_features", b"\0".join(argv))
            if b"-c" in argv and argv.index(b"-c") + 1 < len(argv):
                put("python_features", argv[argv.index(b"-c") + 1])


# ---------------------------------------------------------------------------------------------
# BTF: small valid pieces of the running kernel's BTF

KIND_EXTRA = {1: 4, 14: 4, 17: 4, 3: 12}  # int, var, decl_tag: 4; array: 12
VLEN12 = {4, 5, 15, 19}  # struct, union, datasec, enum64
VLEN8 = {6, 13}  # enum, func_proto


class Btf:
    def __init__(self, data):
        magic, version, flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", data)
        assert magic == 0xEB9F
        ts = hdr_len + type_off
        self.strings = data[hdr_len + str_off: hdr_len + str_off + str_len]
        self.types = [None]  # id 0: void
        at, end = ts, ts + type_len
        while at < end:
            name_off, info, size_or_type = struct.unpack_from("<III", data, at)
            kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
            extra = KIND_EXTRA.get(kind, 0) + (vlen * 12 if kind in VLEN12 else vlen * 8 if kind in VLEN8 else 0)
            self.types.append((name_off, info, size_or_type, bytearray(data[at + 12: at + 12 + extra])))
            at += 12 + extra

    def name(self, off):
        return self.strings[off: self.strings.index(b"\0", off)]

    def refs(self, tid):
        """(position in body or -1 for size_or_type, referenced id, through a pointer)."""
        name_off, info, sot, body = self.types[tid]
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        if kind in (2,):
            return [(-1, sot, True)]
        if kind in (8, 9, 10, 11, 18, 12, 14, 17):
            return [(-1, sot, False)]
        if kind == 3:
            return [(0, struct.unpack_from("<I", body, 0)[0], False), (4, struct.unpack_from("<I", body, 4)[0], False)]
        if kind in (4, 5):
            return [(i * 12 + 4, struct.unpack_from("<I", body, i * 12 + 4)[0], False) for i in range(vlen)]
        if kind == 13:
            return [(-1, sot, True)] + [(i * 8 + 4, struct.unpack_from("<I", body, i * 8 + 4)[0], True) for i in range(vlen)]
        if kind == 15:
            return [(i * 12, struct.unpack_from("<I", body, i * 12)[0], True) for i in range(vlen)]
        return []

    def name_offsets(self, tid):
        name_off, info, sot, body = self.types[tid]
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        out = [(-1, name_off)]
        if kind in (4, 5, 6, 19, 13):
            step = 8 if kind in (6, 13) else 12
            out += [(i * step, struct.unpack_from("<I", body, i * step)[0]) for i in range(vlen)]
        return out

    def encode_one(self, body, name_off, info, sot, new_id, s, vlen):
        """A struct or union with members already filtered, its references and names mapped."""
        for i in range(vlen):
            name, tid, off = struct.unpack_from("<III", body, i * 12)
            struct.pack_into("<III", body, i * 12, s(name), new_id.get(tid, 0), off)
        return struct.pack("<III", s(name_off), info, sot) + bytes(body)

    def find_struct(self, name):
        found = None
        for tid in range(1, len(self.types)):
            name_off, info, _, _ = self.types[tid]
            if (info >> 24) & 0x1F in (4, 5) and self.name(name_off) == name:
                if info & 0xFFFF:
                    return tid
                found = found or tid
        return found

    def closure(self, roots, members=None):
        """Types reached from `roots` without going through a pointer (with `members`, a set
        of names, only through struct members so named or anonymous)."""
        keep, todo = set(), list(roots)
        while todo:
            t = todo.pop()
            if t == 0 or t in keep:
                continue
            keep.add(t)
            for pos, r, via_ptr in self.refs(t):
                if not via_ptr and self.member_kept(t, pos, members):
                    todo.append(r)
        return keep

    def member_kept(self, t, pos, members):
        name_off, info, _, body = self.types[t]
        if members is None or (info >> 24) & 0x1F not in (4, 5) or pos < 0:
            return True
        name = self.name(struct.unpack_from("<I", body, pos - 4)[0])
        return name == b"" or name in members

    def encode(self, tids, members=None):
        """Valid BTF of these types; references to types left out become void (0); with
        `members`, structs keep only the members so named and the anonymous ones."""
        order = sorted(tids)
        new_id = {t: i + 1 for i, t in enumerate(order)}
        strings, str_at = bytearray(b"\0"), {b"": 0}

        def s(off):
            n = self.name(off)
            if n not in str_at:
                str_at[n] = len(strings)
                strings.extend(n + b"\0")
            return str_at[n]

        out = bytearray()
        for t in order:
            name_off, info, sot, body = self.types[t]
            if members is not None and (info >> 24) & 0x1F in (4, 5):
                kept = [i for i in range(info & 0xFFFF) if self.member_kept(t, i * 12 + 4, members)]
                body = b"".join(body[i * 12: i * 12 + 12] for i in kept)
                info = (info & ~0xFFFF) | len(kept)
                t_body = bytearray(body)
                out += self.encode_one(t_body, name_off, info, sot, new_id, s, len(kept))
                continue
            body = bytearray(body)
            for pos, r, _ in self.refs(t):
                nr = new_id.get(r, 0)
                if pos == -1:
                    sot = nr
                else:
                    struct.pack_into("<I", body, pos, nr)
            for pos, off in self.name_offsets(t):
                if pos == -1:
                    name_off = s(off)
                else:
                    struct.pack_into("<I", body, pos, s(off))
            out += struct.pack("<III", name_off, info, sot) + body
        hdr = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(out), len(out), len(strings))
        return bytes(hdr + out + strings)


def seed_btf():
    try:
        with open("/sys/kernel/btf/vmlinux", "rb") as f:
            btf = Btf(f.read())
    except OSError as e:
        print(f"btf: skipped ({e})", file=sys.stderr)
        return
    src = read("agent/src/sensor/btf.rs").decode()
    src = src[src.find("pub fn resolve_kernel_offsets"):]
    src = src[: src.find("\n}\n")]
    names = sorted(set(re.findall(r'btf, "(\w+)", &\[', src)))
    found = [(n, btf.find_struct(n.encode())) for n in names]
    found = [(n, t) for n, t in found if t]
    put("btf", btf.encode(btf.closure([t for _, t in found])), "kernel-offsets")
    # The same structs with only the members looked up (and anonymous ones on the way): every
    # offset resolves, in a few KiB.
    members = {m.encode() for m in re.findall(r'"(\w+)"', " ".join(re.findall(r'&\[([^\]]*)\]', src)))}
    roots = [t for _, t in found]
    put("btf", btf.encode(btf.closure(roots, members), members), "kernel-offsets-lookups")
    for n, t in found:
        put("btf", btf.encode(btf.closure([t])), "struct-" + n)
    put("btf", btf.encode(range(1, 300)), "prefix-300")
    first_of_kind = {}
    for t in range(1, len(btf.types)):
        first_of_kind.setdefault((btf.types[t][1] >> 24) & 0x1F, t)
    put("btf", btf.encode(sorted(first_of_kind.values())), "one-of-each-kind")


def main():
    seed_decode()
    seed_argv()
    seed_cgroup()
    seed_cri()
    seed_files()
    seed_recordings()
    seed_python()
    seed_btf()
    for d in sorted(os.listdir(OUT)):
        files = os.listdir(os.path.join(OUT, d))
        size = sum(os.path.getsize(os.path.join(OUT, d, f)) for f in files)
        print(f"{d}: {len(files)} files, {size} bytes")


if __name__ == "__main__":
    main()
