// The ORK <-> ork-virt message codec and the nova metadata reader. Decoding never
// trusts the peer: every field is bounded by the packet, numbers must fit, escapes must
// be complete, and a message lacking a required key is rejected rather than guessed.
#include "ork/parse/VirtProtocol.h"

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "ork/core/Mac.h"
#include "ork/parse/ParseUtil.h"

namespace ork::parse {

using detail::kParseErrorCode;
using detail::parseInt;

namespace {

constexpr std::array<std::string_view, 5> kOpNames = {"list", "save", "suspend", "resume", "ping"};

std::optional<VirtOp> opFromName(std::string_view s) {
  for (std::size_t i = 0; i < kOpNames.size(); ++i)
    if (kOpNames[i] == s) return static_cast<VirtOp>(i);
  return std::nullopt;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// value cut to kVirtMaxText bytes, backing off so as not to split a UTF-8 sequence.
std::string_view truncated(std::string_view value) {
  if (value.size() <= kVirtMaxText) return value;
  std::size_t n = kVirtMaxText;
  while (n > 0 && (static_cast<unsigned char>(value[n]) & 0xc0) == 0x80) --n;
  return value.substr(0, n);
}

class Writer {
 public:
  explicit Writer(std::string_view msg) {
    out_.reserve(256);
    out_ += "msg=";
    out_ += msg;
  }
  Writer& text(std::string_view key, std::string_view value) {
    out_ += '\t';
    out_ += key;
    out_ += '=';
    appendVirtEscaped(out_, truncated(value));
    return *this;
  }
  template <class T>
  Writer& num(std::string_view key, T value) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    out_ += '\t';
    out_ += key;
    out_ += '=';
    out_.append(buf, r.ptr);
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Walks the fields of a packet. Each known key is a bit in `seen`, so a repeated key
// (an attempt to override a value) is an error as well as a missing one.
class Fields {
 public:
  explicit Fields(std::string_view packet) : rest_(packet), empty_(packet.empty()) {}
  // false at the end; an error for a field without '='.
  Result<bool> next(std::string_view& key, std::string_view& value) {
    if (done_) return false;
    const std::size_t tab = rest_.find('\t');
    const std::string_view field = rest_.substr(0, tab);
    if (tab == std::string_view::npos) {
      done_ = true;
    } else {
      rest_.remove_prefix(tab + 1);
    }
    const std::size_t eq = field.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return Error::make(kParseErrorCode, "virt: malformed field");
    key = field.substr(0, eq);
    value = field.substr(eq + 1);
    return true;
  }
  bool empty() const { return empty_; }

 private:
  std::string_view rest_;
  bool empty_;
  bool done_ = false;
};

// Keys each message knows, in one table so that "seen" and "required" are bit masks.
enum KeyBit : std::uint32_t {
  kMsg = 1u << 0,
  kId = 1u << 1,
  kOp = 1u << 2,
  kUuid = 1u << 3,
  kDeadline = 1u << 4,
  kStatus = 1u << 5,
  kCode = 1u << 6,
  kTook = 1u << 7,
  kMessage = 1u << 8,
  kName = 1u << 9,
  kDomId = 1u << 10,
  kState = 1u << 11,
  kMemKib = 1u << 12,
  kMaxKib = 1u << 13,
  kVcpus = 1u << 14,
  kCpuNs = 1u << 15,
  kManagedSave = 1u << 16,
  kNovaName = 1u << 17,
  kNovaProject = 1u << 18,
  kNovaFlavor = 1u << 19,
  kNics = 1u << 20,
};

struct KeyName {
  std::string_view name;
  KeyBit bit;
};
constexpr KeyName kKeys[] = {
    {"msg", kMsg},
    {"id", kId},
    {"op", kOp},
    {"uuid", kUuid},
    {"deadline_ms", kDeadline},
    {"status", kStatus},
    {"code", kCode},
    {"took_ms", kTook},
    {"message", kMessage},
    {"name", kName},
    {"dom_id", kDomId},
    {"state", kState},
    {"mem_kib", kMemKib},
    {"max_kib", kMaxKib},
    {"vcpus", kVcpus},
    {"cpu_ns", kCpuNs},
    {"managed_save", kManagedSave},
    {"nova_name", kNovaName},
    {"nova_project", kNovaProject},
    {"nova_flavor", kNovaFlavor},
    {"nics", kNics},
};

std::uint32_t keyBit(std::string_view key) {
  for (const auto& k : kKeys)
    if (k.name == key) return k.bit;
  return 0;
}

Error fieldError(std::string_view key, const char* what) {
  return Error::make(kParseErrorCode, "virt: %s %.*s", what, static_cast<int>(key.size()),
                     key.data());
}

template <class T>
Result<T> number(std::string_view key, std::string_view value) {
  T v{};
  if (!parseInt(value, v)) return fieldError(key, "bad number in");
  return v;
}

// Every message kind decodes through this: calls onField(bit, key, value) for each
// known key once, checks the required ones afterwards.
template <class F>
Result<void> walk(std::string_view packet, std::uint32_t required, F&& onField) {
  Fields fields(packet);
  if (fields.empty()) return Error::make(kParseErrorCode, "virt: empty message");
  std::uint32_t seen = 0;
  std::string_view key, value;
  for (;;) {
    auto more = fields.next(key, value);
    if (!more) return more.error();
    if (!*more) break;
    const std::uint32_t bit = keyBit(key);
    if (bit == 0) continue;  // unknown: a newer peer's field
    if (seen & bit) return fieldError(key, "repeated key");
    seen |= bit;
    if (bit == kMsg) continue;
    if (auto r = onField(bit, key, value); !r) return r.error();
  }
  if ((seen & required) != required) {
    for (const auto& k : kKeys)
      if ((required & k.bit) && !(seen & k.bit)) return fieldError(k.name, "missing key");
  }
  return success();
}

// The value of msg=, found before anything else is decoded.
Result<std::string_view> messageKind(std::string_view packet) {
  if (packet.empty()) return Error::make(kParseErrorCode, "virt: empty message");
  Fields fields(packet);
  std::string_view key, value;
  for (;;) {
    auto more = fields.next(key, value);
    if (!more) return more.error();
    if (!*more) break;
    if (key == "msg") return value;
  }
  return Error::make(kParseErrorCode, "virt: missing key msg");
}

Result<void> text(std::string& out, std::string_view value) {
  auto v = unescapeVirtValue(value);
  if (!v) return v.error();
  out = std::move(*v);
  return success();
}

Result<void> decodeDomainField(VirtDomain& d, std::uint32_t bit, std::string_view key,
                               std::string_view value) {
  switch (bit) {
    case kUuid:
      return text(d.uuid, value);
    case kName:
      return text(d.name, value);
    case kState:
      return text(d.state, value);
    case kNovaName:
      return text(d.novaName, value);
    case kNovaProject:
      return text(d.novaProject, value);
    case kNovaFlavor:
      return text(d.novaFlavor, value);
    case kNics:
      return text(d.nics, value);
    case kDomId: {
      auto n = number<int>(key, value);
      if (!n) return n.error();
      d.id = *n;
      return success();
    }
    case kVcpus: {
      auto n = number<int>(key, value);
      if (!n) return n.error();
      d.vcpus = *n;
      return success();
    }
    case kMemKib:
    case kMaxKib: {
      auto n = number<std::uint64_t>(key, value);
      if (!n) return n.error();
      (bit == kMemKib ? d.memory : d.maxMemory) = detail::bytesFromKib(*n);
      return success();
    }
    case kCpuNs: {
      auto n = number<std::uint64_t>(key, value);
      if (!n) return n.error();
      d.cpuNs = *n;
      return success();
    }
    case kManagedSave:
      if (value != "0" && value != "1") return fieldError(key, "bad flag in");
      d.managedSave = value == "1";
      return success();
    default:
      return success();  // a key of another message kind: ignored
  }
}

}  // namespace

std::string_view virtOpName(VirtOp op) {
  const auto i = static_cast<std::size_t>(op);
  return i < kOpNames.size() ? kOpNames[i] : "unknown";
}

std::string_view virtStateName(int s) {
  // The order of virDomainState (libvirt-domain.h), stable since libvirt 0.x.
  constexpr std::array<std::string_view, 8> kNames = {
      "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended"};
  return s >= 0 && static_cast<std::size_t>(s) < kNames.size() ? kNames[static_cast<std::size_t>(s)]
                                                               : "unknown";
}

void appendVirtEscaped(std::string& out, std::string_view value) {
  constexpr char kHex[] = "0123456789abcdef";
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
}

Result<std::string> unescapeVirtValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == value.size()) return Error::make(kParseErrorCode, "virt: truncated escape");
    switch (value[i]) {
      case '\\':
        out += '\\';
        break;
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'x': {
        if (i + 2 >= value.size()) return Error::make(kParseErrorCode, "virt: truncated escape");
        const int hi = hexDigit(value[i + 1]);
        const int lo = hexDigit(value[i + 2]);
        if (hi < 0 || lo < 0) return Error::make(kParseErrorCode, "virt: bad escape");
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default:
        return Error::make(kParseErrorCode, "virt: bad escape");
    }
  }
  return out;
}

std::string encodeVirtRequest(const VirtRequest& r) {
  return Writer("req")
      .num("id", r.id)
      .text("op", virtOpName(r.op))
      .text("uuid", r.uuid)
      .num("deadline_ms", r.deadlineMs)
      .take();
}

std::string encodeVirtDomain(std::uint64_t id, const VirtDomain& d) {
  return Writer("domain")
      .num("id", id)
      .text("uuid", d.uuid)
      .text("name", d.name)
      .num("dom_id", d.id)
      .text("state", d.state)
      .num("mem_kib", d.memory.value < 0 ? 0 : d.memory.toKib())
      .num("max_kib", d.maxMemory.value < 0 ? 0 : d.maxMemory.toKib())
      .num("vcpus", d.vcpus)
      .num("cpu_ns", d.cpuNs)
      .num("managed_save", d.managedSave ? 1 : 0)
      .text("nova_name", d.novaName)
      .text("nova_project", d.novaProject)
      .text("nova_flavor", d.novaFlavor)
      .text("nics", d.nics)
      .take();
}

std::string encodeVirtReply(const VirtReply& r) {
  return Writer("reply")
      .num("id", r.id)
      .text("status", r.ok ? "ok" : "err")
      .num("code", r.code)
      .num("took_ms", r.tookMs)
      .text("message", r.message)
      .take();
}

Result<VirtRequest> decodeVirtRequest(std::string_view packet) {
  auto kind = messageKind(packet);
  if (!kind) return kind.error();
  if (*kind != "req") return Error::make(kParseErrorCode, "virt: not a request");
  VirtRequest r;
  auto walked =
      walk(packet, kMsg | kId | kOp | kDeadline,
           [&](std::uint32_t bit, std::string_view key, std::string_view value) -> Result<void> {
             switch (bit) {
               case kId: {
                 auto n = number<std::uint64_t>(key, value);
                 if (!n) return n.error();
                 r.id = *n;
                 return success();
               }
               case kDeadline: {
                 auto n = number<std::uint64_t>(key, value);
                 if (!n) return n.error();
                 r.deadlineMs = *n;
                 return success();
               }
               case kOp: {
                 const auto op = opFromName(value);
                 if (!op) return fieldError(key, "unknown value of");
                 r.op = *op;
                 return success();
               }
               case kUuid:
                 return text(r.uuid, value);
               default:
                 return success();
             }
           });
  if (!walked) return walked.error();
  const bool needsUuid = r.op == VirtOp::Save || r.op == VirtOp::Suspend || r.op == VirtOp::Resume;
  if (needsUuid && r.uuid.empty()) return fieldError("uuid", "missing key");
  return r;
}

std::optional<std::uint64_t> virtMessageId(std::string_view packet) {
  Fields fields(packet);
  std::string_view key, value;
  for (;;) {
    auto more = fields.next(key, value);
    if (!more || !*more) return std::nullopt;
    std::uint64_t id = 0;
    if (key == "id") return parseInt(value, id) ? std::optional(id) : std::nullopt;
  }
}

Result<VirtHelperMessage> decodeVirtHelperMessage(std::string_view packet) {
  auto kind = messageKind(packet);
  if (!kind) return kind.error();
  VirtHelperMessage m;
  if (*kind == "domain") {
    m.kind = VirtHelperMessage::Kind::Domain;
    auto walked =
        walk(packet, kMsg | kId | kUuid | kName | kState,
             [&](std::uint32_t bit, std::string_view key, std::string_view value) -> Result<void> {
               if (bit != kId) return decodeDomainField(m.domain, bit, key, value);
               auto n = number<std::uint64_t>(key, value);
               if (!n) return n.error();
               m.id = *n;
               return success();
             });
    if (!walked) return walked.error();
    return m;
  }
  if (*kind == "reply") {
    m.kind = VirtHelperMessage::Kind::Reply;
    auto walked =
        walk(packet, kMsg | kId | kStatus | kCode,
             [&](std::uint32_t bit, std::string_view key, std::string_view value) -> Result<void> {
               switch (bit) {
                 case kId: {
                   auto n = number<std::uint64_t>(key, value);
                   if (!n) return n.error();
                   m.id = m.reply.id = *n;
                   return success();
                 }
                 case kStatus:
                   if (value != "ok" && value != "err") return fieldError(key, "unknown value of");
                   m.reply.ok = value == "ok";
                   return success();
                 case kCode: {
                   auto n = number<int>(key, value);
                   if (!n) return n.error();
                   m.reply.code = *n;
                   return success();
                 }
                 case kTook: {
                   auto n = number<std::uint64_t>(key, value);
                   if (!n) return n.error();
                   m.reply.tookMs = *n;
                   return success();
                 }
                 case kMessage:
                   return text(m.reply.message, value);
                 default:
                   return success();
               }
             });
    if (!walked) return walked.error();
    return m;
  }
  return Error::make(kParseErrorCode, "virt: unknown message kind");
}

// ---- nova metadata -----------------------------------------------------------------

namespace {

std::string_view localName(std::string_view qname) {
  const std::size_t colon = qname.find(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// Decodes the five predefined entities and numeric character references (as UTF-8:
// nova's names are what a user typed). An unknown or broken reference is kept as is.
void appendDecoded(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const std::size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    const std::string_view ent = s.substr(i + 1, semi - i - 1);
    std::uint32_t cp = 0;
    bool known = true;
    if (ent == "amp")
      cp = '&';
    else if (ent == "lt")
      cp = '<';
    else if (ent == "gt")
      cp = '>';
    else if (ent == "quot")
      cp = '"';
    else if (ent == "apos")
      cp = '\'';
    else if (ent.size() > 1 && ent[0] == '#') {
      const bool hex = ent[1] == 'x' || ent[1] == 'X';
      const std::string_view digits = ent.substr(hex ? 2 : 1);
      const auto r =
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      known = !digits.empty() && r.ec == std::errc{} && r.ptr == digits.data() + digits.size() &&
              cp > 0 && cp <= 0x10ffff;
    } else {
      known = false;
    }
    if (!known) {
      out += s[i];
      continue;
    }
    // UTF-8 encoding of the code point.
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
    i = semi;
  }
}

// The value of attribute `want` (by local name) in the inside of a start tag.
std::optional<std::string_view> attribute(std::string_view attrs, std::string_view want) {
  std::size_t i = 0;
  while (i < attrs.size()) {
    while (i < attrs.size() &&
           (attrs[i] == ' ' || attrs[i] == '\t' || attrs[i] == '\n' || attrs[i] == '\r'))
      ++i;
    const std::size_t eq = attrs.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view name = attrs.substr(i, eq - i);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    std::size_t q = eq + 1;
    while (q < attrs.size() && (attrs[q] == ' ' || attrs[q] == '\t')) ++q;
    if (q >= attrs.size() || (attrs[q] != '"' && attrs[q] != '\'')) return std::nullopt;
    const std::size_t end = attrs.find(attrs[q], q + 1);
    if (end == std::string_view::npos) return std::nullopt;
    if (localName(name) == want) return attrs.substr(q + 1, end - q - 1);
    i = end + 1;
  }
  return std::nullopt;
}

// The open elements from the root, by local name. The documents read here are shallow:
// a small fixed stack suffices, and anything deeper is counted, not looked at.
class XmlPath {
 public:
  void open(std::string_view name) {
    if (depth_ < kMaxDepth) path_[depth_] = name;
    ++depth_;
  }
  void close() {
    if (depth_ > 0) --depth_;
  }
  // True when the open elements are exactly `want`, from the root.
  bool is(std::initializer_list<std::string_view> want) const {
    if (depth_ != want.size()) return false;
    std::size_t i = 0;
    for (const auto w : want)
      if (path_[i++] != w) return false;
    return true;
  }

 private:
  static constexpr std::size_t kMaxDepth = 8;
  std::array<std::string_view, kMaxDepth> path_{};
  std::size_t depth_ = 0;
};

// A tag as nextXmlTag() finds it.
struct XmlTag {
  bool closing = false;      // </name>: nothing else is filled in
  bool selfClosing = false;  // <name ... />
  std::string_view name;     // the local name
  std::string_view attrs;    // what follows the name inside the tag
};

// Moves i past the next start or end tag of xml and says what it is; comments, <?...?>
// and <!...> are passed over. onText(run) is called with every run of text on the way
// (also the last one, when no '<' follows). False when no complete tag is left.
template <class OnText>
bool nextXmlTag(std::string_view xml, std::size_t& i, XmlTag& out, OnText&& onText) {
  while (i < xml.size()) {
    const std::size_t lt = xml.find('<', i);
    onText(xml.substr(i, lt == std::string_view::npos ? xml.npos : lt - i));
    if (lt == std::string_view::npos) return false;
    if (xml.substr(lt, 4) == "<!--") {
      const std::size_t end = xml.find("-->", lt + 4);
      if (end == std::string_view::npos) return false;
      i = end + 3;
      continue;
    }
    const std::size_t gt = xml.find('>', lt + 1);
    if (gt == std::string_view::npos) return false;
    std::string_view tag = xml.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (tag.empty() || tag[0] == '?' || tag[0] == '!') continue;
    out = XmlTag{};
    if (tag[0] == '/') {
      out.closing = true;
      return true;
    }
    out.selfClosing = tag.back() == '/';
    if (out.selfClosing) tag.remove_suffix(1);
    std::size_t nameEnd = 0;
    while (nameEnd < tag.size() && tag[nameEnd] != ' ' && tag[nameEnd] != '\t' && tag[nameEnd] != '\n' &&
           tag[nameEnd] != '\r')
      ++nameEnd;
    out.name = localName(tag.substr(0, nameEnd));
    out.attrs = tag.substr(nameEnd);
    return true;
  }
  return false;
}

}  // namespace

NovaMetadata parseNovaMetadata(std::string_view xml) {
  XmlPath path;
  NovaMetadata out;
  std::string* capture = nullptr;  // the field whose text is being read
  auto text = [&](std::string_view run) {
    if (capture != nullptr) appendDecoded(*capture, run);
  };
  std::size_t i = 0;
  XmlTag tag;
  while (nextXmlTag(xml, i, tag, text)) {
    if (tag.closing) {
      capture = nullptr;
      path.close();
      continue;
    }
    path.open(tag.name);
    capture = nullptr;
    if (path.is({"instance", "flavor"})) {
      if (auto v = attribute(tag.attrs, "name")) {
        out.flavor.clear();
        appendDecoded(out.flavor, *v);
      }
    } else if (path.is({"instance", "name"}) && !tag.selfClosing) {
      out.name.clear();
      capture = &out.name;
    } else if (path.is({"instance", "owner", "project"}) && !tag.selfClosing) {
      out.project.clear();
      capture = &out.project;
    }
    if (tag.selfClosing) path.close();
  }
  return out;
}

std::vector<DomainNic> parseDomainInterfaces(std::string_view xml) {
  XmlPath path;
  std::vector<DomainNic> out;
  bool inInterface = false;
  DomainNic nic;
  auto close = [&] {
    if (inInterface && !nic.mac.empty()) out.push_back(nic);
    inInterface = false;
    nic = {};
  };
  std::size_t i = 0;
  XmlTag tag;
  while (nextXmlTag(xml, i, tag, [](std::string_view) {})) {
    if (tag.closing) {
      if (path.is({"domain", "devices", "interface"})) close();
      path.close();
      continue;
    }
    path.open(tag.name);
    if (path.is({"domain", "devices", "interface"})) {
      close();
      inInterface = !tag.selfClosing;
    } else if (inInterface && path.is({"domain", "devices", "interface", "mac"})) {
      if (auto v = attribute(tag.attrs, "address")) {
        std::string decoded;
        appendDecoded(decoded, *v);
        if (auto m = Mac::parse(decoded)) nic.mac = m->str();
      }
    } else if (inInterface && path.is({"domain", "devices", "interface", "target"})) {
      if (auto v = attribute(tag.attrs, "dev")) {
        nic.target.clear();
        appendDecoded(nic.target, *v);
      }
    }
    if (tag.selfClosing) path.close();
  }
  return out;
}

std::string formatNics(const std::vector<DomainNic>& nics) {
  std::string out;
  for (const auto& n : nics) {
    auto m = Mac::parse(n.mac);
    if (!m) continue;
    if (!out.empty()) out += ' ';
    out += m->str();
    out += '@';
    for (const char c : n.target) {
      if (c == ' ' || c == '@') break;
      out += c;
    }
  }
  return out;
}

std::vector<DomainNic> parseNics(std::string_view field) {
  std::vector<DomainNic> out;
  while (!field.empty()) {
    const std::size_t sp = field.find(' ');
    std::string_view one = field.substr(0, sp);
    field = sp == std::string_view::npos ? std::string_view{} : field.substr(sp + 1);
    const std::size_t at = one.find('@');
    auto m = Mac::parse(one.substr(0, at));
    if (!m) continue;
    out.push_back({m->str(), at == std::string_view::npos ? std::string() : std::string(one.substr(at + 1))});
  }
  return out;
}

}  // namespace ork::parse
