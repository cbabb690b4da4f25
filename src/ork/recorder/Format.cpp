#include "ork/recorder/Format.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace ork::recorder {

namespace {

constexpr std::array<std::uint32_t, 256> makeCrcTable() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;  // Castagnoli, reflected
    t[i] = c;
  }
  return t;
}
constexpr std::array<std::uint32_t, 256> kCrcTable = makeCrcTable();

constexpr char kMagic[8] = {'O', 'R', 'K', 'R', 'E', 'C', '0', '1'};
constexpr std::uint32_t kVersion = 1;

// Fields are in the host's byte order: the file never leaves the host that wrote it.
template <class T>
void put(char* out, std::size_t& at, T v) {
  std::memcpy(out + at, &v, sizeof v);
  at += sizeof v;
}
template <class T>
T get(const char* in, std::size_t& at) {
  T v{};
  std::memcpy(&v, in + at, sizeof v);
  at += sizeof v;
  return v;
}

void head(char* out, SlotType type, std::uint16_t len, std::uint64_t seq, std::int64_t timeNs) {
  std::size_t at = 4;
  put(out, at, static_cast<std::uint16_t>(type));
  put(out, at, len);
  put(out, at, seq);
  put(out, at, timeNs);
}

// KiB to MiB, rounded down, in 32 bits (4 PiB).
std::uint32_t toMib(std::uint64_t kib) { return static_cast<std::uint32_t>(std::min<std::uint64_t>(kib >> 10, 0xffffffffu)); }

void seal(char* out, std::size_t slotSize) {
  std::uint32_t c = crc32c(out + 4, slotSize - 4);
  std::memcpy(out, &c, 4);
}

// A small slot: zeroed, the fields one after the other (put()) after the slot head,
// then the head (type, payload length, seq, time) and the CRC.
template <class... Fields>
void encodeSmall(SlotType type, std::uint64_t seq, std::int64_t timeNs, char (&out)[kSmallSlot], const Fields&... fields) {
  std::memset(out, 0, sizeof out);
  std::size_t at = kSlotHead;
  (put(out, at, fields), ...);
  head(out, type, static_cast<std::uint16_t>(at - kSlotHead), seq, timeNs);
  seal(out, sizeof out);
}

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t len, std::uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < len; ++i) crc = kCrcTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

Geometry geometryFor(std::uint64_t size) {
  size = std::clamp(size, kMinSize, kMaxSize);
  Geometry g;
  g.slotSize[0] = g.slotSize[1] = g.slotSize[2] = kSmallSlot;
  g.slotSize[3] = kEventSlot;
  g.slotSize[4] = kIdentitySlot;
  g.slots[0] = kSampleSlots;
  const std::uint64_t rest = size - kHeaderSize - kSampleSlots * kSmallSlot;
  const std::uint64_t share[kRegionCount] = {0, 30, 20, 30, 20};
  for (int r = 1; r < kRegionCount; ++r) g.slots[r] = std::max<std::uint64_t>(16, rest * share[r] / 100 / g.slotSize[r]);
  std::uint64_t at = kHeaderSize;
  for (int r = 0; r < kRegionCount; ++r) {
    g.offset[r] = at;
    at += g.slots[r] * g.slotSize[r];
  }
  g.size = at;
  return g;
}

void encodeHeader(const Geometry& g, char (&out)[kHeaderSize]) {
  std::memset(out, 0, sizeof out);
  std::memcpy(out, kMagic, sizeof kMagic);
  std::size_t at = sizeof kMagic;
  put(out, at, kVersion);
  put(out, at, g.size);
  for (int r = 0; r < kRegionCount; ++r) {
    put(out, at, g.offset[r]);
    put(out, at, g.slots[r]);
    put(out, at, g.slotSize[r]);
  }
  std::uint32_t c = crc32c(out, at);
  put(out, at, c);
}

bool decodeHeader(const char* data, std::size_t len, Geometry& g) {
  constexpr std::size_t kUsed = sizeof kMagic + 4 + 8 + kRegionCount * 20;
  if (len < kUsed + 4 || std::memcmp(data, kMagic, sizeof kMagic) != 0) return false;
  std::size_t at = kUsed;
  if (get<std::uint32_t>(data, at) != crc32c(data, kUsed)) return false;
  at = sizeof kMagic;
  if (get<std::uint32_t>(data, at) != kVersion) return false;
  Geometry out;
  out.size = get<std::uint64_t>(data, at);
  for (int r = 0; r < kRegionCount; ++r) {
    out.offset[r] = get<std::uint64_t>(data, at);
    out.slots[r] = get<std::uint64_t>(data, at);
    out.slotSize[r] = get<std::uint32_t>(data, at);
  }
  g = out;
  return true;
}

void encodeSample(const Sample& s, std::uint64_t seq, char (&out)[kSmallSlot]) {
  encodeSmall(SlotType::Sample, seq, s.timeNs, out, s.availKib, s.swapFreeKib, toMib(s.totalKib), toMib(s.swapTotalKib),
              s.psiMemSome, s.psiMemFull, s.psiCpuSome, s.psiIoSome, s.busy);
}

void encodeMinute(const Minute& m, std::uint64_t seq, char (&out)[kSmallSlot]) {
  encodeSmall(SlotType::Minute, seq, m.timeNs, out, toMib(m.minAvailKib), toMib(m.avgAvailKib), toMib(m.maxAvailKib),
              toMib(m.minSwapFreeKib), toMib(m.totalKib), m.maxPsiMemSome, m.maxPsiCpuSome, m.maxPsiIoSome, m.avgBusy,
              m.samples);
}

void encodeDisk(const Disk& d, std::uint64_t seq, char (&out)[kSmallSlot]) {
  std::array<char, sizeof d.mount> mount;  // put() copies it whole, as a value
  std::memcpy(mount.data(), d.mount, sizeof d.mount);
  encodeSmall(SlotType::Disk, seq, d.timeNs, out, d.freeKib, d.totalKib, mount);
}

std::size_t encodeText(SlotType type, std::int64_t timeNs, std::string_view text, std::uint64_t seq, char* out,
                       std::size_t slotSize) {
  std::memset(out, 0, slotSize);
  const std::size_t n = std::min(text.size(), slotSize - kSlotHead);
  std::memcpy(out + kSlotHead, text.data(), n);
  head(out, type, static_cast<std::uint16_t>(n), seq, timeNs);
  seal(out, slotSize);
  return slotSize;
}

bool decodeSlot(const char* data, std::size_t len, SlotView& out) {
  if (len < kSlotHead) return false;
  std::size_t at = 0;
  const auto crc = get<std::uint32_t>(data, at);
  const auto type = get<std::uint16_t>(data, at);
  const auto n = get<std::uint16_t>(data, at);
  const auto seq = get<std::uint64_t>(data, at);
  const auto time = get<std::int64_t>(data, at);
  if (seq == 0 || n > len - kSlotHead) return false;  // never written: all zeros
  switch (static_cast<SlotType>(type)) {
    case SlotType::Sample:
    case SlotType::Minute:
    case SlotType::Disk:
    case SlotType::Event:
    case SlotType::Identity:
      break;
    default:
      return false;
  }
  if (crc32c(data + 4, len - 4) != crc) return false;
  out.type = static_cast<SlotType>(type);
  out.seq = seq;
  out.timeNs = time;
  out.payload = std::string_view(data + kSlotHead, n);
  return true;
}

bool decodeSample(const SlotView& v, Sample& s) {
  if (v.type != SlotType::Sample || v.payload.size() < 34) return false;
  const char* p = v.payload.data();
  std::size_t at = 0;
  s.timeNs = v.timeNs;
  s.availKib = get<std::uint64_t>(p, at);
  s.swapFreeKib = get<std::uint64_t>(p, at);
  s.totalKib = std::uint64_t{get<std::uint32_t>(p, at)} << 10;
  s.swapTotalKib = std::uint64_t{get<std::uint32_t>(p, at)} << 10;
  s.psiMemSome = get<std::uint16_t>(p, at);
  s.psiMemFull = get<std::uint16_t>(p, at);
  s.psiCpuSome = get<std::uint16_t>(p, at);
  s.psiIoSome = get<std::uint16_t>(p, at);
  s.busy = get<std::uint16_t>(p, at);
  return true;
}

bool decodeMinute(const SlotView& v, Minute& m) {
  if (v.type != SlotType::Minute || v.payload.size() < 30) return false;
  const char* p = v.payload.data();
  std::size_t at = 0;
  m.timeNs = v.timeNs;
  m.minAvailKib = std::uint64_t{get<std::uint32_t>(p, at)} << 10;
  m.avgAvailKib = std::uint64_t{get<std::uint32_t>(p, at)} << 10;
  m.maxAvailKib = std::uint64_t{get<std::uint32_t>(p, at)} << 10;
  m.minSwapFreeKib = std::uint64_t{get<std::uint32_t>(p, at)} << 10;
  m.totalKib = std::uint64_t{get<std::uint32_t>(p, at)} << 10;
  m.maxPsiMemSome = get<std::uint16_t>(p, at);
  m.maxPsiCpuSome = get<std::uint16_t>(p, at);
  m.maxPsiIoSome = get<std::uint16_t>(p, at);
  m.avgBusy = get<std::uint16_t>(p, at);
  m.samples = get<std::uint16_t>(p, at);
  return true;
}

bool decodeDisk(const SlotView& v, Disk& d) {
  if (v.type != SlotType::Disk || v.payload.size() < 16 + sizeof d.mount) return false;
  const char* p = v.payload.data();
  std::size_t at = 0;
  d.timeNs = v.timeNs;
  d.freeKib = get<std::uint64_t>(p, at);
  d.totalKib = get<std::uint64_t>(p, at);
  std::memcpy(d.mount, p + at, sizeof d.mount);
  return true;
}

std::string_view Disk::mountPoint() const { return {mount, strnlen(mount, sizeof mount)}; }

namespace {
constexpr std::int64_t kMinuteNs = 60'000'000'000;
std::int64_t minuteOf(std::int64_t ns) { return ns - ((ns % kMinuteNs) + kMinuteNs) % kMinuteNs; }
}  // namespace

bool MinuteFold::add(const Sample& s, Minute& done) {
  const std::int64_t minute = minuteOf(s.timeNs);
  bool finished = false;
  if (m_.samples > 0 && minute != m_.timeNs) {
    finished = current(done);
    m_ = Minute{};
    sumAvail_ = sumBusy_ = 0;
    busyCount_ = 0;
  }
  if (m_.samples == 0) {
    m_.timeNs = minute;
    m_.minAvailKib = m_.maxAvailKib = s.availKib;
    m_.minSwapFreeKib = s.swapFreeKib;
  }
  m_.minAvailKib = std::min(m_.minAvailKib, s.availKib);
  m_.maxAvailKib = std::max(m_.maxAvailKib, s.availKib);
  m_.minSwapFreeKib = std::min(m_.minSwapFreeKib, s.swapFreeKib);
  m_.totalKib = s.totalKib;
  auto maxKnown = [](std::uint16_t& acc, std::uint16_t v) {
    if (v == kUnknown16) return;
    acc = acc == kUnknown16 ? v : std::max(acc, v);
  };
  maxKnown(m_.maxPsiMemSome, s.psiMemSome);
  maxKnown(m_.maxPsiCpuSome, s.psiCpuSome);
  maxKnown(m_.maxPsiIoSome, s.psiIoSome);
  if (s.busy != kUnknown16) {
    sumBusy_ += s.busy;
    ++busyCount_;
  }
  sumAvail_ += s.availKib;
  if (m_.samples < 0xffff) ++m_.samples;
  return finished;
}

bool MinuteFold::current(Minute& m) const {
  if (m_.samples == 0) return false;
  m = m_;
  m.avgAvailKib = sumAvail_ / m_.samples;
  m.avgBusy = busyCount_ > 0 ? static_cast<std::uint16_t>(sumBusy_ / busyCount_) : kUnknown16;
  return true;
}

}  // namespace ork::recorder
