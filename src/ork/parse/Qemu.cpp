#include "ork/parse/Qemu.h"

#include <limits>
#include <string>
#include <vector>

#include "ork/parse/ParseUtil.h"

namespace ork::parse {

using detail::isDigit;
using detail::kParseErrorCode;

namespace {

constexpr std::string_view kDeleted = " (deleted)";

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isQemuName(std::string_view name) {
  // "qemu-system-" alone is no program; an arch must follow.
  return (startsWith(name, "qemu-system-") && name.size() > 12) || name == "qemu-kvm" ||
         name == "kvm";
}

// The NUL-terminated arguments of a /proc/PID/cmdline. An argument without its NUL is
// the part of a longer one that the reader's cap let through: next() never yields it.
class Args {
 public:
  explicit Args(std::string_view raw) : rest_(raw) {}
  bool next(std::string_view& arg) {
    const std::size_t nul = rest_.find('\0');
    if (nul == std::string_view::npos) {
      rest_ = {};
      return false;
    }
    arg = rest_.substr(0, nul);
    rest_.remove_prefix(nul + 1);
    return true;
  }

 private:
  std::string_view rest_;
};

// One item of a QemuOpts list, as qemu's get_opt_name_value() splits it: "key=value",
// or for the first item without '=' before any ',', the implied key; ",," in a value
// is a literal ','. Keys cannot hold ',' or '='. A flag "foo" gets an empty value.
class OptsReader {
 public:
  OptsReader(std::string_view text, std::string_view impliedKey)
      : rest_(text), implied_(impliedKey) {}

  // value is unescaped into a buffer owned by the reader, valid until the next call.
  bool next(std::string_view& key, std::string_view& value) {
    if (rest_.empty()) return false;
    const std::size_t len = rest_.find_first_of("=,");
    const bool hasEquals = len != std::string_view::npos && rest_[len] == '=';
    const bool first = first_;
    first_ = false;
    if (!hasEquals) {
      if (first && !implied_.empty()) {
        key = implied_;
        readValue();
        value = value_;
        return true;
      }
      key = rest_.substr(0, len);
      value = {};
      rest_.remove_prefix(len == std::string_view::npos ? rest_.size() : len + 1);
      return true;
    }
    key = rest_.substr(0, len);
    rest_.remove_prefix(len + 1);
    readValue();
    value = value_;
    return true;
  }

 private:
  // Reads up to the first ',' not doubled, and past it.
  void readValue() {
    value_.clear();
    for (;;) {
      const std::size_t comma = rest_.find(',');
      if (comma == std::string_view::npos) {
        value_.append(rest_);
        rest_ = {};
        return;
      }
      if (comma + 1 < rest_.size() && rest_[comma + 1] == ',') {
        value_.append(rest_.substr(0, comma + 1));
        rest_.remove_prefix(comma + 2);
        continue;
      }
      value_.append(rest_.substr(0, comma));
      rest_.remove_prefix(comma + 1);
      return;
    }
  }

  std::string_view rest_;
  std::string_view implied_;
  std::string value_;
  bool first_ = true;
};

// ---- a minimal JSON reader for libvirt's -object '{"qom-type":...}' -----------------
// Only the top-level members matter (qom-type, id, size); nested values are skipped.
// Iterative, bounded by the input: hostile nesting cannot exhaust the stack.
class Json {
 public:
  explicit Json(std::string_view s) : s_(s) {}

  void skipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool eat(char c) {
    skipSpace();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    skipSpace();
    return i_ < s_.size() && s_[i_] == c;
  }
  // A string; escapes decoded (\uXXXX above ASCII becomes '?': only ASCII ids matter).
  bool string(std::string& out) {
    out.clear();
    if (!eat('"')) return false;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          if (i_ + 4 > s_.size()) return false;
          unsigned v = 0;
          for (int k = 0; k < 4; ++k) {
            const int h = hexValue(s_[i_++]);
            if (h < 0) return false;
            v = (v << 4) | static_cast<unsigned>(h);
          }
          out += v < 0x80 ? static_cast<char>(v) : '?';
          break;
        }
        default:  // \" \\ \/
          out += e;
          break;
      }
    }
    return false;
  }
  // A non-negative integer; false (and the value skipped) for anything else.
  bool integer(std::uint64_t& out) {
    skipSpace();
    const std::size_t start = i_;
    while (i_ < s_.size() && isDigit(s_[i_])) ++i_;
    std::string_view digits = s_.substr(start, i_ - start);
    // "1e9", "1.5", "-1", "true": not the integer a size must be; skipped whole.
    if (digits.empty() || (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E'))) {
      i_ = start;
      skipValue();
      return false;
    }
    return detail::parseInt(digits, out);
  }
  // Skips one value of any kind; false when the text is not well-formed that far.
  bool skipValue() {
    skipSpace();
    if (i_ >= s_.size()) return false;
    if (s_[i_] == '"') {
      std::string ignored;
      return string(ignored);
    }
    if (s_[i_] != '{' && s_[i_] != '[') {
      // A scalar: runs to the next delimiter.
      const std::size_t start = i_;
      while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && s_[i_] != ' ' &&
             s_[i_] != '\t' && s_[i_] != '\n' && s_[i_] != '\r')
        ++i_;
      return i_ > start;
    }
    // Brackets: count depth, stepping over strings (which may hold brackets).
    std::size_t depth = 0;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '"') {
        std::string ignored;
        if (!string(ignored)) return false;
        continue;
      }
      ++i_;
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return true;
      }
    }
    return false;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

struct MemoryBackend {
  std::string id;
  std::uint64_t size = 0;
};

bool isMemoryBackendType(std::string_view type) { return startsWith(type, "memory-backend-"); }

// -object memory-backend-*,id=X,size=N (key=value: N in bytes unless suffixed) or
// -object {"qom-type":"memory-backend-*","id":"X","size":N}. Other objects (secrets,
// iothreads, ...) and malformed ones yield nothing.
bool parseMemoryBackend(std::string_view value, MemoryBackend& out) {
  std::string type;
  std::string id;
  std::optional<std::uint64_t> size;
  if (!value.empty() && value.front() == '{') {
    Json json(value);
    if (!json.eat('{')) return false;
    if (!json.eat('}')) {
      std::string key;
      std::string text;
      do {
        if (!json.string(key) || !json.eat(':')) return false;
        if (key == "qom-type" || key == "id") {
          if (!json.string(text)) return false;
          (key == "id" ? id : type) = text;
        } else if (key == "size") {
          if (json.peek('"')) {
            // Tolerated: a size given as a qemu size string.
            if (!json.string(text)) return false;
            size = parseQemuSize(text, 1);
          } else {
            std::uint64_t n = 0;
            size = json.integer(n) ? std::optional<std::uint64_t>(n) : std::nullopt;
          }
        } else if (!json.skipValue()) {
          return false;
        }
      } while (json.eat(','));
      if (!json.eat('}')) return false;
    }
  } else {
    OptsReader opts(value, "qom-type");
    std::string_view key;
    std::string_view v;
    while (opts.next(key, v)) {
      if (key == "qom-type")
        type = v;
      else if (key == "id")
        id = v;
      else if (key == "size")
        size = parseQemuSize(v, 1);
    }
  }
  if (!isMemoryBackendType(type) || id.empty() || !size || *size == 0) return false;
  out.id = std::move(id);
  out.size = *size;
  return true;
}

// -smp: every key qemu 7.2 knows; the last occurrence of each wins.
struct Smp {
  std::optional<std::uint64_t> cpus, maxcpus, drawers, books, sockets, dies, clusters, cores,
      threads;

  void merge(std::string_view value) {
    OptsReader opts(value, "cpus");
    std::string_view key;
    std::string_view v;
    while (opts.next(key, v)) {
      std::uint64_t n = 0;
      if (!detail::parseInt(v, n)) continue;  // qemu would not have started: ignore
      if (key == "cpus")
        cpus = n;
      else if (key == "maxcpus")
        maxcpus = n;
      else if (key == "drawers")
        drawers = n;
      else if (key == "books")
        books = n;
      else if (key == "sockets")
        sockets = n;
      else if (key == "dies")
        dies = n;
      else if (key == "clusters")
        clusters = n;
      else if (key == "cores")
        cores = n;
      else if (key == "threads")
        threads = n;
    }
  }

  // qemu's rule (machine_parse_smp_config): cpus if given, else maxcpus, else the
  // product of the topology; 0 counts as not given. 0 when nothing says.
  int vcpus() const {
    constexpr std::uint64_t kMax = 1 << 20;  // far above any real guest
    auto given = [](const std::optional<std::uint64_t>& v) { return v && *v > 0; };
    std::uint64_t n = 0;
    if (given(cpus)) {
      n = *cpus;
    } else if (given(maxcpus)) {
      n = *maxcpus;
    } else {
      bool any = false;
      n = 1;
      for (const auto* part : {&drawers, &books, &sockets, &dies, &clusters, &cores, &threads}) {
        if (!given(*part)) continue;
        any = true;
        if (__builtin_mul_overflow(n, **part, &n) || n > kMax) return 0;
      }
      if (!any) n = 0;
    }
    return n > kMax ? 0 : static_cast<int>(n);
  }
};

}  // namespace

bool isQemuComm(std::string_view comm) { return isQemuName(comm); }

bool isQemuProgramPath(std::string_view path) {
  if (path.size() >= kDeleted.size() && path.substr(path.size() - kDeleted.size()) == kDeleted) {
    path.remove_suffix(kDeleted.size());
  }
  const std::size_t slash = path.rfind('/');
  if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
  return isQemuName(path);
}

bool isQemuProgram(std::string_view comm, std::string_view exe) {
  return exe.empty() ? isQemuComm(comm) : isQemuProgramPath(exe);
}

std::optional<std::uint64_t> parseQemuSize(std::string_view text, std::uint64_t defaultUnit) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::size_t i = 0;
  std::uint64_t whole = 0;
  std::uint64_t fracNum = 0;  // the fraction as fracNum / fracDen
  std::uint64_t fracDen = 1;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    i = 2;
    const std::size_t start = i;
    for (int d; i < text.size() && (d = hexValue(text[i])) >= 0; ++i) {
      if (whole > (kMax >> 4)) return std::nullopt;
      whole = (whole << 4) | static_cast<std::uint64_t>(d);
    }
    if (i == start) return std::nullopt;
  } else {
    const std::size_t start = i;
    for (; i < text.size() && isDigit(text[i]); ++i) {
      if (__builtin_mul_overflow(whole, 10, &whole) ||
          __builtin_add_overflow(whole, static_cast<std::uint64_t>(text[i] - '0'), &whole))
        return std::nullopt;
    }
    if (i == start) return std::nullopt;
    if (i < text.size() && text[i] == '.') {
      ++i;
      const std::size_t fracStart = i;
      for (; i < text.size() && isDigit(text[i]); ++i) {
        // Digits past the 15th cannot change a byte count below 2^63 by a whole unit
        // of any suffix we accept; keep the arithmetic in range by dropping them.
        if (i - fracStart >= 15) continue;
        fracNum = fracNum * 10 + static_cast<std::uint64_t>(text[i] - '0');
        fracDen *= 10;
      }
      if (i == fracStart) return std::nullopt;
    }
  }
  std::uint64_t unit = defaultUnit;
  if (i < text.size()) {
    switch (text[i]) {
      case 'b':
      case 'B':
        unit = 1;
        break;
      case 'k':
      case 'K':
        unit = 1ULL << 10;
        break;
      case 'm':
      case 'M':
        unit = 1ULL << 20;
        break;
      case 'g':
      case 'G':
        unit = 1ULL << 30;
        break;
      case 't':
      case 'T':
        unit = 1ULL << 40;
        break;
      case 'p':
      case 'P':
        unit = 1ULL << 50;
        break;
      case 'e':
      case 'E':
        unit = 1ULL << 60;
        break;
      default:
        return std::nullopt;
    }
    ++i;
  }
  if (i != text.size()) return std::nullopt;
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(whole, unit, &bytes)) return std::nullopt;
  if (fracNum != 0) {
    // fracNum * unit may overflow: divide first, then add what the remainder gives.
    const std::uint64_t q = unit / fracDen;
    const std::uint64_t r = unit % fracDen;
    std::uint64_t part = 0;
    if (__builtin_mul_overflow(fracNum, q, &part)) return std::nullopt;
    part +=
        static_cast<std::uint64_t>(static_cast<long double>(fracNum) * static_cast<long double>(r) /
                                   static_cast<long double>(fracDen));
    if (__builtin_add_overflow(bytes, part, &bytes)) return std::nullopt;
  }
  if (bytes > kMax) return std::nullopt;
  return bytes;
}

std::string_view normalizeUuid(std::string_view text, char (&out)[37]) {
  out[0] = '\0';
  if (text.size() != 36) return {};
  for (std::size_t i = 0; i < 36; ++i) {
    char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return {};
    } else if (isDigit(c) || (c >= 'a' && c <= 'f')) {
      // as is
    } else if (c >= 'A' && c <= 'F') {
      c = static_cast<char>(c - 'A' + 'a');
    } else {
      return {};
    }
    out[i] = c;
  }
  out[36] = '\0';
  return {out, 36};
}

Result<QemuCommand> parseQemuCmdline(std::string_view raw) {
  Args args(raw);
  std::string_view arg;
  if (!args.next(arg)) return Error::make(kParseErrorCode, "qemu cmdline: no complete argv[0]");
  if (!isQemuProgramPath(arg)) {
    return Error::make(kParseErrorCode, "not a qemu command line: argv[0] is \"%.*s\"",
                       static_cast<int>(arg.size() > 64 ? 64 : arg.size()), arg.data());
  }

  QemuCommand cmd;
  std::optional<std::string> memSize;  // the -m size= text (suffix-less means MiB)
  std::string machineBackend;          // -machine memory-backend=
  std::vector<MemoryBackend> backends;
  Smp smp;

  // Options are recognised by name and only the six read here consume a value: every
  // other argument is stepped over alone. Knowing which of qemu's ~200 options take a
  // value would matter only if such a value were exactly "-m" or "-name".
  while (args.next(arg)) {
    if (arg.size() < 2 || arg[0] != '-') continue;  // a positional disk image
    std::string_view opt = arg.substr(1);
    if (opt.size() > 1 && opt[0] == '-') opt.remove_prefix(1);  // --name == -name
    const bool known = opt == "name" || opt == "uuid" || opt == "m" || opt == "smp" ||
                       opt == "object" || opt == "machine" || opt == "M";
    if (!known) continue;
    std::string_view value;
    if (!args.next(value)) break;  // the value was cut off

    std::string_view key;
    std::string_view v;
    if (opt == "name") {
      OptsReader opts(value, "guest");
      while (opts.next(key, v))
        if (key == "guest") cmd.name = v;
    } else if (opt == "uuid") {
      char buf[37];
      cmd.uuid = normalizeUuid(value, buf);
    } else if (opt == "m") {
      OptsReader opts(value, "size");
      while (opts.next(key, v))
        if (key == "size") memSize = std::string(v);
    } else if (opt == "smp") {
      smp.merge(value);
    } else if (opt == "machine" || opt == "M") {
      OptsReader opts(value, "type");
      while (opts.next(key, v))
        if (key == "memory-backend")
          machineBackend = v;
        else if (key == "type")
          cmd.machine = v;
    } else {  // object
      MemoryBackend backend;
      if (parseMemoryBackend(value, backend)) backends.push_back(std::move(backend));
    }
  }

  if (memSize && !memSize->empty()) {
    // qemu appends "M" to a -m size that ends in a digit: "-m 512" is 512 MiB, while
    // "-m size=524288k" (libvirt) and "-m 2G" carry their unit (and so, oddly, does a
    // hex "-m 0x1f": 31 bytes, which qemu would then refuse).
    const std::uint64_t unit = isDigit(memSize->back()) ? 1ULL << 20 : 1;
    if (const auto bytes = parseQemuSize(*memSize, unit)) {
      cmd.memory = Bytes{static_cast<std::int64_t>(*bytes)};
    }
  }
  if (cmd.memory.value == 0 && !machineBackend.empty()) {
    for (auto it = backends.rbegin(); it != backends.rend(); ++it) {
      if (it->id == machineBackend) {
        cmd.memory = Bytes{static_cast<std::int64_t>(it->size)};
        break;
      }
    }
  }
  cmd.vcpus = smp.vcpus();
  return cmd;
}

}  // namespace ork::parse
