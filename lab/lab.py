#!/usr/bin/env python3
"""The real-kernel lab, host side (docs/lab.md).

Builds a guest (stock Debian kernel + a busybox initramfs holding ork, earlyoom and the
lab's programs), runs each scenario under each defender in its own QEMU guest started in
a memory cgroup created here, parses the results the guest prints on its second serial
port and prints one table. Called by lab/run.sh, which builds the binaries first.
"""
import argparse
import datetime
import json
import lzma
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SKIP = 77

SCENARIOS = {
    1: "fast fill",
    2: "slow leak beside a larger steady process",
    3: "process tree",
    4: "largest process has oom_score_adj -1000",
    5: "many small processes, one medium grower",
    6: "hostile process name",
    7: "heavy page cache, plenty reclaimable",
    8: "busy but safe near the threshold",
    9: "cgroup v2 domain with memory.max",
    10: "burst of small children beside a larger steady process",
    11: "deep tree: parent, child, grandchildren",
    12: "settled worker pool beside a burst from another parent",
    13: "tree where one child suffices",
}
NOTHING_MAY_DIE = {7, 8}
DEFENDERS = ["kernel", "earlyoom", "ork"]
# guest modules for the page-cache disk, in load order
MODULES = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
           "virtio_pci", "virtio_blk"]


class LabUnavailable(Exception):
    """The lab cannot run here (no root, no qemu, no kernel): skip or fail."""


def log(msg):
    print(f"lab: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# --------------------------------------------------------------------------- kernel

def fetch_kernel(cache):
    """Returns (vmlinuz, modules_dir) of the stock Debian kernel, cached under `cache`."""
    os.makedirs(cache, exist_ok=True)
    stamp = os.path.join(cache, "kernel.path")
    if os.path.exists(stamp):
        root = open(stamp).read().strip()
        found = find_vmlinuz(root)
        if found:
            return found
    pkg = None
    for attempt in range(2):
        try:
            out = subprocess.run(["apt-cache", "depends", "linux-image-amd64"], capture_output=True,
                                 text=True, timeout=60).stdout
            m = re.search(r"Depends:\s*(linux-image-\S+-amd64)", out)
            pkg = m.group(1) if m else None
        except (OSError, subprocess.SubprocessError):
            pass
        if pkg or attempt:
            break
        log("linux-image-amd64 unknown to apt: apt-get update")
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
    if pkg is None:
        raise LabUnavailable("cannot resolve linux-image-amd64 (run apt-get update?) and no cached kernel")
    debs = [f for f in os.listdir(cache) if f.startswith(pkg + "_") and f.endswith(".deb")]
    if not debs:
        log(f"downloading {pkg}")
        os.chmod(cache, 0o777)  # lets apt's sandbox user write here
        r = subprocess.run(["apt-get", "download", pkg], cwd=cache, capture_output=True, text=True)
        debs = [f for f in os.listdir(cache) if f.startswith(pkg + "_") and f.endswith(".deb")]
        if not debs:
            raise LabUnavailable(f"apt-get download {pkg} failed: {r.stderr.strip()[-300:]}")
    root = os.path.join(cache, pkg)
    shutil.rmtree(root, ignore_errors=True)
    run(["dpkg", "-x", os.path.join(cache, sorted(debs)[-1]), root])
    found = find_vmlinuz(root)
    if not found:
        raise LabUnavailable(f"no vmlinuz in {debs[-1]}")
    with open(stamp, "w") as f:
        f.write(root + "\n")
    return found


def pvh_vmlinux(vmlinuz):
    """The uncompressed kernel, for QEMU's PVH direct boot: saves the ~4 s that
    decompressing the bzImage costs under TCG. None when it cannot be had (then the
    bzImage boots as usual)."""
    out = vmlinuz.replace("vmlinuz-", "vmlinux-pvh-")
    if os.path.exists(out):
        return out
    config = vmlinuz.replace("vmlinuz-", "config-")
    try:
        if "CONFIG_PVH=y" not in open(config).read():
            return None
        data = open(vmlinuz, "rb").read()
        i = data.find(b"\xfd7zXZ\x00")
        if i < 0:
            return None
        elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[i:])
    except (OSError, lzma.LZMAError):
        return None
    if not elf.startswith(b"\x7fELF") or b"Xen\x00" not in elf:
        return None
    with open(out + ".tmp", "wb") as f:
        f.write(elf)
    os.rename(out + ".tmp", out)
    return out


def find_vmlinuz(root):
    boot = os.path.join(root, "boot")
    if not os.path.isdir(boot):
        return None
    for f in sorted(os.listdir(boot)):
        if f.startswith("vmlinuz-"):
            ver = f[len("vmlinuz-"):]
            mods = os.path.join(root, "lib", "modules", ver)
            return os.path.join(boot, f), mods
    return None


# --------------------------------------------------------------------------- initramfs

def is_dynamic(path):
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    return "=>" in out or "ld-linux" in out



def start_qemu(cmd, cg, errpath):
    """Starts QEMU inside the memory cgroup cg, in a session of its own (it is stopped
    by its PID, never by name)."""
    procs_file = os.path.join(cg.path, "cgroup.procs")

    def join_cgroup():
        with open(procs_file, "w") as f:
            f.write(str(os.getpid()))

    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(errpath, "w"), preexec_fn=join_cgroup, start_new_session=True)


def wait_qemu(p, timeout):
    """Waits for our QEMU; SIGKILLs it (by its PID) at the timeout or on any exception.
    Returns whether it timed out."""
    try:
        p.wait(timeout=timeout)
        return False
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        return True
    except BaseException:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        raise

def copy_with_libs(src, root, dest):
    """Copies an executable to root/dest, with the shared libraries it needs."""
    target = os.path.join(root, dest.lstrip("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(src, target)
    subprocess.run(["strip", "--strip-unneeded", target], capture_output=True)
    if not is_dynamic(src):
        return
    out = subprocess.run(["ldd", src], capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.search(r"(/\S+)\s+\(0x", line)
        if not m:
            continue
        lib = m.group(1)
        for path in {lib, os.path.realpath(lib)}:
            t = os.path.join(root, path.lstrip("/"))
            os.makedirs(os.path.dirname(t), exist_ok=True)
            if not os.path.exists(t):
                shutil.copy2(os.path.realpath(lib), t)


def build_initramfs(build, modules_dir, ork, out):
    root = os.path.join(build, "lab-guest", "root")
    shutil.rmtree(root, ignore_errors=True)
    for d in ["bin", "sbin", "lib/modules", "proc", "sys", "dev", "tmp", "run", "etc"]:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(busybox):
        raise LabUnavailable("busybox-static is not installed")
    copy_with_libs(busybox, root, "/bin/busybox")
    copy_with_libs(os.path.join(build, "lab", "labkit"), root, "/bin/labkit")
    earlyoom = shutil.which("earlyoom")
    if earlyoom:
        copy_with_libs(earlyoom, root, "/bin/earlyoom")
    if ork:
        copy_with_libs(ork, root, "/bin/ork")
    shutil.copy2(os.path.join(HERE, "guest", "init"), os.path.join(root, "init"))
    os.chmod(os.path.join(root, "init"), 0o755)
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/:/bin/sh\nlab:x:1000:1000:lab:/tmp:/bin/sh\n")
    with open(os.path.join(root, "etc", "group"), "w") as f:
        f.write("root:x:0:\nlab:x:1000:\n")
    order = []
    for m in MODULES:
        found = None
        for dirpath, _, files in os.walk(os.path.join(modules_dir, "kernel")):
            for ext in (".ko", ".ko.xz", ".ko.zst"):
                if m + ext in files:
                    found = os.path.join(dirpath, m + ext)
        if found is None:
            continue  # built into the kernel
        if not found.endswith(".ko"):
            raise LabUnavailable(f"compressed module {found}: not supported")
        shutil.copy2(found, os.path.join(root, "lib", "modules", m + ".ko"))
        order.append(m)
    with open(os.path.join(root, "lib", "modules", "order"), "w") as f:
        f.write("\n".join(order) + "\n")
    cmd = f"cd {shlex.quote(root)} && find . | cpio -o -H newc --quiet | gzip -1 > {shlex.quote(out)}"
    run(["sh", "-c", cmd])
    return out


# --------------------------------------------------------------------------- guests

class HostCgroup:
    """A memory cgroup for one QEMU, removed on close: cgroup v1 where the memory
    hierarchy is mounted (hybrid hosts), else cgroup v2 with the memory controller
    (pure v2 hosts, Debian 12's default)."""

    def __init__(self, limit_mib):
        v1 = "/sys/fs/cgroup/memory"
        v2 = "/sys/fs/cgroup"
        name = f"ork-lab-{os.getpid()}"
        if os.path.exists(os.path.join(v1, "memory.limit_in_bytes")):
            self.v2 = False
            self.path = os.path.join(v1, name)
            limit_file = "memory.limit_in_bytes"
        elif "memory" in self._read(os.path.join(v2, "cgroup.controllers")).split():
            self.v2 = True
            if "memory" not in self._read(os.path.join(v2, "cgroup.subtree_control")).split():
                with open(os.path.join(v2, "cgroup.subtree_control"), "w") as f:
                    f.write("+memory")
            self.path = os.path.join(v2, name)
            limit_file = "memory.max"
        else:
            raise LabUnavailable("no memory cgroup (neither v1 /sys/fs/cgroup/memory nor v2 +memory)")
        os.makedirs(self.path, exist_ok=True)
        with open(os.path.join(self.path, limit_file), "w") as f:
            f.write(str(limit_mib * 1024 * 1024))

    @staticmethod
    def _read(path):
        try:
            return open(path).read()
        except OSError:
            return ""

    def peak_mib(self):
        try:
            f = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
            return int(open(os.path.join(self.path, f)).read()) / 2**20
        except (OSError, ValueError):
            return -1

    def reset_peak(self):
        if self.v2:
            return  # memory.peak: one cgroup per QEMU run makes it that run's peak
        try:
            with open(os.path.join(self.path, "memory.max_usage_in_bytes"), "w") as f:
                f.write("0")
        except OSError:
            pass

    def close(self):
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)
        log(f"warning: could not remove {self.path}")


def run_guest(args, cg, kernel, initrd, disk, scenario, defender, threshold, rundir):
    os.makedirs(rundir, exist_ok=True)
    console = os.path.join(rundir, "console.log")
    result = os.path.join(rundir, "result.log")
    outdisk = os.path.join(rundir, "results.img")
    for f in (console, result, outdisk):
        if os.path.exists(f):
            os.unlink(f)
    with open(outdisk, "wb") as f:
        f.truncate(4 << 20)  # the guest writes its results here (/dev/vdb) before power-off
    append = (f"console=ttyS0 loglevel={args.loglevel} panic=-1 mitigations=off "
              f"lab.scenario={scenario} lab.defender={defender} lab.threshold={threshold:g} "
              f"lab.cgmax={args.cgroup_mib}")
    accel = "kvm" if args.kvm else f"tcg,tb-size={args.tb_mib}"
    cmd = [args.qemu, "-accel", accel, "-m", str(args.mem), "-smp", str(args.smp),
           "-nodefaults", "-nographic", "-no-reboot", "-display", "none", "-monitor", "none",
           "-kernel", kernel, "-initrd", initrd, "-append", append,
           "-serial", f"file:{console}", "-serial", f"file:{result}",
           "-drive", f"file={disk},format=raw,if=virtio,readonly=on,cache=unsafe",
           "-drive", f"file={outdisk},format=raw,if=virtio"]
    cg.reset_peak()
    t0 = time.monotonic()
    p = start_qemu(cmd, cg, os.path.join(rundir, "qemu.err"))
    timed_out = wait_qemu(p, args.guest_timeout)
    wall = time.monotonic() - t0
    serial = open(result, errors="replace").read() if os.path.exists(result) else ""
    text = open(outdisk, "rb").read().rstrip(b"\0").decode(errors="replace")
    source = "disk"
    if "LAB: end" not in text:
        text, source = serial, "serial"  # the guest did not get to write its disk
    with open(os.path.join(rundir, "results.log"), "w") as f:
        f.write(text)
    os.unlink(outdisk)
    r = parse_result(text)
    r["source"] = source
    r["wall_s"] = wall
    r["qemu_timeout"] = timed_out
    r["qemu_rc"] = p.returncode
    r["host_peak_mib"] = cg.peak_mib()
    r["scenario"] = scenario
    r["defender"] = defender
    r["rundir"] = rundir
    with open(os.path.join(rundir, "run.json"), "w") as f:
        json.dump({k: r[k] for k in ("wall_s", "qemu_timeout", "qemu_rc", "host_peak_mib",
                                     "scenario", "defender", "source")}, f)
    return r


def load_run(rundir):
    """A run's result from its saved logs (--reanalyse)."""
    path = os.path.join(rundir, "results.log")
    if not os.path.exists(path):
        path = os.path.join(rundir, "result.log")
    r = parse_result(open(path, errors="replace").read())
    r.update(json.load(open(os.path.join(rundir, "run.json"))))
    r["rundir"] = rundir
    return r


KV = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def kv(line):
    out = {}
    for k, v in KV.findall(line):
        if v.startswith('"'):
            v = v[1:-1]
        out[k] = v
    return out


def parse_result(text):
    r = {"procs": [], "deaths": [], "kmsg": [], "defender_log": [], "errors": [], "raw": text}
    for line in text.splitlines():
        if not line.startswith("LAB: "):
            continue
        body = line[5:]
        word, _, rest = body.partition(" ")
        if word == "result":
            r["result"] = kv(rest)
        elif word == "begin":
            r["begin"] = kv(rest)
        elif word == "boot":
            r["boot"] = kv(rest)
        elif word == "proc":
            r["procs"].append(kv(rest))
        elif word == "death":
            r["deaths"].append(kv(rest))
        elif word == "kmsg":
            r["kmsg"].append(rest)
        elif word == "defender-log":
            r["defender_log"].append(rest)
        elif word == "defender-rss-kib":
            r["defender_rss_kib"] = rest.strip()
        elif word == "end":
            r["end"] = kv(rest)
        elif word == "cross":
            r["cross"] = kv(rest)
        elif word in ("error:", "driver-err"):
            r["errors"].append(rest)
        elif word == "cgroup-events":
            r["cgroup_events"] = rest
    return r


# --------------------------------------------------------------------------- analysis

def num(d, k, default=None):
    try:
        return float(d.get(k))
    except (TypeError, ValueError):
        return default


TS = re.compile(r"^\[\s*(\d+\.\d+)\]")
# ORK's tag: "ork[PID]: " (and "ork: " from ORK before issue 16).
ORK_TAG = re.compile(r"ork(?:\[\d+\])?: ")


def ork_line(line):
    """The line from ORK's tag on, or None when it is not an ORK line."""
    m = ORK_TAG.search(line)
    return line[m.start():] if m else None


def ork_body(line):
    """The key=value part of an ORK line (after its tag), or None."""
    m = ORK_TAG.search(line)
    return line[m.end():] if m else None


def kmsg_time(line):
    m = TS.match(line)
    return float(m.group(1)) if m else None


def killers(r):
    """pid -> (who killed it, kernel-log time of the kill or None).

    'kernel': its 'Killed process' line; 'ork': its event=kill line (kernel log, or its
    stderr mirror when /dev/kmsg rate-limited it); 'earlyoom': its 'sending SIG' line."""
    who = {}
    t_hard = None
    for line in r["kmsg"]:
        m = re.search(r"Killed process (\d+)", line)
        if m:
            who[m.group(1)] = ("kernel", kmsg_time(line))
        body = ork_body(line)
        if body is not None and "event=pressure" in body and "level=hard" in body:
            t_hard = kmsg_time(line)
        if body is not None and body.startswith("event=kill "):
            d = kv(body)
            if d.get("pid") and d.get("dry_run", "0") == "0":
                # ORK writes its kill line after process_mrelease, which can take 100 ms
                # of TCG time: the signal went at the sample that saw the hard level (its
                # pressure line) + latency_us.
                t = kmsg_time(line)
                lat = num(d, "latency_us")
                if t is not None and t_hard is not None and lat is not None:
                    t = min(t, t_hard + lat / 1e6)
                who.setdefault(d["pid"], ("ork", t))
            t_hard = None
    for line in r["defender_log"]:
        body = ork_body(line)
        if body is not None and body.startswith("event=kill "):
            d = kv(body)
            if d.get("pid") and d.get("dry_run", "0") == "0":
                who.setdefault(d["pid"], ("ork", None))
        m = re.search(r"sending SIG\w+ to process (\d+)", line)
        if m:
            who.setdefault(m.group(1), ("earlyoom", None))
    return who


def group_kill_ms(r, who, t_death):
    """True when ORK killed a group (members > 1) whose leader (the first member, the
    line's pid) died within 1 s of t_death, before or after, or after it while ORK was
    still signalling the group (it signals the members one after the other and writes
    its line when done: up to the line's distance from its hard-pressure line): the
    process was one of its members."""
    leaders = {}  # pid -> how long after the leader's death a member may die, ms
    t_hard = None
    for line in r["kmsg"]:
        body = ork_body(line)
        if body is None:
            continue
        if "event=pressure" in body and "level=hard" in body:
            t_hard = kmsg_time(line)
        elif body.startswith("event=kill "):
            d = kv(body)
            t = kmsg_time(line)
            if int(num(d, "members", 1)) > 1:
                spread = (t - t_hard) * 1000 if t is not None and t_hard is not None else 0
                leaders[d.get("pid")] = 1000 + max(0.0, spread)
            t_hard = None
    for line in r["defender_log"]:
        body = ork_body(line)
        if body is not None and body.startswith("event=kill "):
            d = kv(body)
            if int(num(d, "members", 1)) > 1:
                leaders.setdefault(d.get("pid"), 1000)
    for p in r["procs"]:
        if p.get("pid") in leaders and p.get("died") == "1":
            t = num(p, "t_death_ms", -1)
            if t >= 0 and -1000 <= t_death - t <= leaders[p["pid"]]:
                return True
    return False


def ork_gaps(r):
    """ORK's own delay from its hard-pressure line to its kill line (kernel log times)."""
    gaps, t_hard = [], None
    for line in r["kmsg"]:
        if ork_body(line) is None:
            continue
        if "event=pressure" in line and "level=hard" in line:
            t_hard = kmsg_time(line)
        elif "event=kill" in line and t_hard is not None and kmsg_time(line) is not None:
            gaps.append((kmsg_time(line) - t_hard) * 1000)
            t_hard = None
    return gaps


def analyse(r):
    """Adds the table's figures and the verdict to a run result."""
    res = r.get("result")
    a = {"ok": False, "problems": []}
    r["a"] = a
    if not res:
        a["problems"].append("no result (guest failed" + (", timed out" if r["qemu_timeout"] else "") + ")")
        a["died"] = "?"
        return r
    who = killers(r)
    cross_ts = None
    for line in r["kmsg"]:
        if "lab: cross" in line:
            cross_ts = kmsg_time(line)
    t_cross = num(res, "t_cross_ms", -1)
    died = []
    kill_ms = []  # cross-to-kill of every death in the scenario
    for p in r["procs"]:
        if p.get("died") != "1":
            continue
        sig = p.get("status", "")
        m = re.match(r"signal:(\d+)", sig)
        sig = {"9": "KILL", "15": "TERM"}.get(m.group(1), m.group(1)) if m else sig
        tag = {"victim": "", "either": "either "}.get(p["role"], "INNOCENT ")
        by, ts = who.get(p["pid"], ("?", None))
        if by == "?" and group_kill_ms(r, who, num(p, "t_death_ms", -1)):
            by = "ork"  # a member of a process group/tree ORK killed as one
        died.append(f"{tag}{p['name']}[{sig},{by}]")
        t_term = num(p, "t_term_ms", -1)
        exit_ms = num(p, "t_death_ms") - t_cross
        if t_cross < 0:
            if ts is not None or t_term >= 0:
                kill_ms.append(-1.0)  # killed, and the threshold was never crossed
        elif ts is not None and cross_ts is not None:
            kill_ms.append(min((ts - cross_ts) * 1000, exit_ms))  # no kill after the exit
        elif t_term >= 0:
            kill_ms.append(t_term - t_cross)
        else:
            kill_ms.append(exit_ms)  # not known: its exit
    a["kill_ms"] = min(kill_ms) if kill_ms else None
    a["died"] = ", ".join(collapse(died)) if died else "none"
    a["oom_kills"] = int(num(res, "oom_kills", -1))
    a["victims_died"] = int(num(res, "victims_died", 0))
    a["innocents_died"] = int(num(res, "innocents_died", 0))
    a["expect_kill"] = res.get("expect_kill") == "1"
    a["overshoot"] = num(res, "overshoot_mib")
    a["latency"] = num(res, "latency_ms")  # cross to the first exit
    a["min_avail"] = num(res, "min_avail_mib")
    a["crossed"] = res.get("crossed") == "1"
    a["ork_lines"] = [l for l in r["defender_log"] if ORK_TAG.match(l)] or \
        [ork_line(l) for l in r["kmsg"] if ork_line(l) is not None]
    if a["oom_kills"] != 0:
        a["problems"].append(f"{a['oom_kills']} kernel OOM kill(s)")
    if a["expect_kill"] and a["victims_died"] == 0:
        a["problems"].append("the expected victim did not die")
    if a["innocents_died"]:
        a["problems"].append(f"{a['innocents_died']} innocent(s) died")
    if res.get("defender_alive") == "0":
        a["problems"].append("the defender died")
    if res.get("timed_out") == "1":
        a["problems"].append("scenario timed out")
    a["ok"] = not a["problems"]
    return r


def collapse(items):
    """The same entry n times, once with ×n (a burst of 20 alike children), in order."""
    counts = {}
    for i in items:
        counts[i] = counts.get(i, 0) + 1
    return [f"{i} ×{n}" if n > 1 else i for i, n in counts.items()]


def spread(r):
    """The victims' deaths after the first (a group ORK signals member after member):
    (ms from the first to the last, MiB the culprits allocated meanwhile), or None."""
    res = r.get("result") or {}
    t1, t2 = num(res, "t_first_death_ms", -1), num(res, "t_last_victim_death_ms", -1)
    m1, m2 = num(res, "culprit_at_death_mib", -1), num(res, "culprit_at_last_death_mib", -1)
    if t1 < 0 or t2 <= t1 or m1 < 0 or m2 < 0:
        return None
    return t2 - t1, max(0.0, m2 - m1)


def fmt(v, spec="{:.1f}", none="–"):
    return none if v is None or v < 0 else spec.format(v)


def table(results):
    head = ("| # | scenario | defender | kernel OOM kills | died [signal,by] | overshoot MiB | "
            "min avail MiB | cross→kill ms | cross→exit ms | verdict |")
    lines = [head, "|---|---|---|---:|---|---:|---:|---:|---:|---|"]
    for r in results:
        a = r["a"]
        over = a.get("overshoot")
        crossed = a.get("crossed")
        kill = a.get("kill_ms")
        if kill is None:
            kill_s = "–"
        elif not crossed:
            kill_s = "before"
        else:
            kill_s = f"{kill:.0f}"  # < 0: before the driver's sample saw the crossing
        gone_s = fmt(a.get("latency"), "{:.0f}") if crossed else ("before" if kill is not None else "–")
        if not a.get("expect_kill", True) and not crossed and over is None:
            over_s = "n/a"
        else:
            over_s = fmt(over)
        verdict = "ok" if a["ok"] else "FAIL: " + "; ".join(a["problems"])
        res = r.get("result") or {}
        if r.get("retried"):
            verdict += " (guest run twice: the first gave no result)"
        if not a.get("expect_kill", True) and res:
            verdict += (f" (MemFree down to {fmt(num(res, 'min_free_mib'))} MiB, "
                        f"cache up to {fmt(num(res, 'max_cache_mib'))} MiB)")
        lines.append(f"| {r['scenario']} | {SCENARIOS[r['scenario']]} | {r['defender']} | "
                     f"{a.get('oom_kills', '?')} | {a['died'].replace('|', '/')} | {over_s} | "
                     f"{fmt(a.get('min_avail'))} | {kill_s} | {gone_s} | {verdict} |")
    return "\n".join(lines)


def goals(results):
    """The issue's targets for ORK, checked across the run (shown, not asserted)."""
    ork = [r for r in results if r["defender"] == "ork"]
    if not ork:
        return []
    out = []
    kills = sum(max(r["a"].get("oom_kills", 0), 0) for r in ork)
    out.append(f"- kernel OOM kills with ORK: {kills} (target 0)")
    victim = [r for r in ork if r["a"].get("expect_kill")]
    right = sum(1 for r in victim if r["a"].get("victims_died", 0) > 0)
    out.append(f"- expected victim killed: {right} of {len(victim)} scenarios (target all)")
    inn = sum(r["a"].get("innocents_died", 0) for r in ork)
    out.append(f"- innocents killed: {inn} (target 0)")
    for r in ork:
        if not r["a"].get("expect_kill", True):
            n = r["a"].get("victims_died", 0) + r["a"].get("innocents_died", 0)
            out.append(f"- scenario {r['scenario']} (nothing may be killed): {n} killed (target 0)")
    eo = {r["scenario"]: r for r in results if r["defender"] == "earlyoom"}
    for r in victim:
        e = eo.get(r["scenario"])
        o = r["a"].get("overshoot")
        if not e or o is None:
            continue
        eov = e["a"].get("overshoot")
        if eov is None or eov < 0:
            out.append(f"- scenario {r['scenario']} overshoot: ORK {o:.1f} MiB, earlyoom did not kill")
            continue
        if eov == 0:
            mark = "meets (both 0)" if o == 0 else "MISSES: earlyoom's is 0"
            out.append(f"- scenario {r['scenario']} overshoot: ORK {o:.1f} MiB vs earlyoom 0.0 MiB ({mark})")
            continue
        ratio = o / eov
        mark = "meets" if ratio <= 0.25 else "MISSES"
        out.append(f"- scenario {r['scenario']} overshoot: ORK {o:.1f} MiB vs earlyoom {eov:.1f} MiB "
                   f"= {ratio:.2f} ({mark} the ≤ 0.25 target)")
    return out


def machine():
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return f"`{os.uname().sysname} {os.uname().release} {os.uname().machine}`, {os.cpu_count()} cores, {mem}"


def write_results(path, results, args, meta):
    ork_lines = []
    for r in results:
        if r["defender"] == "ork" and r["a"].get("ork_lines"):
            gaps = ork_gaps(r)
            gap_s = (f" — from ORK's hard-pressure line to its kill line (which it writes after "
                     f"process_mrelease): {', '.join(f'{g:.0f}' for g in gaps)} ms") if gaps else ""
            sp = spread(r)
            if sp:
                gap_s += (f"; the victims died over {sp[0]:.0f} ms from the first to the last, "
                          f"the culprits allocating {sp[1]:.1f} MiB more meanwhile")
            ork_lines.append(f"**Scenario {r['scenario']}** ({SCENARIOS[r['scenario']]}){gap_s}:\n")
            ork_lines.append("```")
            ork_lines.extend(r["a"]["ork_lines"][:12])
            ork_lines.append("```\n")
    g = goals(results)
    rss = []
    for d in ("earlyoom", "ork"):
        v = [int(r["defender_rss_kib"]) for r in results
             if r["defender"] == d and str(r.get("defender_rss_kib", "")).isdigit()]
        if v:
            rss.append(f"{d} {min(v)}–{max(v)} KiB")
    rss_s = ("- peak RSS (VmHWM) of the defender in the guest: " + ", ".join(rss)) if rss else ""
    peaks = [r.get("host_peak_mib", -1) for r in results if r.get("host_peak_mib", -1) > 0]
    if peaks:
        rss_s += (f"\n- QEMU's peak memory on the host (its cgroup, limit {args.mem + 768} MiB; includes the "
                  f"host's reclaimable page cache of the disk image): {min(peaks):.0f}–{max(peaks):.0f} MiB")
    text = f"""# Lab results

Written by `lab/run.sh` (see [lab.md](lab.md) for what each scenario does and how the
figures are measured).

- date: {meta['date']}
- host: {meta['machine']}; `uname -a`: `{meta['uname']}`
- guest: {meta['kernel']} ({meta['boot_mode']}), {args.mem} MiB, {args.smp} vCPU(s), QEMU {meta['accel']}; {meta['ork']}; {meta['earlyoom']}
- threshold: {meta['threshold']:g} % of MemTotal (ORK's compiled-in `hard_percent`; earlyoom `-m {meta['threshold']:g}`); scenario 9: {args.cgroup_mib} MiB `memory.max`
- duration: {meta['duration_s']:.0f} s for {len(results)} guest runs, one after the other (QEMU start to power-off {meta['boot']})

{table(results)}

## ORK against the issue's targets

{chr(10).join(g) if g else "(ORK did not run)"}
{rss_s}

## ORK's journal lines

{chr(10).join(ork_lines) if ork_lines else "(none)"}
"""
    # Sections recorded by other runs (the I/O tests of the test guest) are kept: they
    # start at KEPT_FROM and run to the end of the file.
    try:
        old = open(path).read()
        at = old.find(KEPT_FROM)
        if at >= 0:
            text = text.rstrip("\n") + "\n\n" + old[at + 1:]
    except OSError:
        pass
    with open(path, "w") as f:
        f.write(text)


KEPT_FROM = "\n## I/O\n"

# --------------------------------------------------------------------------- main

def ork_threshold(ork):
    """ORK's compiled-in hard threshold (% of MemTotal), asked from the binary."""
    for cmd in ([ork, "check-config", "--defaults"], [ork, "daemon", "--help"], [ork, "--help"]):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            continue
        text = out.stdout + out.stderr
        m = re.search(r"hard_percent\D{0,40}?(\d+(?:\.\d+)?)", text)
        if m:
            return float(m.group(1))
    return None


def run_all(args, build, scenarios, defenders):
    """Runs every scenario under every defender, one guest each."""
    if os.geteuid() != 0:
        raise LabUnavailable("the lab needs root (cgroups for QEMU)")
    if not shutil.which(args.qemu):
        raise LabUnavailable(f"{args.qemu} not found (scripts/deps.sh lab installs it)")
    if not args.kvm and os.environ.get("ORK_LAB_KVM") == "1":
        args.kvm = True
    labkit = os.path.join(build, "lab", "labkit")
    if not os.path.exists(labkit):
        raise LabUnavailable(f"{labkit} not built")
    ork = os.path.join(build, "ork")
    if not os.path.exists(ork):
        if "ork" in defenders:
            raise LabUnavailable(f"{ork} not built")
        ork = None
    if "earlyoom" in defenders and not shutil.which("earlyoom"):
        raise LabUnavailable("earlyoom not installed")

    threshold = args.threshold
    if threshold is None and ork:
        threshold = ork_threshold(ork)
    if threshold is None:
        threshold = 5.0
        log("ORK's hard_percent unknown: using 5 % (ORK's documented default)")

    cache = os.path.join(build, "lab-cache")
    vmlinuz, modules = fetch_kernel(cache)
    boot_kernel = vmlinuz if args.no_pvh else (pvh_vmlinux(vmlinuz) or vmlinuz)
    initrd = build_initramfs(build, modules, ork, os.path.join(build, "lab-guest", "initrd.cpio.gz"))
    disk = os.path.join(cache, "disk.img")
    if not os.path.exists(disk) or os.path.getsize(disk) != 1 << 30:
        with open(disk, "wb") as f:
            f.truncate(1 << 30)  # sparse: reads are zeros, cheap for the host
    log(f"kernel {os.path.basename(boot_kernel)}, initramfs {os.path.getsize(initrd) >> 10} KiB, "
        f"threshold {threshold:g} %, {len(scenarios)} scenario(s) x {defenders}")

    cg = HostCgroup(args.mem + 768)
    results = []
    t0 = time.monotonic()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        for s in scenarios:
            for d in defenders:
                rundir = os.path.join(build, "lab-runs-smoke" if args.smoke else "lab-runs", f"s{s}-{d}")
                r = analyse(run_guest(args, cg, boot_kernel, initrd, disk, s, d, threshold, rundir))
                if not r.get("result"):
                    # a guest that produced no result at all (not a defender's failure):
                    # once more, and say so
                    log(f"scenario {s} {d}: no result from the guest "
                        f"(rc {r['qemu_rc']}, {r['wall_s']:.0f} s): running it again")
                    r = analyse(run_guest(args, cg, boot_kernel, initrd, disk, s, d, threshold, rundir))
                    r["retried"] = True
                a = r["a"]
                boot = num(r.get("boot", {}), "uptime", -1)
                log(f"scenario {s} {d}: {'ok' if a['ok'] else 'FAIL ' + '; '.join(a['problems'])}"
                    f" | died: {a['died']} | oom_kills={a.get('oom_kills', '?')} "
                    f"overshoot={fmt(a.get('overshoot'))} MiB kill={fmt(a.get('kill_ms'), '{:.0f}')} ms "
                    f"exit={fmt(a.get('latency'), '{:.0f}')} ms"
                    f" | guest {r['wall_s']:.1f} s (init at {boot:.1f} s uptime)")
                results.append(r)
    finally:
        cg.close()
    duration = time.monotonic() - t0
    return results, duration, threshold, vmlinuz, ork


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--smoke", action="store_true", help="scenarios 1,2,7 under ORK, with assertions")
    ap.add_argument("--scenarios", default=None)
    ap.add_argument("--defenders", default=None)
    ap.add_argument("--threshold", type=float, default=None, help="override ORK's hard_percent")
    ap.add_argument("--mem", type=int, default=512, help="guest memory, MiB")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--cgroup-mib", type=int, default=160, help="scenario 9's memory.max")
    ap.add_argument("--tb-mib", type=int, default=128, help="TCG translation buffer, MiB")
    ap.add_argument("--guest-timeout", type=int, default=180)
    ap.add_argument("--results", default=None, help="write the results page here")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--kvm", action="store_true", help="use KVM instead of TCG")
    ap.add_argument("--loglevel", type=int, default=1,
                    help="guest console loglevel (console.log); 1 keeps the console quiet")
    ap.add_argument("--no-pvh", action="store_true",
                    help="boot the compressed bzImage, not the extracted vmlinux (PVH)")
    ap.add_argument("--reanalyse", action="store_true",
                    help="no guests: rebuild the table from the logs of the last runs")
    args = ap.parse_args()

    build = os.path.abspath(args.build_dir)
    scenarios = [1, 2, 7] if args.smoke else sorted(SCENARIOS)
    defenders = ["ork"] if args.smoke else list(DEFENDERS)
    if args.scenarios:
        scenarios = [int(s) for s in args.scenarios.split(",")]
    if args.defenders:
        defenders = args.defenders.split(",")
    full = not args.smoke and not args.scenarios and not args.defenders
    results_path = args.results or (os.path.join(TOP, "docs", "lab-results.md") if full else None)

    if args.reanalyse:
        results = []
        for sc in scenarios:
            for d in defenders:
                rundir = os.path.join(build, "lab-runs-smoke" if args.smoke else "lab-runs", f"s{sc}-{d}")
                if os.path.exists(os.path.join(rundir, "run.json")):
                    results.append(analyse(load_run(rundir)))
        if not results:
            raise LabUnavailable("no saved runs to reanalyse")
        duration = sum(r["wall_s"] for r in results)
        threshold = num(results[0].get("begin", {}), "threshold_pct", 5.0)
        vmlinuz = "vmlinuz-" + results[0].get("boot", {}).get("kernel", "?")
        ork = os.path.join(build, "ork")
        ork = ork if os.path.exists(ork) else None
    else:
        results, duration, threshold, vmlinuz, ork = run_all(args, build, scenarios, defenders)

    print()
    print(table(results))
    g = goals(results)
    if g:
        print()
        print("\n".join(g))
    walls = [r["wall_s"] for r in results]
    boots = [num(r.get("boot", {}), "uptime", 0) for r in results]
    print(f"\n{len(results)} guest run(s) in {duration:.0f} s "
          f"(per run {min(walls):.1f}–{max(walls):.1f} s; guest init reached at "
          f"{min(boots):.1f}–{max(boots):.1f} s uptime)")

    if results_path:
        meta = {
            "date": (datetime.datetime.fromtimestamp(max(
                os.path.getmtime(os.path.join(r["rundir"], "run.json")) for r in results))
                     if args.reanalyse else datetime.datetime.now()).strftime("%Y-%m-%d %H:%M").strip(),
            "machine": machine(),
            "uname": subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip(),
            "kernel": os.path.basename(vmlinuz).replace("vmlinux-pvh-", "vmlinuz-"),
            "boot_mode": "bzImage" if args.no_pvh else "booted as the extracted vmlinux, PVH",
            "accel": "KVM" if args.kvm else "TCG",
            "ork": subprocess.run([ork, "--version"], capture_output=True, text=True).stdout.strip()
            if ork else "(not built)",
            "earlyoom": subprocess.run(["earlyoom", "-v"], capture_output=True, text=True).stdout.strip()
            + subprocess.run(["earlyoom", "-v"], capture_output=True, text=True).stderr.strip(),
            "threshold": threshold,
            "duration_s": duration,
            "boot": f"{min(walls):.1f}–{max(walls):.1f} s per run",
        }
        write_results(results_path, results, args, meta)
        log(f"wrote {results_path}")

    if args.smoke:
        bad = [r for r in results if not r["a"]["ok"]]
        for r in bad:
            log(f"smoke FAILED: scenario {r['scenario']} {r['defender']}: {'; '.join(r['a']['problems'])}"
                f" (logs in {r['rundir']})")
        print(f"lab smoke: {len(results) - len(bad)} passed, {len(bad)} failed")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LabUnavailable as e:
        ci = os.environ.get("CI", "").lower() == "true"
        log(f"{'FAIL' if ci else 'SKIP'}: {e}")
        sys.exit(1 if ci else SKIP)
    except KeyboardInterrupt as e:
        log(f"interrupted ({e})")
        sys.exit(130)
