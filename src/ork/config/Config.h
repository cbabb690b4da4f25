// The effective configuration: the compiled-in table (Defaults.h), optionally
// overridden by a TOML file. Loaded once at start, read-only afterwards.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ork/config/Defaults.h"
#include "ork/core/Units.h"

// The configuration file read when none is named (`--config` overrides it). A
// packager may compile in another path (-DORK_DEFAULT_CONFIG_PATH='"/path"'); tests
// point ORK at another one with the environment variable ORK_DEFAULT_CONFIG
// (cli/Cli.cpp), so that they never depend on the host's /etc/ork.
#ifndef ORK_DEFAULT_CONFIG_PATH
#define ORK_DEFAULT_CONFIG_PATH "/etc/ork/ork.toml"
#endif

namespace ork::config {

inline constexpr const char* kDefaultConfigPath = ORK_DEFAULT_CONFIG_PATH;

// A pattern on one property of a process: "<field>:<glob>", field one of name (the
// executable name), cmdline (the whole command line), exe (the executable path),
// cgroup (the cgroup path), user (the user name or numeric uid). The glob is fnmatch(3)
// syntax, matched against the whole value.
struct Pattern {
  enum class Field { Name, Cmdline, Exe, Cgroup, User };
  Field field = Field::Name;
  std::string glob;
  std::string text;  // as written, for messages
};

struct ConfigError {
  int line = 0;  // 0: the error is about the file as a whole (missing, unreadable)
  std::string message;  // for line 0, without the file's path
  int code = 0;         // for line 0, the errno (ENOENT: the file does not exist)
};

// [disk] thresholds that are not in the table because they have no single default:
// each class of filesystem has its own (policy/DiskRule.h); one set here overrides it.
struct DiskOverrides {
  std::optional<double> softPercent;        // soft_percent
  std::optional<double> hardPercent;        // hard_percent
  std::optional<double> inodesSoftPercent;  // inodes_soft_percent
  std::optional<double> inodesHardPercent;  // inodes_hard_percent
};

// [disk.mount."<mountpoint>"]: one filesystem's own thresholds and class.
struct DiskMount {
  std::string mountPoint;
  DiskOverrides thresholds;
  std::string diskClass;  // class = "root" | "log" | "images" | "cache" | "other" (empty: recognised)
};

// The compiled-in places step 1 may clean (the seed's): a directory, or a file and its
// rotated siblings.
inline constexpr const char* kDefaultCleanPlaces[] = {"/var/log/openvswitch", "/var/log/syslog",
                                                      "/opt/jumpscale7/var/log"};

struct DiskSettings {
  DiskOverrides all;               // [disk] soft_percent...: every class
  std::vector<std::string> watch;  // empty: every real filesystem
  std::vector<std::string> clean = {std::begin(kDefaultCleanPlaces), std::end(kDefaultCleanPlaces)};
  std::vector<DiskMount> mounts;
  const DiskMount* mount(std::string_view mountPoint) const {
    for (const auto& m : mounts)
      if (m.mountPoint == mountPoint) return &m;
    return nullptr;
  }
};

// [network]: the interfaces never put down (besides the default-route and management
// ones) and the MACs never counted as duplicates.
struct NetworkSettings {
  std::vector<std::string> protect;     // interface names
  std::vector<std::string> ignoreMacs;  // "aa:bb:cc:dd:ee:ff", lower case
};

class Config {
 public:
  Config();  // the compiled-in defaults

  double get(Key k) const { return values_[static_cast<std::size_t>(k)]; }
  bool flag(Key k) const { return get(k) != 0; }
  Bytes mib(Key k) const { return Bytes::mib(static_cast<std::int64_t>(get(k))); }
  Nanos millis(Key k) const { return std::chrono::duration_cast<Nanos>(Millis{static_cast<long long>(get(k))}); }
  Nanos seconds(Key k) const { return std::chrono::duration_cast<Nanos>(Seconds{static_cast<long long>(get(k))}); }
  int count(Key k) const { return static_cast<int>(get(k)); }
  void set(Key k, double v) { values_[static_cast<std::size_t>(k)] = v; }

  std::vector<Pattern> prefer;
  std::vector<Pattern> avoid;
  std::vector<Pattern> protect;

  // [vm] settings that are text, not numbers.
  static constexpr const char* kDefaultLibvirtUri = "qemu:///system";
  static constexpr const char* kDefaultSaveDir = "/var/lib/libvirt/qemu/save";
  std::string libvirtUri = kDefaultLibvirtUri;  // vm.libvirt_uri
  std::string saveDir = kDefaultSaveDir;        // vm.save_dir: where libvirt writes managed saves

  DiskSettings disk;
  NetworkSettings network;

  // [metrics]: Prometheus exposition, off by default (both empty). listen:
  // "ADDRESS:PORT" for an HTTP /metrics; textfile: a *.prom path for node_exporter's
  // textfile collector, rewritten every metrics.textfile_interval_s (metrics/).
  std::string metricsListen;
  std::string metricsTextfile;
  // [recorder] dir: where the flight recorder's file is (text, absolute).
  static constexpr const char* kDefaultRecorderDir = "/var/lib/ork";
  std::string recorderDir = kDefaultRecorderDir;

  // Parses TOML text (path used in messages). Every problem is reported with its line:
  // syntax errors, unknown sections or keys, wrong types, values out of range,
  // malformed patterns, soft threshold not above the hard one. Nothing is ignored.
  static Config parse(std::string_view text, std::string_view path, std::vector<ConfigError>& errors);
  // Reads and parses a file. A file that cannot be read, or is not a regular file (a
  // FIFO, a directory), is one error with line 0 and its errno; a missing one says
  // "no such file" (code ENOENT).
  static Config load(const std::string& path, std::vector<ConfigError>& errors);

  // Renders the effective settings as TOML (for `ork check-config --defaults`).
  std::string toToml() const;

 private:
  std::array<double, kSettingCount> values_{};
};

// Parses "<field>:<glob>"; false with a message if malformed.
bool parsePattern(std::string_view text, Pattern& out, std::string& message);

}  // namespace ork::config
