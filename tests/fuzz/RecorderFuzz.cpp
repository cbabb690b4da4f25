// libFuzzer: what `ork events` and the recorder's start-up read back from the recorder's
// file, which a crash, a disk or a person may have damaged (recorder/Format.h, Fields.h).
// Input: a steer byte (0: a slot of 64 bytes, 1: of 1 KiB, 2: a header, 3: key=value
// text), then the bytes.
#include <cstring>

#include "fuzz/FuzzCheck.h"
#include "ork/recorder/Fields.h"
#include "ork/recorder/Format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  std::string_view text = fuzz::asText(data, size);
  const int steer = fuzz::takeSteer(text) % 4;
  if (steer == 3) {
    const recorder::Fields f = recorder::parseFields(text);
    for (const auto& [k, v] : f.items) fuzz::check(!k.empty() && v.size() <= text.size());
    (void)f.num("pid");
    return 0;
  }
  if (steer == 2) {
    recorder::Geometry g;
    if (recorder::decodeHeader(text.data(), text.size(), g))
      for (int r = 0; r < recorder::kRegionCount; ++r) (void)g.slotOffset(static_cast<recorder::Region>(r), g.slots[r]);
    return 0;
  }
  // A slot as the file holds it: the bytes, padded with zeros to the slot's size.
  const std::size_t slotSize = steer == 0 ? recorder::kSmallSlot : recorder::kEventSlot;
  char slot[recorder::kEventSlot] = {};
  std::memcpy(slot, text.data(), std::min(text.size(), slotSize));
  recorder::SlotView v;
  if (!recorder::decodeSlot(slot, slotSize, v)) return 0;
  fuzz::check(v.seq != 0 && v.payload.size() <= slotSize - recorder::kSlotHead);
  recorder::Sample s;
  recorder::Minute m;
  recorder::Disk d;
  if (recorder::decodeSample(v, s)) fuzz::check(v.type == recorder::SlotType::Sample);
  if (recorder::decodeMinute(v, m)) fuzz::check(v.type == recorder::SlotType::Minute);
  if (recorder::decodeDisk(v, d)) fuzz::check(d.mountPoint().size() <= sizeof d.mount);
  if (v.type == recorder::SlotType::Event || v.type == recorder::SlotType::Identity) (void)recorder::parseFields(v.payload);
  return 0;
}
