// libFuzzer: the ORK <-> ork-virt protocol decoders (VirtProtocol.h): decodeVirtRequest,
// decodeVirtHelperMessage, virtMessageId, unescapeVirtValue. Whatever decodes must
// encode and decode again to the same values (free text within kVirtMaxText, which the
// encoder cuts), and escaping must round-trip.
#include <string>

#include "ork/parse/VirtProtocol.h"
#include "fuzz/FuzzCheck.h"

namespace {

using namespace ork;
using namespace ork::parse;

bool fits(const std::string& s) { return s.size() <= kVirtMaxText; }

void requestRoundTrip(const VirtRequest& r) {
  if (!fits(r.uuid)) return;
  const std::string packet = encodeVirtRequest(r);
  fuzz::check(packet.size() <= kVirtMaxMessage);
  const auto again = decodeVirtRequest(packet);
  fuzz::check(again.ok());
  fuzz::check(again->id == r.id && again->op == r.op && again->uuid == r.uuid &&
              again->deadlineMs == r.deadlineMs);
  fuzz::check(virtMessageId(packet) == r.id);
}

void helperRoundTrip(const VirtHelperMessage& m) {
  std::string packet;
  if (m.kind == VirtHelperMessage::Kind::Domain) {
    const VirtDomain& d = m.domain;
    if (!fits(d.uuid) || !fits(d.name) || !fits(d.state) || !fits(d.novaName) ||
        !fits(d.novaProject) || !fits(d.novaFlavor)) {
      return;
    }
    packet = encodeVirtDomain(m.id, d);
  } else {
    if (!fits(m.reply.message)) return;
    packet = encodeVirtReply(m.reply);
  }
  fuzz::check(packet.size() <= kVirtMaxMessage);
  const auto again = decodeVirtHelperMessage(packet);
  fuzz::check(again.ok() && again->kind == m.kind && again->id == m.id);
  if (m.kind == VirtHelperMessage::Kind::Domain) {
    const VirtDomain &a = again->domain, &d = m.domain;
    fuzz::check(a.uuid == d.uuid && a.name == d.name && a.state == d.state && a.id == d.id &&
                a.vcpus == d.vcpus && a.cpuNs == d.cpuNs && a.managedSave == d.managedSave &&
                a.novaName == d.novaName && a.novaProject == d.novaProject &&
                a.novaFlavor == d.novaFlavor);
    // Memory travels in KiB: exact when it was whole KiB and not saturated.
    if (d.memory.value % 1024 == 0 && d.memory.value < (std::int64_t{1} << 62)) {
      fuzz::check(a.memory.value == d.memory.value);
    }
    if (d.maxMemory.value % 1024 == 0 && d.maxMemory.value < (std::int64_t{1} << 62)) {
      fuzz::check(a.maxMemory.value == d.maxMemory.value);
    }
  } else {
    const VirtReply &a = again->reply, &r = m.reply;
    fuzz::check(a.id == r.id && a.ok == r.ok && a.code == r.code && a.tookMs == r.tookMs &&
                a.message == r.message);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view packet = fuzz::asText(data, size);
  if (const auto r = decodeVirtRequest(packet); r.ok()) requestRoundTrip(*r);
  if (const auto m = decodeVirtHelperMessage(packet); m.ok()) helperRoundTrip(*m);
  (void)virtMessageId(packet);
  if (const auto v = unescapeVirtValue(packet); v.ok()) {
    fuzz::check(v->size() <= packet.size());
  }
  // Any bytes escape to a value that unescapes to them, with no tab or newline left.
  std::string escaped;
  appendVirtEscaped(escaped, packet);
  fuzz::check(escaped.find('\t') == std::string::npos && escaped.find('\n') == std::string::npos);
  const auto back = unescapeVirtValue(escaped);
  fuzz::check(back.ok() && *back == packet);
  return 0;
}
