#!/usr/bin/env python3
"""The integration tests on a pure cgroup v2 kernel (docs/lab.md).

Boots the lab's guest (Debian's stock kernel, a busybox initramfs, QEMU TCG inside a
memory cgroup made here) with ONLY cgroup2 mounted at /sys/fs/cgroup and the memory,
cpu and io controllers enabled, runs the integration test binaries of the areas in
TESTS (memory, cpu, freezer, io, recorder, watchdog, network) and the CLI tests in it
with CI=true, and reads their output back from the guest's results disk (the serial
port as fallback).

The test binaries (dynamically linked: gtest, libstdc++) go into the initramfs with the
libraries `ldd` names, at the same absolute paths as on the host, as do ork and the
test tools (TOOLS) and the host programs the tests run (HOST_PROGRAMS): the tests find
them by the paths compiled into them.

Exit codes: 0 every test binary passed and tests ran; 1 a failure (a test failed, a
binary did not report, none ran, a skip); 77 it cannot run here (not root, no QEMU, no
kernel) and CI is not "true" (with CI=true: 1).
"""
import argparse
import os
import re
import shlex
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lab  # noqa: E402  (the lab's kernel, initramfs and QEMU helpers)

# (name, binary relative to the build directory, gtest filter). Not here: the metrics
# area (it runs Prometheus and promtool, ~95 MiB of Go programs, and python3 for the
# status socket: too much for the initramfs and TCG; nothing in it depends on the cgroup
# version beyond what memory and cli cover) and the VM areas (libvirtd and QEMU inside
# the guest). Filtered out in the
# guest: FreezerTest.RealQemuFoundByUuidFreezesAndThaws (needs qemu-system-x86_64 in
# the guest; it runs on the host) and CliFiles.TheUnitDoesNotRestartOnABadConfigAndNames
# ItsDocumentation (it reads packaging/ork.service from the source tree, which the guest
# does not have; nothing in it depends on the kernel; it runs on the host).
TESTS = [
    ("memory", "tests/test_integration_memory", "*"),
    ("cpu", "tests/test_integration_cpu", "*"),
    ("freezer", "tests/test_integration_freezer", "-FreezerTest.RealQemuFoundByUuidFreezesAndThaws"),
    ("cli", "tests/test_cli_cli", "-CliFiles.TheUnitDoesNotRestartOnABadConfigAndNamesItsDocumentation"),
    ("io", "tests/test_integration_io", "*"),
    ("recorder", "tests/test_integration_recorder", "*"),
    ("watchdog", "tests/test_integration_watchdog", "*"),
    ("network", "tests/test_integration_network", "*"),
]
TOOLS = ["ork", "tests/memhog", "tests/cpuburn", "tests/fuseslow", "tests/fusehang", "tests/arpsend"]
# Beside the lab's virtio modules: the I/O tests' slow devices (null_blk, made through
# configfs; loop and fuse for fuseslow where null_blk is missing), the watchdog tests'
# hung FUSE mount (fuse), the network tests' veth pairs, bridge (llc and stp first) and
# keepalived-style VRRP macvlan.
EXTRA_MODULES = ["configfs", "null_blk", "loop", "fuse", "llc", "stp", "bridge", "veth", "macvlan"]
# Host programs the tests run by absolute path, copied to the same paths with their
# libraries: busybox has no `ip netns`, `bridge` or setpriv (the network tests).
HOST_PROGRAMS = ["/usr/sbin/ip", "/usr/sbin/bridge", "/usr/bin/nsenter", "/usr/bin/unshare", "/usr/bin/setpriv",
                 "/bin/bash"]


def log(msg):
    print(f"cgroup2-guest: {msg}", file=sys.stderr, flush=True)


def build_initramfs(build, modules_dir, tests, out):
    root = os.path.join(build, "lab-tests-guest", "root")
    shutil.rmtree(root, ignore_errors=True)
    for d in ["bin", "sbin", "usr/bin", "lib/modules", "proc", "sys", "dev", "tmp", "run", "etc"]:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(busybox):
        raise lab.LabUnavailable("busybox-static is not installed")
    lab.copy_with_libs(busybox, root, "/bin/busybox")
    # Real programs the tests exec under other names (RecheckTest copies them as
    # "libvirtd", "sshd"...): busybox's applets would not answer to those names. The
    # init's `busybox --install -s` leaves existing files alone.
    for prog in ["/bin/dash", "/bin/sleep"]:
        if os.path.exists(prog):
            lab.copy_with_libs(os.path.realpath(prog), root, prog)
    for prog in HOST_PROGRAMS:
        if not os.path.exists(prog):
            raise lab.LabUnavailable(f"{prog} is missing (iproute2, util-linux, bash)")
        lab.copy_with_libs(os.path.realpath(prog), root, prog)
    for rel in TOOLS + [t[1] for t in tests]:
        path = os.path.abspath(os.path.join(build, rel))
        lab.copy_with_libs(path, root, path)  # where the tests look for it
    shutil.copy2(os.path.join(HERE, "guest", "init-tests"), os.path.join(root, "init"))
    os.chmod(os.path.join(root, "init"), 0o755)
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
    with open(os.path.join(root, "etc", "group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")
    with open(os.path.join(root, "etc", "guest-tests"), "w") as f:
        for name, rel, flt in tests:
            f.write(f"{name} {os.path.abspath(os.path.join(build, rel))} {flt}\n")
    order = []
    for m in lab.MODULES + EXTRA_MODULES:
        found = None
        for dirpath, _, files in os.walk(os.path.join(modules_dir, "kernel")):
            if m + ".ko" in files:
                found = os.path.join(dirpath, m + ".ko")
        if found is None:
            continue  # built into the kernel
        shutil.copy2(found, os.path.join(root, "lib", "modules", m + ".ko"))
        order.append(m)
    with open(os.path.join(root, "lib", "modules", "order"), "w") as f:
        f.write("\n".join(order) + "\n")
    cmd = f"cd {shlex.quote(root)} && find . | cpio -o -H newc --quiet | gzip -1 > {shlex.quote(out)}"
    lab.run(["sh", "-c", cmd])
    return out


def run_guest(args, cg, kernel, initrd, rundir):
    os.makedirs(rundir, exist_ok=True)
    console = os.path.join(rundir, "console.log")
    serial = os.path.join(rundir, "serial.log")
    outdisk = os.path.join(rundir, "results.img")
    for f in (console, serial, outdisk):
        if os.path.exists(f):
            os.unlink(f)
    with open(outdisk, "wb") as f:
        f.truncate(16 << 20)
    append = f"console=ttyS0 loglevel={args.loglevel} panic=-1 mitigations=off"
    accel = "kvm" if args.kvm else f"tcg,tb-size={args.tb_mib}"
    cmd = [args.qemu, "-accel", accel, "-cpu", "max", "-m", str(args.mem), "-smp", str(args.smp),
           "-nodefaults", "-nographic", "-no-reboot", "-display", "none", "-monitor", "none",
           "-kernel", kernel, "-initrd", initrd, "-append", append,
           "-serial", f"file:{console}", "-serial", f"file:{serial}",
           "-drive", f"file={outdisk},format=raw,if=virtio"]
    t0 = time.monotonic()
    p = lab.start_qemu(cmd, cg, os.path.join(rundir, "qemu.err"))
    timed_out = lab.wait_qemu(p, args.guest_timeout)
    wall = time.monotonic() - t0
    text = open(outdisk, "rb").read().rstrip(b"\0").decode(errors="replace")
    source = "disk"
    if "GT: end" not in text:
        text = open(serial, errors="replace").read() if os.path.exists(serial) else ""
        source = "serial"
    os.unlink(outdisk)
    with open(os.path.join(rundir, "results.log"), "w") as f:
        f.write(text)
    return text, source, wall, timed_out


def verdict(text, tests):
    """(ok, summary lines): every binary reported rc=0, tests ran, nothing skipped."""
    lines = [l[4:] for l in text.splitlines() if l.startswith("GT: ")]
    results = {}
    for l in lines:
        m = re.match(r"result name=(\S+) rc=(-?\d+) seconds=(\S+)", l)
        if m:
            results[m.group(1)] = (int(m.group(2)), m.group(3))
    ok = True
    summary = []
    passed_total = 0
    for name, rel, flt in tests:
        # this binary's own output: between the previous result line and its own
        passed = failed = skipped = 0
        block, cur = [], []
        for l in lines:
            if l.startswith("result name="):
                if l.startswith(f"result name={name} "):
                    block = cur
                    break
                cur = []
            else:
                cur.append(l)
        for l in block:
            m = re.match(r"\[  PASSED  \] (\d+) test", l)
            if m:
                passed = int(m.group(1))
            m = re.match(r"\[  FAILED  \] (\d+) test", l)
            if m:
                failed = int(m.group(1))
            m = re.match(r"\[  SKIPPED \] (\d+) test", l)
            if m:
                skipped = int(m.group(1))
        passed_total += passed
        if name not in results:
            ok = False
            summary.append(f"{name:8s} NO RESULT (the guest did not finish it)")
            continue
        rc, secs = results[name]
        bad = rc != 0 or failed or skipped or passed == 0
        ok = ok and not bad
        summary.append(f"{name:8s} {'FAIL' if bad else 'ok  '} rc={rc} passed={passed} failed={failed} "
                       f"skipped={skipped} {float(secs):.1f} s  ({rel} --gtest_filter={flt})")
        for l in block:
            if bad and (l.startswith("[  FAILED  ]") or "Failure" in l or "required in CI" in l):
                summary.append(f"         {l}")
    if passed_total == 0:
        ok = False
        summary.append("no test ran")
    return ok, summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--only", default=None, help="comma-separated areas (memory,cpu,freezer,cli,io,recorder,watchdog,network)")
    ap.add_argument("--filter", default=None, help="a gtest filter for every selected area")
    ap.add_argument("--mem", type=int, default=1024, help="guest memory, MiB")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--tb-mib", type=int, default=128)
    ap.add_argument("--guest-timeout", type=int, default=540)
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--kvm", action="store_true", default=os.environ.get("ORK_LAB_KVM") == "1")
    ap.add_argument("--loglevel", type=int, default=1)
    args = ap.parse_args()
    build = os.path.abspath(args.build_dir)
    tests = TESTS
    if args.only:
        want = args.only.split(",")
        tests = [t for t in TESTS if t[0] in want]
    if args.filter:
        tests = [(n, r, args.filter) for n, r, _ in tests]
    t_start = time.monotonic()
    try:
        if os.geteuid() != 0:
            raise lab.LabUnavailable("needs root (a memory cgroup for QEMU)")
        if not shutil.which(args.qemu):
            raise lab.LabUnavailable(f"{args.qemu} is missing")
        missing = [r for r in TOOLS + [t[1] for t in tests] if not os.path.exists(os.path.join(build, r))]
        if missing:
            log(f"FAIL: not built in {build}: {' '.join(missing)}")
            return 1
        vmlinuz, modules = lab.fetch_kernel(os.path.join(build, "lab-cache"))
        kernel = (None if args.kvm else lab.pvh_vmlinux(vmlinuz)) or vmlinuz
        rundir = os.path.join(build, "lab-tests-guest")
        os.makedirs(rundir, exist_ok=True)
        initrd = build_initramfs(build, modules, tests, os.path.join(rundir, "initrd.gz"))
        log(f"kernel {os.path.basename(vmlinuz)}, initramfs {os.path.getsize(initrd) >> 20} MiB, "
            f"{args.mem} MiB, {args.smp} vCPUs, {'KVM' if args.kvm else 'TCG'}")
        cg = lab.HostCgroup(args.mem + 768)
    except lab.LabUnavailable as e:
        if os.environ.get("CI") == "true":
            log(f"FAIL: {e}")
            return 1
        log(f"SKIP: {e}")
        return lab.SKIP
    try:
        text, source, wall, timed_out = run_guest(args, cg, kernel, initrd, rundir)
    finally:
        cg.close()
    for l in text.splitlines():
        if l.startswith("GT: "):
            print(l[4:])
    ok, summary = verdict(text, tests)
    print("\n== integration tests on pure cgroup v2 (guest) ==")
    for l in summary:
        print(l)
    print(f"guest wall time {wall:.1f} s (results from the {source}){', TIMED OUT' if timed_out else ''}; "
          f"total {time.monotonic() - t_start:.1f} s; logs in {rundir}")
    if timed_out:
        ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
