// parse::parseQemuCmdline and isQemuProgram on real command lines (captured from
// qemu 7.2 processes on the dev host, two of them started by libvirt 9.0:
// tests/fixtures/qemu/real-*.cmdline), hand-written
// libvirt 6/8/9 and OpenStack ones (*.args, one argument per line), and hostile input.
// The expectations for real-* were checked against the running qemu over QMP
// (query-name, query-memory-size-summary, query-cpus-fast).
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ork/parse/Qemu.h"
#include "unit/parse/TestUtil.h"

namespace ork::parse {
namespace {

using namespace std::string_view_literals;
using namespace std::string_literals;
using testing::HeapText;
using testing::show;

std::string readFixture(const std::string& name) {
  std::ifstream in(std::string(ORK_FIXTURES) + "/qemu/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.empty()) ADD_FAILURE() << "missing fixture " << name;
  // *.args: one argument per line, turned into /proc/PID/cmdline form.
  if (name.size() > 5 && name.substr(name.size() - 5) == ".args") {
    for (char& c : text)
      if (c == '\n') c = '\0';
  }
  return text;
}

// argv as /proc/PID/cmdline shows it: every argument NUL-terminated.
std::string cmdline(const std::vector<std::string>& argv) {
  std::string raw;
  for (const auto& a : argv) {
    raw += a;
    raw += '\0';
  }
  return raw;
}

struct FixtureCase {
  const char* file;
  const char* name;
  const char* uuid;
  std::int64_t memory;
  int vcpus;
  const char* machine;
};

const FixtureCase kFixtures[] = {
    // libvirt 9 shape: JSON memory backend and -m size=...k; upper-case UUID.
    {"real-q35-json-backend.cmdline", "instance-0000002a", "5f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f",
     64 << 20, 2, "pc-q35-7.2"},
    {"real-plain-name.cmdline", "web01", "", 64 << 20, 1, ""},
    {"real-nova-i440fx.cmdline", "instance-00000105", "0b0ad1c3-8d0f-4f7b-9f1e-2a3b4c5d6e7f",
     128 << 20, 1, "pc-i440fx-7.2"},
    // ",," in the name; -m with slots/maxmem (boot memory counts); -smp cpus < maxcpus.
    {"real-numa-hotplug-escaped-name.cmdline", "db,primary", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
     128 << 20, 4, "pc-q35-7.2"},
    // Debian's /usr/bin/kvm symlink, "-name NAME,debug-threads=on", fractional -m, and a
    // UUID only in -smbios (not the guest's -uuid).
    {"real-kvm-symlink.cmdline", "pve-web", "", 1610612736, 2, ""},
    {"libvirt9-nova-q35.args", "instance-0000002a", "5f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f",
     std::int64_t{2} << 30, 2, "pc-q35-7.2"},
    {"nova-libvirt6-i440fx.args", "instance-00000001", "0e8b2f1a-6c3d-4b5e-9f70-81a2b3c4d5e6",
     std::int64_t{4} << 30, 4, "pc-i440fx-4.2"},
    {"nova-libvirt8-hugepages-numa.args", "instance-0000000c",
     "c4d5e6f7-0819-4a2b-bc3d-4e5f60718293", std::int64_t{8} << 30, 4, "pc-q35-6.2"},
    // No -m: the memory is the -machine memory-backend= object's; nested JSON with
    // brackets in strings; --name, -M, -smp maxcpus only, an invalid -uuid.
    {"synthetic-backend-only.args", "db,replica=2", "", std::int64_t{3} << 30, 6, "q35"},
    // Captured from libvirt 9.0 (Debian 12) starting a guest on the dev host.
    {"real-libvirt9-vm.cmdline", "ork-vm-1", "04d73a27-cdd9-40ff-85d3-a8376f4491cb", 256 << 20, 1,
     "pc-i440fx-7.2"},
    // Captured from libvirt 9.0 on the dev host: a capability probe, no guest.
    {"real-libvirt9-capability-probe.cmdline", "", "", 0, 0, "none"},
};

TEST(QemuCmdline, Fixtures) {
  for (const auto& c : kFixtures) {
    SCOPED_TRACE(c.file);
    const std::string raw = readFixture(c.file);
    const HeapText text(raw);
    const auto cmd = parseQemuCmdline(text.view());
    ASSERT_TRUE(cmd.ok()) << cmd.error().message();
    EXPECT_EQ(cmd->name, c.name);
    EXPECT_EQ(cmd->uuid, c.uuid);
    EXPECT_EQ(cmd->memory, Bytes{c.memory});
    EXPECT_EQ(cmd->vcpus, c.vcpus);
    EXPECT_EQ(cmd->machine, c.machine);
  }
}

// A prefix is what a reader capped below the command line's length gets. Whatever the
// cut, every field is either what the whole line says or unknown: never a wrong value
// ("-m 2048" cut to "-m 20").
TEST(QemuCmdline, EveryPrefixOfEveryFixtureIsRightOrUnknown) {
  std::size_t parsed = 0;
  for (const auto& c : kFixtures) {
    SCOPED_TRACE(c.file);
    const std::string raw = readFixture(c.file);
    for (std::size_t len = 0; len <= raw.size(); ++len) {
      const HeapText text(std::string_view(raw).substr(0, len));
      const auto cmd = parseQemuCmdline(text.view());
      if (!cmd.ok()) {
        EXPECT_EQ(cmd.error().code, 0);
        continue;
      }
      ++parsed;
      EXPECT_TRUE(cmd->name.empty() || cmd->name == c.name) << len << ": " << show(cmd->name);
      EXPECT_TRUE(cmd->uuid.empty() || cmd->uuid == c.uuid) << len;
      EXPECT_TRUE(cmd->memory == Bytes{0} || cmd->memory == Bytes{c.memory}) << len;
      EXPECT_TRUE(cmd->vcpus == 0 || cmd->vcpus == c.vcpus) << len;
      EXPECT_TRUE(cmd->machine.empty() || cmd->machine == c.machine) << len;
    }
    // The whole line, and the line without its final NUL (the last argument is then
    // dropped), both parse.
    EXPECT_TRUE(parseQemuCmdline(raw).ok());
  }
  EXPECT_GT(parsed, 1000u);
}

TEST(QemuCmdline, NotQemu) {
  EXPECT_FALSE(parseQemuCmdline("").ok());
  EXPECT_FALSE(parseQemuCmdline("\0"sv).ok());
  EXPECT_FALSE(parseQemuCmdline("/usr/bin/qemu-system-x86_64").ok());  // no NUL: cut
  const auto py = parseQemuCmdline(cmdline({"/usr/bin/python3", "-name", "guest=vm", "-m", "4G"}));
  ASSERT_FALSE(py.ok());
  EXPECT_EQ(py.error().code, 0);
  EXPECT_NE(py.error().message().find("not a qemu command line"), std::string_view::npos);
  EXPECT_FALSE(parseQemuCmdline(cmdline({"qemu-img", "convert"})).ok());
  EXPECT_FALSE(parseQemuCmdline(cmdline({"qemu-system-", "-m", "1"})).ok());
  EXPECT_FALSE(parseQemuCmdline(cmdline({"/usr/bin/kvm-ok"})).ok());
  EXPECT_FALSE(parseQemuCmdline(cmdline({"sh", "-c", "qemu-system-x86_64 -m 1G"})).ok());
}

TEST(QemuCmdline, MinimalAndMissingValues) {
  auto bare = parseQemuCmdline(cmdline({"qemu-system-aarch64"}));
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->name, "");
  EXPECT_EQ(bare->uuid, "");
  EXPECT_EQ(bare->memory, Bytes{0});
  EXPECT_EQ(bare->vcpus, 0);
  // An option whose value was cut off is unknown, not an error.
  auto cut = parseQemuCmdline(cmdline({"qemu-kvm", "-m", "1G", "-name"}));
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->name, "");
  EXPECT_EQ(cut->memory, Bytes::gib(1));
  auto cutValue = parseQemuCmdline(cmdline({"qemu-kvm", "-name", "vm1"}) +
                                   "-m\0"
                                   "20"s);
  ASSERT_TRUE(cutValue.ok());
  EXPECT_EQ(cutValue->name, "vm1");
  EXPECT_EQ(cutValue->memory, Bytes{0});
}

TEST(QemuCmdline, Names) {
  struct Case {
    std::string value;
    std::string want;
  };
  const Case cases[] = {
      {"guest=vm1,debug-threads=on", "vm1"},
      {"vm1", "vm1"},
      {"vm1,debug-threads=on", "vm1"},
      {"guest=a,,b,,,,c", "a,b,,c"},
      {"a,,b", "a,b"},
      {"guest=a=b", "a=b"},  // qemu 7.2 says "a=b" too
      {"debug-threads=on,guest=late", "late"},
      {"process=p,debug-threads=on", ""},
      {"guest=", ""},
      {"guest=trailing,,", "trailing,"},
      {"guest=caf\xc3\xa9\xff\xfe", "caf\xc3\xa9\xff\xfe"},  // bytes kept as given
      {"guest=new\nline", "new\nline"},
  };
  for (const auto& c : cases) {
    auto cmd = parseQemuCmdline(cmdline({"qemu-system-x86_64", "-name", c.value}));
    ASSERT_TRUE(cmd.ok()) << show(c.value);
    EXPECT_EQ(cmd->name, c.want) << show(c.value);
  }
  // The last -name wins (qemu merges them), and --name is -name.
  auto twice = parseQemuCmdline(cmdline({"kvm", "-name", "first", "--name", "guest=second"}));
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->name, "second");
}

TEST(QemuCmdline, Uuids) {
  const std::pair<std::string, std::string> cases[] = {
      {"5f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f", "5f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"},
      {"5F1C0D2E-3B4A-4C5D-8E9F-0A1B2C3D4E5F", "5f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"},
      {"5f1c0d2e3b4a4c5d8e9f0a1b2c3d4e5f", ""},
      {"5f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5", ""},
      {"5f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f0", ""},
      {"5f1c0d2e-3b4a-4c5d-8e9f_0a1b2c3d4e5f", ""},
      {"5g1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f", ""},
      {"", ""},
      {std::string(36, '-'), ""},
  };
  for (const auto& [value, want] : cases) {
    auto cmd = parseQemuCmdline(cmdline({"qemu-system-x86_64", "-uuid", value}));
    ASSERT_TRUE(cmd.ok());
    EXPECT_EQ(cmd->uuid, want) << value;
  }
}

TEST(QemuCmdline, Memory) {
  const std::pair<std::vector<std::string>, std::int64_t> cases[] = {
      {{"-m", "512"}, 512ll << 20},
      {{"-m", "size=512"}, 512ll << 20},
      {{"-m", "512M"}, 512ll << 20},
      {{"-m", "2G"}, 2ll << 30},
      {{"-m", "2g"}, 2ll << 30},
      {{"-m", "size=524288k"}, 512ll << 20},
      {{"-m", "1024,slots=16,maxmem=64G"}, 1ll << 30},
      {{"-m", "size=1048576k,slots=16,maxmem=16777216k"}, 1ll << 30},
      {{"-m", "1.5G"}, 1610612736},
      {{"-m", "0.5"}, 512ll << 10},
      {{"-m", "1T"}, 1ll << 40},
      {{"-m", "0x100"}, 256ll << 20},                        // qemu 7.2: 256 MiB (deprecated)
      {{"-m", "2G", "-m", "maxmem=4G,slots=1"}, 2ll << 30},  // per-key merge
      {{"-m", "1G", "-m", "3G"}, 3ll << 30},                 // the last wins
      {{"-m", "0"}, 0},
      {{"-m", ""}, 0},
      {{"-m", "-1"}, 0},
      {{"-m", "1X"}, 0},
      {{"-m", "1 G"}, 0},
      {{"-m", "99999999999999999999"}, 0},
      {{"-m", "8E"}, 0},  // 2^63 bytes: out of range
      {{"-m", "maxmem=8G"}, 0},
      // The backend the machine names, when -m is absent.
      {{"-machine", "q35,memory-backend=pc.ram", "-object",
        R"({"qom-type":"memory-backend-ram","id":"pc.ram","size":536870912})"},
       512ll << 20},
      {{"-object", "memory-backend-ram,id=pc.ram,size=1G", "-machine", "memory-backend=pc.ram"},
       1ll << 30},
      {{"-object", "qom-type=memory-backend-file,id=m,size=1073741824,mem-path=/dev/hugepages",
        "-M", "pc,memory-backend=m"},
       1ll << 30},
      // Backends nobody named (NUMA nodes, DIMMs) do not count without -m.
      {{"-object", "memory-backend-ram,id=ram-node0,size=1G"}, 0},
      // A backend of the wrong type, malformed JSON, a fractional size: unknown.
      {{"-machine", "memory-backend=x", "-object", "iothread,id=x,size=5"}, 0},
      {{"-machine", "memory-backend=x", "-object",
        R"({"qom-type":"memory-backend-ram","id":"x","size":1.5e9})"},
       0},
      {{"-machine", "memory-backend=x", "-object",
        R"({"qom-type":"memory-backend-ram","id":"x","size":)"},
       0},
      {{"-machine", "memory-backend=x", "-object",
        R"({"qom-type":"memory-backend-ram","id":"x","size":-5})"},
       0},
      {{"-machine", "memory-backend=x", "-object",
        R"({"qom-type":"memory-backend-ram","id":"x","size":"2G"})"},
       2ll << 30},
      {{"-machine", "memory-backend=x", "-object",
        R"({"qom-type":"memory-backend-ram","id":"\u0078","size":7})"},
       7},
  };
  for (const auto& [args, want] : cases) {
    std::vector<std::string> argv{"qemu-system-x86_64"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto cmd = parseQemuCmdline(cmdline(argv));
    ASSERT_TRUE(cmd.ok());
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(cmd->memory, Bytes{want}) << joined;
  }
}

TEST(QemuCmdline, Vcpus) {
  // Each checked against qemu 7.2 (query-cpus-fast).
  const std::pair<std::vector<std::string>, int> cases[] = {
      {{"-smp", "2"}, 2},
      {{"-smp", "2,sockets=2,cores=1,threads=1"}, 2},
      {{"-smp", "cpus=3,maxcpus=8"}, 3},
      {{"-smp", "1,maxcpus=4,sockets=4,cores=1,threads=1"}, 1},
      {{"-smp", "sockets=2,cores=2"}, 4},
      {{"-smp", "maxcpus=4"}, 4},
      {{"-smp", "3", "-smp", "maxcpus=4"}, 3},
      {{"-smp", "0,sockets=2"}, 2},  // cpus=0 counts as not given
      {{"-smp", "sockets=2,dies=2,clusters=1,cores=4,threads=2"}, 32},
      {{"-smp", "x"}, 0},
      {{"-smp", "sockets=99999999,cores=99999999"}, 0},
      {{"-smp", "4294967297"}, 0},
      {{}, 0},
  };
  for (const auto& [args, want] : cases) {
    std::vector<std::string> argv{"qemu-system-x86_64"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto cmd = parseQemuCmdline(cmdline(argv));
    ASSERT_TRUE(cmd.ok());
    EXPECT_EQ(cmd->vcpus, want) << (args.empty() ? "" : args.back());
  }
}

TEST(QemuCmdline, OtherOptionsAreSteppedOverAlone) {
  // Values of options ORK does not read are skipped one by one; a positional disk
  // image and values that merely contain option names change nothing.
  auto cmd = parseQemuCmdline(cmdline(
      {"qemu-system-x86_64", "/var/lib/disk.img", "-append", "console=ttyS0 -m 1 -name x", "-S",
       "-nographic", "-name", "real", "-fw_cfg", "name=opt/x,string=-uuid", "-m", "1G", "-"}));
  ASSERT_TRUE(cmd.ok());
  EXPECT_EQ(cmd->name, "real");
  EXPECT_EQ(cmd->memory, Bytes::gib(1));
  EXPECT_EQ(cmd->uuid, "");
}

TEST(QemuCmdline, HugeArgumentsAndTheReadersCap) {
  const std::string huge(200 * 1024, 'x');
  std::string raw = cmdline({"/usr/bin/qemu-system-x86_64", "-name", "guest=big", "-append", huge,
                             "-m", "4096", "-smp", "8"});
  auto cmd = parseQemuCmdline(raw);
  ASSERT_TRUE(cmd.ok());
  EXPECT_EQ(cmd->name, "big");
  EXPECT_EQ(cmd->memory, Bytes::gib(4));
  EXPECT_EQ(cmd->vcpus, 8);
  // Cut inside the huge argument: what came before is still known.
  auto cut = parseQemuCmdline(std::string_view(raw).substr(0, 100 * 1024));
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->name, "big");
  EXPECT_EQ(cut->memory, Bytes{0});
  EXPECT_EQ(cut->vcpus, 0);
}

TEST(QemuCmdline, EmbeddedControlBytesAndEmptyArguments) {
  std::string raw =
      "qemu-system-x86_64\0\0\0-name\0guest=\x01\x7f\0\0-smp\0"
      "2\0\0\0\0"s;
  auto cmd = parseQemuCmdline(raw);
  ASSERT_TRUE(cmd.ok());
  EXPECT_EQ(cmd->name, "\x01\x7f");
  EXPECT_EQ(cmd->vcpus, 2);
}

// Random byte flips, insertions and cuts of every fixture: no crash (run under ASan
// to see over-reads), and the invariants of any parse hold.
TEST(QemuCmdline, RandomMutationsKeepInvariants) {
  std::mt19937 rng(20240611);
  const char alphabet[] = {'\0', ',', '=', '{', '}', '[', ']', '"', '\\',
                           '-',  'm', '0', '9', 'G', '.', ' ', 'x', '\xff'};
  for (const auto& c : kFixtures) {
    const std::string raw = readFixture(c.file);
    for (int round = 0; round < 300; ++round) {
      std::string m = raw;
      const int edits = 1 + static_cast<int>(rng() % 8);
      for (int e = 0; e < edits && !m.empty(); ++e) {
        const std::size_t at = rng() % m.size();
        const char ch = alphabet[rng() % sizeof alphabet];
        switch (rng() % 3) {
          case 0:
            m[at] = ch;
            break;
          case 1:
            m.insert(m.begin() + static_cast<std::ptrdiff_t>(at), ch);
            break;
          default:
            m.erase(at, 1 + rng() % 16);
            break;
        }
      }
      const HeapText text(m);
      const auto cmd = parseQemuCmdline(text.view());
      if (!cmd.ok()) continue;
      EXPECT_GE(cmd->memory, Bytes{0});
      EXPECT_GE(cmd->vcpus, 0);
      EXPECT_TRUE(cmd->uuid.empty() || cmd->uuid.size() == 36) << cmd->uuid;
      for (char u : cmd->uuid) EXPECT_FALSE(u >= 'A' && u <= 'F');
    }
  }
}

TEST(QemuCmdline, HostileJsonDoesNotCrash) {
  // Deep and never closed: the member cannot be skipped, so the object is rejected.
  const std::string deep = std::string(100000, '[') + std::string(99999, ']');
  const std::string objects[] = {
      "{",
      "{\"",
      "{\"qom-type\"",
      "{\"qom-type\":",
      "{\"qom-type\":\"memory-backend-ram\",\"id\":\"m\",\"size\":1,\"x\":" + deep + "}",
      "{\"x\":" + std::string(100000, '[') + "}",
      "{\"x\":\"\\",
      "{\"x\":\"\\u12\"}",
      "{\"size\":18446744073709551616,\"qom-type\":\"memory-backend-ram\",\"id\":\"m\"}",
      "{,}",
      "{\"a\" 1}",
      "{}",
  };
  for (const auto& o : objects) {
    const HeapText text(cmdline({"qemu-kvm", "-machine", "memory-backend=m", "-object", o}));
    auto cmd = parseQemuCmdline(text.view());
    ASSERT_TRUE(cmd.ok());
    EXPECT_EQ(cmd->memory, Bytes{0}) << o.substr(0, 80);
  }
}

TEST(QemuProgram, ByExeThenComm) {
  EXPECT_TRUE(isQemuProgram("qemu-system-x86", "/usr/bin/qemu-system-x86_64"));
  EXPECT_TRUE(isQemuProgram("qemu-system-aar", "/usr/bin/qemu-system-aarch64"));
  EXPECT_TRUE(isQemuProgram("kvm", "/usr/bin/qemu-system-x86_64"));  // /usr/bin/kvm symlink
  EXPECT_TRUE(isQemuProgram("qemu-kvm", "/usr/libexec/qemu-kvm"));
  EXPECT_TRUE(isQemuProgram("CPU 0/KVM", "/usr/bin/qemu-system-x86_64"));
  // After an upgrade of qemu every running VM's exe reads so.
  EXPECT_TRUE(isQemuProgram("qemu-system-x86", "/usr/bin/qemu-system-x86_64 (deleted)"));
  // exe known: it alone decides (comm is the process's own to set).
  EXPECT_FALSE(isQemuProgram("qemu-system-x86", "/usr/bin/python3.11"));
  EXPECT_FALSE(isQemuProgram("qemu-system-x86", "/usr/bin/qemu-img"));
  EXPECT_FALSE(isQemuProgram("bash", "/usr/bin/bash"));
  EXPECT_FALSE(isQemuProgram("x", "/opt/qemu-system-/"));
  // exe unreadable: comm decides.
  EXPECT_TRUE(isQemuProgram("qemu-system-x86", ""));
  EXPECT_TRUE(isQemuProgram("qemu-system-i38", ""));
  EXPECT_TRUE(isQemuProgram("qemu-kvm", ""));
  EXPECT_TRUE(isQemuProgram("kvm", ""));
  EXPECT_FALSE(isQemuProgram("kvm-pit/1234", ""));
  EXPECT_FALSE(isQemuProgram("kvm-nx-lpage-re", ""));
  EXPECT_FALSE(isQemuProgram("qemu-system-", ""));
  EXPECT_FALSE(isQemuProgram("qemu-ga", ""));
  EXPECT_FALSE(isQemuProgram("", ""));
  EXPECT_FALSE(isQemuProgram("a/qemu-kvm", ""));  // a comm is not a path
}

TEST(QemuSize, Units) {
  EXPECT_EQ(parseQemuSize("1", 1), 1u);
  EXPECT_EQ(parseQemuSize("1", 1 << 20), 1u << 20);
  EXPECT_EQ(parseQemuSize("1b", 1 << 20), 1u);
  EXPECT_EQ(parseQemuSize("1K", 1), 1024u);
  EXPECT_EQ(parseQemuSize("1.25k", 1), 1280u);
  EXPECT_EQ(parseQemuSize("7E", 1), 7ull << 60);
  EXPECT_EQ(parseQemuSize("0x10", 1), 16u);
  EXPECT_EQ(parseQemuSize("0x7fffffffffffffff", 1), 0x7fffffffffffffffull);
  EXPECT_EQ(parseQemuSize("1.99999999999999999999999G", 1), 2147483647u);
  EXPECT_FALSE(parseQemuSize("0x", 1));
  EXPECT_FALSE(parseQemuSize("0x1.5", 1));
  EXPECT_FALSE(parseQemuSize(".5", 1));
  EXPECT_FALSE(parseQemuSize("5.", 1));
  EXPECT_FALSE(parseQemuSize("1KB", 1));
  EXPECT_FALSE(parseQemuSize("0x8000000000000000", 1));
  EXPECT_FALSE(parseQemuSize("16E", 1));
  EXPECT_FALSE(parseQemuSize("", 1));
}

}  // namespace
}  // namespace ork::parse
