#include "ork/config/Config.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

// toml++ 3.3.0 (Debian 12) has undefined behaviour on input it should only reject:
// a non-ASCII character where it looks for whitespace (at the start of a line, after a
// line-ending backslash in a multi-line string...) reaches TOML_UNREACHABLE (upstream
// issues #190 and #295, fixed upstream by PR #305), and an invalid character after '['
// ("[&") fails an assertion in parse_key(), which a build with NDEBUG turns into an
// assumption (clang: __builtin_assume) that is false. Two guards: the library is
// included with its assertions as no-ops, never assumptions, whatever the build type
// (after each one, the parser rejects the input properly: tests/fuzz/ConfigFuzz.cpp
// checks it with assertions enabled), and no byte outside ASCII ever reaches it
// (nonAsciiErrors below).
#pragma push_macro("NDEBUG")
#undef NDEBUG
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>
#pragma pop_macro("NDEBUG")

#include "ork/core/Mac.h"
#include "ork/core/Printable.h"
#include "ork/metrics/Listen.h"
#include "ork/sys/Files.h"

namespace ork::config {

namespace {

const char* kindName(Kind k) {
  switch (k) {
    case Kind::Percent: return "a percentage";
    case Kind::Mib: return "an integer (MiB)";
    case Kind::Millis: return "an integer (milliseconds)";
    case Kind::Seconds: return "an integer (seconds)";
    case Kind::Count: return "an integer";
    case Kind::Bool: return "true or false";
    case Kind::Factor: return "a number";
  }
  return "a value";
}

bool isIntegerKind(Kind k) {
  return k == Kind::Mib || k == Kind::Millis || k == Kind::Seconds || k == Kind::Count;
}

const Setting* findSetting(std::string_view section, std::string_view name) {
  for (const auto& s : kSettings)
    if (section == s.section && name == s.name) return &s;
  return nullptr;
}

bool knownSection(std::string_view section) {
  if (section == "kill") return true;
  for (const auto& s : kSettings)
    if (section == s.section) return true;
  return false;
}

int lineOf(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

std::string fmt(const char* f, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, f, args...);
  return buf;
}

bool validPercent(const toml::node& n, double& v) {
  if (!n.is_integer() && !n.is_floating_point()) return false;
  v = *n.value<double>();
  return std::isfinite(v) && v >= 0 && v <= 100;
}

bool validMountPath(std::string_view p) { return !p.empty() && p.front() == '/'; }

// soft_percent... in [disk] or a [disk.mount."X"] table: true when name is one of them.
bool parseOverride(std::string_view where, std::string_view name, const toml::node& node, DiskOverrides& o,
                   std::vector<ConfigError>& errors) {
  std::optional<double>* slot = name == "soft_percent"          ? &o.softPercent
                                : name == "hard_percent"        ? &o.hardPercent
                                : name == "inodes_soft_percent" ? &o.inodesSoftPercent
                                : name == "inodes_hard_percent" ? &o.inodesHardPercent
                                                                : nullptr;
  if (slot == nullptr) return false;
  double v = 0;
  if (!validPercent(node, v) || v <= 0 || v > 90) {
    errors.push_back({lineOf(node), fmt("%.*s.%.*s must be a percentage in (0, 90]", static_cast<int>(where.size()), where.data(),
                                        static_cast<int>(name.size()), name.data())});
    return true;
  }
  *slot = v;
  return true;
}

// line: of the table the overrides are in (a cross-key error is never on line 0).
void checkOverrides(std::string_view where, const DiskOverrides& o, int line, std::vector<ConfigError>& errors) {
  if (o.softPercent && o.hardPercent && *o.softPercent < *o.hardPercent)
    errors.push_back({line, fmt("%.*s: soft_percent (%g) must not be below hard_percent (%g)", static_cast<int>(where.size()),
                             where.data(), *o.softPercent, *o.hardPercent)});
  if (o.inodesSoftPercent && o.inodesHardPercent && *o.inodesSoftPercent < *o.inodesHardPercent)
    errors.push_back({line, fmt("%.*s: inodes_soft_percent (%g) must not be below inodes_hard_percent (%g)",
                             static_cast<int>(where.size()), where.data(), *o.inodesSoftPercent, *o.inodesHardPercent)});
}

bool pathList(std::string_view name, const toml::node& node, std::vector<std::string>& out, std::vector<ConfigError>& errors) {
  const toml::array* arr = node.as_array();
  if (arr == nullptr) {
    errors.push_back({lineOf(node), fmt("disk.%.*s must be an array of absolute paths", static_cast<int>(name.size()), name.data())});
    return false;
  }
  std::vector<std::string> list;
  bool ok = true;
  for (const auto& item : *arr) {
    const auto* str = item.as_string();
    if (str == nullptr || !validMountPath(str->get()) || str->get().find('\0') != std::string::npos) {
      errors.push_back({lineOf(item), fmt("disk.%.*s: every entry must be an absolute path", static_cast<int>(name.size()), name.data())});
      ok = false;
      continue;
    }
    std::string p = str->get();
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (name == "clean" && (p == "/" || p.find("/../") != std::string::npos || p.ends_with("/..") || p.find("/./") != std::string::npos)) {
      errors.push_back({lineOf(item), "disk.clean: \"" + p + "\" is not a place ORK may clean (\"/\", or a path with . or ..)"});
      ok = false;
      continue;
    }
    list.push_back(std::move(p));
  }
  if (ok) out = std::move(list);
  return ok;
}

void parseDiskMounts(const toml::node& node, Config& cfg, std::vector<ConfigError>& errors) {
  const toml::table* mounts = node.as_table();
  if (mounts == nullptr) {
    errors.push_back({lineOf(node), "disk.mount must be tables: [disk.mount.\"/mountpoint\"]"});
    return;
  }
  for (auto&& [mkey, mnode] : *mounts) {
    std::string mp(mkey.str());
    int line = static_cast<int>(mkey.source().begin.line);
    const toml::table* t = mnode.as_table();
    if (!validMountPath(mp) || t == nullptr) {
      errors.push_back({line, "[disk.mount.\"" + mp + "\"] must be a table named by an absolute mountpoint"});
      continue;
    }
    while (mp.size() > 1 && mp.back() == '/') mp.pop_back();
    DiskMount m;
    m.mountPoint = mp;
    std::string where = "disk.mount.\"" + mp + "\"";
    for (auto&& [k, v] : *t) {
      std::string_view name = k.str();
      if (parseOverride(where, name, v, m.thresholds, errors)) continue;
      if (name == "class") {
        const auto* str = v.as_string();
        static constexpr const char* kClasses[] = {"root", "log", "images", "cache", "other"};
        bool ok = false;
        if (str != nullptr)
          for (const char* c : kClasses) ok = ok || str->get() == c;
        if (!ok) {
          errors.push_back({lineOf(v), where + ".class must be one of root, log, images, cache, other"});
          continue;
        }
        m.diskClass = str->get();
        continue;
      }
      errors.push_back({lineOf(v), fmt("unknown key \"%.*s\" in [%s] (soft_percent, hard_percent, inodes_soft_percent, inodes_hard_percent, class)",
                                       static_cast<int>(name.size()), name.data(), where.c_str())});
    }
    checkOverrides(where, m.thresholds, line, errors);
    cfg.disk.mounts.push_back(std::move(m));
  }
}

// The code point of the UTF-8 sequence at the start of text, or -1 when it is not a
// well-formed one (overlong, surrogate, beyond U+10FFFF, cut).
long utf8CodePoint(std::string_view text) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  std::size_t n = b(0) >= 0xf0 && b(0) < 0xf5 ? 4 : b(0) >= 0xe0 ? 3 : b(0) >= 0xc2 && b(0) < 0xe0 ? 2 : 0;
  if (n == 0 || b(0) >= 0xf5 || text.size() < n) return -1;
  long cp = b(0) & (0x7f >> n);
  for (std::size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xc0) != 0x80) return -1;
    cp = (cp << 6) | (b(i) & 0x3f);
  }
  const long minimum = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  if (cp < minimum || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  return cp;
}

// One error per line that holds a byte outside ASCII (the first such byte), so that
// toml++ never sees one. Characters beyond ASCII can still be written in strings, as
// \uXXXX escapes.
bool nonAsciiErrors(std::string_view text, std::vector<ConfigError>& errors) {
  bool any = false;
  int line = 1;
  std::size_t lineStart = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      lineStart = i + 1;
      continue;
    }
    if (c < 0x80) continue;
    any = true;
    const long cp = utf8CodePoint(text.substr(i));
    std::string hint = cp < 0 ? std::string("not UTF-8 either")
                              : fmt(cp > 0xffff ? "U+%06lX: inside a string, write it \\U%08lX"
                                                : "U+%04lX: inside a string, write it \\u%04lX",
                                    cp, cp);
    errors.push_back({line, fmt("column %zu: byte 0x%02x is not ASCII (%s); a configuration file is ASCII only",
                                i - lineStart + 1, static_cast<unsigned>(c), hint.c_str())});
    // The rest of this line is not looked at.
    const std::size_t nl = text.find('\n', i);
    if (nl == std::string_view::npos) break;
    i = nl - 1;
  }
  return any;
}

// [metrics] listen and textfile: strings, checked here so that check-config says why.
void parseMetricsString(std::string_view name, const toml::node& node, Config& cfg, std::vector<ConfigError>& errors) {
  const int line = lineOf(node);
  const auto* str = node.as_string();
  if (str == nullptr) {
    errors.push_back({line, fmt("metrics.%.*s must be a string", static_cast<int>(name.size()), name.data())});
    return;
  }
  const std::string& v = str->get();
  if (name == "listen") {
    metrics::ListenAddress a;
    std::string message;
    if (!v.empty() && !metrics::parseListen(v, a, message)) {
      errors.push_back({line, "metrics.listen: " + printable(message)});
      return;
    }
    cfg.metricsListen = v;
    return;
  }
  if (v.empty()) {
    cfg.metricsTextfile.clear();
    return;
  }
  if (v.front() != '/' || v.find('\0') != std::string::npos || v.back() == '/') {
    errors.push_back({line, "metrics.textfile must be an absolute file path"});
    return;
  }
  if (!v.ends_with(".prom")) {
    errors.push_back({line, "metrics.textfile \"" + printable(v) +
                                "\" must end in .prom (node_exporter's textfile collector reads only *.prom files)"});
    return;
  }
  cfg.metricsTextfile = v;
}

// [network] protect (interface names, as the kernel accepts them) and ignore_macs.
void parseNetworkList(std::string_view name, const toml::node& node, NetworkSettings& net,
                      std::vector<ConfigError>& errors) {
  const bool macs = name == "ignore_macs";
  const toml::array* arr = node.as_array();
  if (arr == nullptr) {
    errors.push_back({lineOf(node), macs ? "network.ignore_macs must be an array of MAC addresses (\"02:00:00:00:00:01\")"
                                         : "network.protect must be an array of interface names"});
    return;
  }
  for (const auto& item : *arr) {
    const auto* str = item.as_string();
    const int line = lineOf(item);
    if (str == nullptr) {
      errors.push_back({line, fmt("network.%.*s: every entry must be a string", static_cast<int>(name.size()), name.data())});
      continue;
    }
    const std::string& v = str->get();
    if (macs) {
      auto m = Mac::parse(v);
      if (!m) {
        errors.push_back({line, "network.ignore_macs: \"" + printable(v) +
                                    "\" is not a MAC address (six hex pairs separated by ':', e.g. \"02:00:00:00:00:01\")"});
        continue;
      }
      net.ignoreMacs.push_back(m->str());
      continue;
    }
    // The kernel's rule (dev_valid_name): 1 to 15 bytes, not "." or "..", no '/', ':' or
    // white space.
    const bool badChar = std::any_of(v.begin(), v.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return c == '/' || c == ':' || u <= 0x20 || u == 0x7f;
    });
    if (v.empty() || v.size() > 15 || v == "." || v == ".." || badChar) {
      errors.push_back({line, "network.protect: \"" + printable(v) +
                                  "\" is not an interface name (1 to 15 characters, no '/', ':' or white space)"});
      continue;
    }
    net.protect.push_back(v);
  }
}

}  // namespace

bool parsePattern(std::string_view text, Pattern& out, std::string& message) {
  // Messages show the pattern escaped: it may hold any byte.
  const std::string shown = "pattern \"" + printable(text) + "\"";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      // Refused: a pattern must read as what it matches wherever it is shown, and the
      // command lines patterns see hold none (control characters are '?' there).
      message = shown + ": control character " + printable(text.substr(i, 1)) + " at byte " +
                std::to_string(i + 1) + " (patterns may not hold control characters)";
      return false;
    }
  }
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    message = shown + " has no field: write <field>:<glob>, field one of name, cmdline, exe, cgroup, user";
    return false;
  }
  std::string_view field = text.substr(0, colon);
  std::string_view glob = text.substr(colon + 1);
  if (field == "name") out.field = Pattern::Field::Name;
  else if (field == "cmdline") out.field = Pattern::Field::Cmdline;
  else if (field == "exe") out.field = Pattern::Field::Exe;
  else if (field == "cgroup") out.field = Pattern::Field::Cgroup;
  else if (field == "user") out.field = Pattern::Field::User;
  else {
    message = shown + ": unknown field \"" + printable(field) + "\" (one of name, cmdline, exe, cgroup, user)";
    return false;
  }
  if (glob.empty()) {
    message = shown + ": empty glob";
    return false;
  }
  out.glob = std::string(glob);
  out.text = std::string(text);
  return true;
}

Config::Config() {
  for (const auto& s : kSettings) values_[static_cast<std::size_t>(s.key)] = s.def;
}

Config Config::parse(std::string_view text, std::string_view path, std::vector<ConfigError>& errors) {
  Config cfg;
  const std::size_t firstError = errors.size();
  // The line of each setting the file sets (0: not set), for errors between two keys.
  std::array<int, kSettingCount> keyLine{};
  int diskOverrideLine = 0;  // the last [disk] threshold key (a cross-key error's line)
  if (nonAsciiErrors(text, errors)) return cfg;
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    errors.push_back({std::max(1, static_cast<int>(e.source().begin.line)), printable(e.description())});
    return cfg;
  }

  for (auto&& [sectionKey, sectionNode] : root) {
    std::string_view section = sectionKey.str();
    int sectionLine = static_cast<int>(sectionKey.source().begin.line);
    if (!knownSection(section)) {
      errors.push_back({sectionLine, "unknown section [" + printable(section) + "]"});
      continue;
    }
    const toml::table* table = sectionNode.as_table();
    if (table == nullptr) {
      errors.push_back({sectionLine, fmt("\"%.*s\" must be a section ([%.*s])", static_cast<int>(section.size()),
                                         section.data(), static_cast<int>(section.size()), section.data())});
      continue;
    }
    for (auto&& [key, node] : *table) {
      std::string_view name = key.str();
      int line = lineOf(node);
      if (section == "kill" && (name == "prefer" || name == "avoid" || name == "protect")) {
        auto& list = name == "prefer" ? cfg.prefer : name == "avoid" ? cfg.avoid : cfg.protect;
        const toml::array* arr = node.as_array();
        if (arr == nullptr) {
          errors.push_back({line, fmt("kill.%.*s must be an array of strings", static_cast<int>(name.size()), name.data())});
          continue;
        }
        for (const auto& item : *arr) {
          const auto* str = item.as_string();
          if (str == nullptr) {
            errors.push_back({lineOf(item), fmt("kill.%.*s: every entry must be a string", static_cast<int>(name.size()), name.data())});
            continue;
          }
          Pattern p;
          std::string message;
          if (parsePattern(str->get(), p, message)) list.push_back(std::move(p));
          else errors.push_back({lineOf(item), "kill." + std::string(name) + ": " + message});
        }
        continue;
      }
      if (section == "disk") {
        if (parseOverride("disk", name, node, cfg.disk.all, errors)) {
          diskOverrideLine = std::max(diskOverrideLine, line);
          continue;
        }
        if (name == "watch" || name == "clean") {
          (void)pathList(name, node, name == "watch" ? cfg.disk.watch : cfg.disk.clean, errors);
          continue;
        }
        if (name == "mount") {
          parseDiskMounts(node, cfg, errors);
          continue;
        }
      }
      if (section == "network" && (name == "protect" || name == "ignore_macs")) {
        parseNetworkList(name, node, cfg.network, errors);
        continue;
      }
      if (section == "vm" && (name == "libvirt_uri" || name == "save_dir")) {
        const auto* str = node.as_string();
        std::string& target = name == "libvirt_uri" ? cfg.libvirtUri : cfg.saveDir;
        if (str == nullptr || str->get().empty()) {
          errors.push_back({line, fmt("vm.%.*s must be a non-empty string", static_cast<int>(name.size()), name.data())});
          continue;
        }
        if (name == "save_dir" && str->get().front() != '/') {
          errors.push_back({line, "vm.save_dir must be an absolute path"});
          continue;
        }
        target = str->get();
        continue;
      }
      if (section == "metrics" && (name == "listen" || name == "textfile")) {
        parseMetricsString(name, node, cfg, errors);
        continue;
      }
      if (section == "recorder" && name == "dir") {
        const auto* str = node.as_string();
        if (str == nullptr || str->get().empty() || str->get().front() != '/') {
          errors.push_back({line, "recorder.dir must be an absolute path"});
          continue;
        }
        cfg.recorderDir = str->get();
        continue;
      }
      const Setting* s = findSetting(section, name);
      if (s == nullptr) {
        errors.push_back({line, "unknown key \"" + printable(name) + "\" in [" + std::string(section) + "]"});
        continue;
      }
      double v = 0;
      bool typeOk = false;
      if (s->kind == Kind::Bool) {
        if (auto b = node.value_exact<bool>()) {
          v = *b ? 1 : 0;
          typeOk = true;
        }
      } else if (isIntegerKind(s->kind)) {
        if (auto i = node.value_exact<int64_t>()) {
          v = static_cast<double>(*i);
          typeOk = true;
        }
      } else if (node.is_integer() || node.is_floating_point()) {
        v = *node.value<double>();
        typeOk = std::isfinite(v);
      }
      if (!typeOk) {
        errors.push_back({line, fmt("%s.%s must be %s", s->section, s->name, kindName(s->kind))});
        continue;
      }
      if (v < s->min || v > s->max) {
        errors.push_back({line, fmt("%s.%s = %g is out of range [%g, %g]", s->section, s->name, v, s->min, s->max)});
        continue;
      }
      cfg.set(s->key, v);
      keyLine[static_cast<std::size_t>(s->key)] = line;
    }
  }
  // An error between two keys is on the line of the one written last (the defaults
  // agree with each other: at least one of the two was set by the file).
  auto lineOfPair = [&](Key a, Key b) {
    return std::max({keyLine[static_cast<std::size_t>(a)], keyLine[static_cast<std::size_t>(b)], 1});
  };
  if (cfg.get(Key::MemorySoftPercent) < cfg.get(Key::MemoryHardPercent))
    errors.push_back({lineOfPair(Key::MemorySoftPercent, Key::MemoryHardPercent),
                      fmt("memory.soft_percent (%g) must not be below memory.hard_percent (%g)",
                          cfg.get(Key::MemorySoftPercent), cfg.get(Key::MemoryHardPercent))});
  checkOverrides("disk", cfg.disk.all, std::max(diskOverrideLine, 1), errors);
  if (cfg.get(Key::SamplingMinIntervalMs) > cfg.get(Key::SamplingMaxIntervalMs))
    errors.push_back({lineOfPair(Key::SamplingMinIntervalMs, Key::SamplingMaxIntervalMs),
                      fmt("sampling.min_interval_ms (%g) must not exceed sampling.max_interval_ms (%g)",
                          cfg.get(Key::SamplingMinIntervalMs), cfg.get(Key::SamplingMaxIntervalMs))});
  // In the order of the file (toml++ visits the keys of a table in name order).
  std::stable_sort(errors.begin() + static_cast<std::ptrdiff_t>(firstError), errors.end(),
                   [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
  return cfg;
}

Config Config::load(const std::string& path, std::vector<ConfigError>& errors) {
  // Only a regular file is read: a FIFO would block the open for ever.
  auto text = sys::readRegularFile(path);
  if (!text) {
    // The message is about the file as a whole: without its path, which the caller
    // prints once in front of it.
    const Error& e = text.error();
    std::string_view what = e.message();
    if (what.starts_with(path) && what.substr(path.size()).starts_with(": ")) what.remove_prefix(path.size() + 2);
    errors.push_back({0, e.code == ENOENT ? std::string("no such file") : std::string(what), e.code});
    return Config();
  }
  return parse(*text, path, errors);
}

std::string Config::toToml() const {
  std::string out;
  // A TOML basic string in ASCII (what parse() reads back): escapes for '"', '\\', control
  // characters, and every character beyond ASCII (a byte that is not UTF-8 becomes
  // U+FFFD: TOML strings are Unicode).
  auto quoted = [&](const std::string& text) {
    std::string q = "\"";
    for (std::size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c == '"' || c == '\\') {
        q += '\\';
        q += static_cast<char>(c);
      } else if (c < 0x20 || c == 0x7f) {
        q += fmt("\\u%04x", static_cast<unsigned>(c));
      } else if (c >= 0x80) {
        const long cp = utf8CodePoint(std::string_view(text).substr(i));
        if (cp < 0) {
          q += "\\ufffd";
          continue;
        }
        q += cp > 0xffff ? fmt("\\U%08lx", cp) : fmt("\\u%04lx", cp);
        i += cp < 0x800 ? 1 : cp < 0x10000 ? 2 : 3;
      } else {
        q += static_cast<char>(c);
      }
    }
    return q + "\"";
  };
  auto list = [&](const char* name, const std::vector<Pattern>& ps) {
    out += fmt("%s = [", name);
    for (std::size_t i = 0; i < ps.size(); ++i) out += (i ? ", " : "") + quoted(ps[i].text);
    out += "]\n";
  };
  auto vmStrings = [&] {
    out += "# libvirt connection URI (the ork-virt helper opens it read-only in dry-run)\n";
    out += "libvirt_uri = " + quoted(libvirtUri) + "\n";
    out += "# the directory libvirt writes managed saves to: its filesystem must have room\n";
    out += "save_dir = " + quoted(saveDir) + "\n";
  };
  auto diskStrings = [&] {
    auto paths = [&](const char* name, const std::vector<std::string>& ps) {
      out += fmt("%s = [", name);
      for (std::size_t i = 0; i < ps.size(); ++i) out += (i ? ", " : "") + quoted(ps[i]);
      out += "]\n";
    };
    auto overrides = [&](const DiskOverrides& o, bool comments) {
      auto one = [&](const char* name, const std::optional<double>& v, const char* doc) {
        if (comments) out += fmt("# %s\n", doc);
        if (v) out += fmt("%s = %g\n", name, *v);
        else if (comments) out += fmt("# %s = (per class, see docs/configuration.md)\n", name);
      };
      one("soft_percent", o.softPercent, "set: overrides the soft bytes threshold (percent of the filesystem, no cap) of every class");
      one("hard_percent", o.hardPercent, "set: overrides the hard bytes threshold of every class");
      one("inodes_soft_percent", o.inodesSoftPercent, "set: overrides the soft inodes threshold of every class");
      one("inodes_hard_percent", o.inodesHardPercent, "set: overrides the hard inodes threshold of every class");
    };
    out += "# only these mountpoints (empty: every real filesystem; network ones only when listed)\n";
    paths("watch", disk.watch);
    out += "# the places step 1 may clean: a directory, or a file and its rotated siblings\n";
    paths("clean", disk.clean);
    overrides(disk.all, true);
    for (const auto& m : disk.mounts) {
      out += "\n[disk.mount." + quoted(m.mountPoint) + "]\n";
      overrides(m.thresholds, false);
      if (!m.diskClass.empty()) out += "class = " + quoted(m.diskClass) + "\n";
    }
  };
  auto recorderStrings = [&] {
    out += "# the directory of the flight recorder's file (recorder.ring)\n";
    out += "dir = " + quoted(recorderDir) + "\n";
  };
  auto networkStrings = [&] {
    auto names = [&](const char* name, const std::vector<std::string>& ps) {
      out += fmt("%s = [", name);
      for (std::size_t i = 0; i < ps.size(); ++i) out += (i ? ", " : "") + quoted(ps[i]);
      out += "]\n";
    };
    out += "# interfaces never put down, besides the default-route and management ones and what they belong to\n";
    names("protect", network.protect);
    out += "# MACs never counted as duplicates (VRRP's 00:00:5e:00:01:xx and 00:00:5e:00:02:xx never are)\n";
    names("ignore_macs", network.ignoreMacs);
  };
  auto patterns = [&] {
    out += "# patterns \"<field>:<glob>\", field one of name, cmdline, exe, cgroup, user\n";
    list("prefer", prefer);
    list("avoid", avoid);
    list("protect", protect);
  };
  auto metricsStrings = [&] {
    out += "# HTTP GET /metrics on ADDRESS:PORT, e.g. \"127.0.0.1:9464\" (empty: off)\n";
    out += "listen = " + quoted(metricsListen) + "\n";
    out += "# a *.prom file for node_exporter's textfile collector, written atomically (empty: off)\n";
    out += "textfile = " + quoted(metricsTextfile) + "\n";
  };
  const char* current = "";
  for (const auto& s : kSettings) {
    if (std::strcmp(current, s.section) != 0) {
      if (std::strcmp(current, "kill") == 0) patterns();
      if (std::strcmp(current, "vm") == 0) vmStrings();
      if (std::strcmp(current, "disk") == 0) diskStrings();
      if (std::strcmp(current, "metrics") == 0) metricsStrings();
      if (std::strcmp(current, "recorder") == 0) recorderStrings();
      if (std::strcmp(current, "network") == 0) networkStrings();
      if (!out.empty()) out += "\n";
      out += fmt("[%s]\n", s.section);
      current = s.section;
    }
    double v = get(s.key);
    out += fmt("# %s\n", s.doc);
    if (s.kind == Kind::Bool) out += fmt("%s = %s\n", s.name, v != 0 ? "true" : "false");
    else if (isIntegerKind(s.kind)) out += fmt("%s = %lld\n", s.name, static_cast<long long>(v));
    else {
      // Shortest text that reads back as the same double (%g would round to 6 digits).
      char num[32];
      auto res = std::to_chars(num, num + sizeof num, v);
      std::string text(num, res.ptr);
      if (text.find_first_of(".e") == std::string::npos) text += ".0";
      out += fmt("%s = %s\n", s.name, text.c_str());
    }
  }
  if (std::strcmp(current, "kill") == 0) patterns();
  if (std::strcmp(current, "vm") == 0) vmStrings();
  if (std::strcmp(current, "disk") == 0) diskStrings();
  if (std::strcmp(current, "metrics") == 0) metricsStrings();
  if (std::strcmp(current, "recorder") == 0) recorderStrings();
  if (std::strcmp(current, "network") == 0) networkStrings();
  return out;
}

}  // namespace ork::config
