// Writes the seed corpora of the fuzzers: SEEDS_DIR/<fuzzer>/<name>, one directory per
// tests/fuzz/<Name>Fuzz.cpp (named in snake case, e.g. proc_stat_cpu). The seeds are the
// unit tests' real samples (unit/parse/Samples.h, unit/cpu/StatSamples.h), the
// fixtures (tests/fixtures/: qemu command lines, libvirt's test node with nova
// metadata) and the TOML examples of docs/, so that the fuzzers start from what the
// parsers really read.
// Usage: ork_fuzz_seeds SEEDS_DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>

#include "ork/config/Config.h"
#include "ork/parse/VirtProtocol.h"
#include "unit/cpu/StatSamples.h"
#include "unit/io/IoSamples.h"
#include "unit/parse/Samples.h"
#include "unit/net/Frames.h"

namespace {

namespace fs = std::filesystem;
using namespace std::string_view_literals;
namespace samples = ork::parse::samples;

class Seeds {
 public:
  explicit Seeds(fs::path root) : root_(std::move(root)) {}

  void add(std::string_view fuzzer, std::string_view name, std::string_view bytes) {
    const fs::path dir = root_ / fuzzer;
    fs::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "ork_fuzz_seeds: cannot write %s\n", (dir / name).c_str());
      failed_ = true;
    }
  }
  // The same seed behind a steer byte (the first byte of the fuzzers that take one).
  void addSteered(std::string_view fuzzer, std::string_view name, char steer,
                  std::string_view bytes) {
    add(fuzzer, name, std::string(1, steer) + std::string(bytes));
  }
  bool failed() const { return failed_; }

 private:
  fs::path root_;
  bool failed_ = false;
};

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A qemu fixture as /proc/PID/cmdline bytes: *.cmdline are verbatim, *.args hold one
// argument per line.
std::string qemuCmdline(const fs::path& path) {
  std::string text = readFile(path);
  if (path.extension() != ".args") return text;
  std::string raw;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    raw += line;
    raw += '\0';
  }
  return raw;
}

void parsers(Seeds& s) {
  s.add("meminfo", "meminfo", samples::kMeminfo);
  s.add("proc_stat", "self", samples::kSelfStat);
  s.add("proc_stat", "kworker", samples::kKworkerStat);
  s.add("proc_stat", "kthreadd", samples::kKthreaddStat);
  s.add("proc_stat", "zombie", samples::kZombieStat);
  s.add("proc_status", "self", samples::kSelfStatus);
  s.add("proc_status", "kthreadd", samples::kKthreaddStatus);
  s.add("proc_status", "zombie", samples::kZombieStatus);
  s.add("proc_status", "old-kernel-user", samples::kOldKernelUserStatus);
  s.add("proc_status", "old-kernel-kthread", samples::kOldKernelKthreadStatus);
  s.add("proc_cgroup", "hybrid", samples::kHybridCgroup);
  s.add("proc_cgroup", "libvirt-v1-v2",
        "12:freezer:/machine/a\n4:cpu,cpuacct:/machine/a/emulator\n1:name=systemd:/x\n"
        "0::/machine.slice/x:y\n"sv);
  s.add("psi", "memory", samples::kPressureMemory);
  s.add("psi", "cpu", samples::kPressureCpu);
  s.add("cgroup_files", "v1-memory.stat", samples::kV1MemoryStat);
  s.add("cgroup_files", "v1-oom_control", samples::kV1OomControl);
  s.add("cgroup_files", "v1-limit_in_bytes", samples::kV1LimitInBytes);
  s.add("cgroup_files", "v2-memory.stat", samples::kV2MemoryStat);
  s.add("cgroup_files", "v2-memory.events", samples::kV2MemoryEvents);
  s.add("cgroup_files", "v2-memory.max", "max\n"sv);
  s.add("cgroup_files", "memory.current", "123363328\n"sv);
  s.add("cgroup_files", "oom_score_adj", "-1000\n"sv);
  s.add("arcstats", "arcstats", samples::kArcstats);
  s.addSteered("disk_mounts", "mountinfo", 0, samples::kDiskMountinfo);
  s.addSteered("disk_mounts", "io", 1, samples::kProcIo);
  s.addSteered("disk_mounts", "io-idle", 1, samples::kProcIoIdle);
  s.addSteered("disk_mounts", "fdinfo-write", 2, samples::kFdinfoWrite);
  s.addSteered("disk_mounts", "fdinfo-append", 2, samples::kFdinfoAppend);
  s.addSteered("disk_mounts", "escaped-field", 3, "/srv/logs\\040copy\\011tab\\134back\\777\\04"sv);
  // The I/O ladder's parsers (parse/Io.h).
  s.addSteered("io_stats", "diskstats", 0, samples::kDiskstats);
  s.addSteered("io_stats", "diskstats-old", 0, samples::kDiskstatsOld);
  s.addSteered("io_stats", "io-stat", 1, samples::kIoStat);
  s.addSteered("io_stats", "blkio-bytes", 2, samples::kBlkioBytes);
  s.addSteered("io_stats", "blkio-ios", 3, samples::kBlkioIos);
  s.addSteered("passwd", "uid0", 0, samples::kPasswd);
  s.addSteered("passwd", "uid1", 1, samples::kPasswd);
  s.addSteered("passwd", "nobody", static_cast<char>(0xf0), samples::kPasswd);
  s.add("uptime", "real", "350735.47 234388.90\n"sv);
  s.add("uptime", "short", "0.01 0.00\n"sv);
  s.add("uptime", "nan", "nan nan\n"sv);
  s.add("proc_stat_cpu", "reading1", samples::kProcStat1);
  s.add("proc_stat_cpu", "reading2", samples::kProcStat2);
}

void qemu(Seeds& s, const fs::path& fixtures) {
  for (const auto& entry : fs::directory_iterator(fixtures / "qemu")) {
    const std::string raw = qemuCmdline(entry.path());
    const std::string name = entry.path().filename();
    s.add("qemu_cmdline", name, raw);
    s.addSteered("cmdline", name, 39, raw);
  }
  s.addSteered("cmdline", "short", 8, "sleep\0" "1000\0"sv);
  for (std::string_view size : {"512"sv, "524288k"sv, "1.5G"sv, "0x100"sv, "2048M"sv, "8E"sv}) {
    s.addSteered("qemu_values", "size-" + std::string(size), 1, size);
  }
  s.addSteered("qemu_values", "uuid", 0, "5F1C0D2E-3B4A-4C5D-8E9F-0A1B2C3D4E5F"sv);
}

void virt(Seeds& s, const fs::path& fixtures) {
  using namespace ork::parse;
  s.add("virt_protocol", "req-save",
        encodeVirtRequest({7, VirtOp::Save, "6f1e3c2a-5b7d-4e8f-9a0b-1c2d3e4f5a6b", 30000}));
  s.add("virt_protocol", "req-list", encodeVirtRequest({1, VirtOp::List, "", 2000}));
  VirtDomain d;
  d.uuid = "6f1e3c2a-5b7d-4e8f-9a0b-1c2d3e4f5a6b";
  d.name = "instance-0000002a\twith a tab\nand a newline \\ \x01";
  d.state = "running";
  d.id = 3;
  d.memory = ork::Bytes::mib(2048);
  d.maxMemory = ork::Bytes::mib(4096);
  d.vcpus = 2;
  d.cpuNs = 123456789;
  d.novaName = "web-1";
  d.novaProject = "demo";
  d.novaFlavor = "m1.small";
  s.add("virt_protocol", "domain", encodeVirtDomain(1, d));
  s.add("virt_protocol", "reply-ok", encodeVirtReply({1, true, 0, 12, ""}));
  s.add("virt_protocol", "reply-err",
        encodeVirtReply({7, false, kVirtDeadline, 30001, "deadline passed: save aborted"}));
  s.add("nova_metadata", "libvirt-test-node", readFile(fixtures / "libvirt" / "node.xml"));
  s.add("domain_interfaces", "libvirt-test-node", readFile(fixtures / "libvirt" / "node.xml"));
  s.add("domain_interfaces", "live",
        "<domain type='qemu' id='3'><devices><interface type='bridge'><mac address='52:54:00:12:34:56'/>"
        "<source bridge='br0'/><target dev='vnet3'/></interface><interface type='network'>"
        "<mac address=\"FA:16:3E:AB:CD:EF\"/><target dev=\"tap&#x31;\"/></interface></devices></domain>"sv);
  s.add("nova_metadata", "plain",
        "<instance xmlns=\"http://openstack.org/xmlns/libvirt/nova/1.1\"><name>web-1</name>"
        "<flavor name=\"m1.&lt;x&gt;\"/><owner><project uuid=\"0a1b\">d&#233;mo</project>"
        "</owner></instance>"sv);
}

void mountinfo(Seeds& s) {
  constexpr std::string_view kMounts =
      "23 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
      "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
      "40 31 0:37 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n"
      "35 31 0:32 /machine /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup rw,memory\n"
      "41 31 0:38 / /sys/fs/cgroup/unified\\040dir rw shared:3 master:1 - cgroup2 cgroup2 rw\n"
      "42 31 0:39 / /mnt/old rw - cgroup cgroup rw,freezer\n"
      "43 31 0:40 / /mnt/old rw - tmpfs tmpfs rw\n";
  s.addSteered("mountinfo", "v2", 0, "/machine.slice/a\n" + std::string(kMounts));
  s.addSteered("mountinfo", "v1-freezer", 1, "/machine/a\n" + std::string(kMounts));
  s.addSteered("mountinfo", "v1-memory-subtree", 2, "/machine/b/c\n" + std::string(kMounts));
}

// Config::parse: every ```toml block of docs/*.md, the compiled-in defaults as
// `check-config --defaults` prints them, and the inputs that reached toml++ 3.3.0's
// undefined behaviour before ORK's guard (issue 17, item 8).
void config(Seeds& s, const fs::path& docs) {
  for (const auto& entry : fs::directory_iterator(docs)) {
    if (entry.path().extension() != ".md") continue;
    std::istringstream lines(readFile(entry.path()));
    std::string block;
    bool in = false;
    int n = 0;
    for (std::string line; std::getline(lines, line);) {
      if (!in && line == "```toml") {
        in = true;
        block.clear();
      } else if (in && line == "```") {
        in = false;
        s.add("config", entry.path().stem().string() + "-" + std::to_string(++n), block);
      } else if (in) {
        block += line + "\n";
      }
    }
  }
  s.add("config", "defaults", ork::config::Config().toToml());
  s.add("config", "overrides",
        "# a comment\n[memory]\nsoft_percent = 12.5\nhard_max_mib = 1024\ncount_zfs_arc = false\n"
        "[sampling]\nmin_interval_ms = 5\n[kill]\ndeadline_ms = 500\n"
        "prefer = [\"name:chrome*\", \"user:alice\"]\navoid = [\"cgroup:/system.slice/*\"]\n"
        "protect = [\"exe:/usr/bin/postgres\", \"cmdline:*--important*\"]\n"
        "[score]\nroot_factor = 0.5\nprefer_factor = 8\n"
        "[vm]\nlibvirt_uri = \"qemu+ssh://root@h/system\"\nsave_dir = \"/srv/save\"\n"sv);
  s.add("config", "escapes", "[kill]\navoid = [\"name:caf\\u00e9\", \"cmdline:*\\\"x\\\"*\", \"user:\\U0001F600\"]\n"sv);
  s.add("config", "cross-key", "[memory]\nsoft_percent = 4\nhard_percent = 6\n"sv);
  s.add("config", "bracket-ampersand", "[&"sv);
  s.add("config", "issue-295", "\xcc\xaa"sv);
  s.add("config", "issue-190", "s = \"\"\"\\\n\xc2\xa7\"\"\"\n"sv);
}

// What `ork log` reads: /dev/kmsg records (steer 0) and journal file lines (steer 1).
void kmsg(Seeds& s) {
  s.addSteered("kmsg", "record", 0,
               "12,1219,11417038627,-;ork[812]: event=kill pid=4242 name=\"a\\x5cx22b\" freed_kib=1843200\n"sv);
  s.addSteered("kmsg", "record-dict", 0, "6,5,100,-,caller=T1;usb 1-1: new device\n SUBSYSTEM=usb\n"sv);
  s.addSteered("kmsg", "record-old-tag", 0, "13,7,42,-;ork: event=stop signal=15\n"sv);
  s.addSteered("kmsg", "file-line", 1,
               "2026-12-01T09:24:33.123456+01:00 ork[812]: event=start version=0.1.0 dry_run=0"sv);
  s.addSteered("kmsg", "file-line-z", 1, "2026-12-01T08:24:33Z ork[1]: event=x"sv);
}

// systemd's notification environment (parse/Notify.h): steer 0 the socket, 1 the
// watchdog's USEC, NUL, PID.
void notify(Seeds& s) {
  s.addSteered("notify", "path", 0, "/run/systemd/notify"sv);
  s.addSteered("notify", "abstract", 0, "@/org/freedesktop/systemd1/notify/4242"sv);
  s.addSteered("notify", "relative", 0, "run/notify"sv);
  s.addSteered("notify", "usec-pid", 1, "30000000\0" "4242"sv);
  s.addSteered("notify", "usec", 1, "30000000"sv);
  s.addSteered("notify", "huge", 1, "99999999999999999999999"sv);
}

// The kernel OOM killer's lines the flight recorder reads (parse/Oom.h; FACTS.md).
void oom(Seeds& s) {
  s.add("oom", "summary-global",
        "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
        "task_memcg=/,task=whiptail,pid=472,uid=0"sv);
  s.add("oom", "summary-memcg",
        "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/machine.slice/"
        "machine-qemu\\x2d1\\x2dweb.scope,task_memcg=/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/emulator,"
        "task=qemu-system-x86,pid=4242,uid=64055"sv);
  s.add("oom", "killed",
        "Out of memory: Killed process 472 (whiptail) total-vm:10276kB, anon-rss:1028kB, file-rss:1276kB, "
        "shmem-rss:0kB, UID:0 pgtables:68kB oom_score_adj:0"sv);
  s.add("oom", "killed-memcg", "Memory cgroup out of memory: Killed process 9 (a) b) total-vm:1kB, anon-rss:2kB"sv);
  s.add("oom", "sacrifice", "Out of memory: Kill process 123 (java) score 900 or sacrifice child"sv);
  s.add("oom", "killed-419", "Killed process 124 (java) total-vm:2097152kB, anon-rss:1048576kB, file-rss:0kB, shmem-rss:0kB"sv);
}

// The network ladder's frames: ARP and ND, untagged, 802.1Q and QinQ (unit/net/Frames.h).
void neighborFrames(Seeds& s) {
  namespace fr = ork::frames;
  const ork::Mac a{{0x02, 0, 0, 0, 0, 0xaa}}, b{{0x52, 0x54, 0, 0x12, 0x34, 0x56}};
  auto add = [&](std::string_view name, const fr::Bytes& f) {
    s.add("neighbor_frame", name, {reinterpret_cast<const char*>(f.data()), f.size()});
  };
  add("arp", fr::arp(a, b, {192, 0, 2, 7}, 2));
  add("arp-vlan", fr::arp(a, a, {10, 0, 0, 1}, 1, {{0x8100, 100}}));
  add("arp-qinq", fr::arp(a, a, {10, 0, 0, 1}, 1, {{0x88a8, 7}, {0x8100, 8}}));
  add("nd-rs", fr::nd(133, a, b));
  add("nd-ra", fr::nd(134, a, b));
  add("nd-ns", fr::nd(135, a, b, {{0x8100, 3}}));
  add("nd-na-qinq", fr::nd(136, a, b, {{0x88a8, 1}, {0x8100, 2}}));
}

}  // namespace

// fuzz_metrics_request: the steer byte picks the parser (0 HTTP, 1 status, 2 listen,
// 3 journal field); 0x80 marks the request full.
void metricsRequests(Seeds& s) {
  s.addSteered("metrics_request", "get", 0, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nAccept: */*\r\n\r\n"sv);
  s.addSteered("metrics_request", "head", 0, "HEAD /metrics?x=1 HTTP/1.0\n\n"sv);
  s.addSteered("metrics_request", "post_full", static_cast<char>(0x80), "POST /metrics HTTP/1.1\r\nContent-Length: 3"sv);
  s.addSteered("metrics_request", "status_text", 1, "text\n"sv);
  s.addSteered("metrics_request", "status_json_nobody", 0x41, "json\r\n"sv);
  s.addSteered("metrics_request", "listen_v4", 2, "127.0.0.1:9464"sv);
  s.addSteered("metrics_request", "listen_v6", 2, "[::1]:9464"sv);
  s.addSteered("metrics_request", "field", 3, "event=kill pid=1 name=\"a reason=b\" reason=memory_below_hard result=ok"sv);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: ork_fuzz_seeds SEEDS_DIR\n");
    return 2;
  }
  Seeds seeds(argv[1]);
  parsers(seeds);
  qemu(seeds, ORK_FIXTURES);
  virt(seeds, ORK_FIXTURES);
  mountinfo(seeds);
  config(seeds, ORK_DOCS);
  kmsg(seeds);
  metricsRequests(seeds);
  notify(seeds);
  oom(seeds);
  neighborFrames(seeds);
  return seeds.failed() ? 1 : 0;
}
