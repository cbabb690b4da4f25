// The flight recorder's file: a fixed-size ring, written one slot at a time with
// pwrite, never appended to, so that it never grows and a full disk cannot stop it
// once it exists (the file is allocated whole when created).
//
//   [header 4 KiB][samples: 3600 x 64 B][minutes: N x 64 B][disks: N x 64 B]
//   [events: N x 1 KiB][identities: N x 512 B]
//
// Each slot is self-contained: a CRC32C over the slot (after the CRC field), a type, a
// length, a sequence number shared by the whole file (which slot is the newest), and
// the wall-clock time of what it records. A slot whose CRC does not match (torn by a
// crash mid-write, or corrupted) is skipped, never trusted; there is no other index,
// so nothing else can be inconsistent. Pure: encoding and decoding only (the I/O is
// sys/RecorderFile).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ork::recorder {

// CRC32C (Castagnoli), the checksum of every slot.
std::uint32_t crc32c(const void* data, std::size_t len, std::uint32_t crc = 0);

enum class Region : int { Samples = 0, Minutes, Disks, Events, Identities, kCount };
inline constexpr int kRegionCount = static_cast<int>(Region::kCount);

inline constexpr std::size_t kHeaderSize = 4096;
inline constexpr std::size_t kSampleSlots = 3600;  // one hour at one per second
inline constexpr std::size_t kSmallSlot = 64;      // samples, minutes, disks
inline constexpr std::size_t kEventSlot = 1024;
inline constexpr std::size_t kIdentitySlot = 512;
inline constexpr std::size_t kSlotHead = 24;  // crc u32, type u16, len u16, seq u64, time i64
inline constexpr std::uint64_t kMinSize = 1u << 20;
inline constexpr std::uint64_t kMaxSize = std::uint64_t{1} << 30;

struct Geometry {
  std::uint64_t size = 0;  // the whole file
  std::uint64_t offset[kRegionCount] = {};
  std::uint64_t slots[kRegionCount] = {};
  std::uint32_t slotSize[kRegionCount] = {};
  std::uint64_t slotOffset(Region r, std::uint64_t i) const {
    auto k = static_cast<int>(r);
    return offset[k] + i * slotSize[k];
  }
  bool operator==(const Geometry&) const = default;
};
// The layout of a file of this size (clamped to [kMinSize, kMaxSize]): the hour of
// samples, then of the rest 30 % minutes, 20 % disks, 30 % events, 20 % identities.
Geometry geometryFor(std::uint64_t size);

// The header: magic, version, geometry, CRC. A header that does not parse, or whose
// geometry is not the one asked for, means the file is made afresh.
void encodeHeader(const Geometry& g, char (&out)[kHeaderSize]);
bool decodeHeader(const char* data, std::size_t len, Geometry& g);

enum class SlotType : std::uint16_t { Sample = 0x5301, Minute = 0x4d01, Disk = 0x4401, Event = 0x4501, Identity = 0x4901 };

// One second of what the ladders sense, host-wide (totals kept in MiB). PSI figures in 1/100 %: memory
// avg10, cpu and io the ladders' reading over their last second (avg10 when the ladder is off);
// 0xffff when unknown (no PSI); busy the same (CPU busy, in 1/100 %).
inline constexpr std::uint16_t kUnknown16 = 0xffff;
struct Sample {
  std::int64_t timeNs = 0;  // wall clock (CLOCK_REALTIME)
  std::uint64_t availKib = 0, totalKib = 0, swapFreeKib = 0, swapTotalKib = 0;
  std::uint16_t psiMemSome = kUnknown16, psiMemFull = kUnknown16, psiCpuSome = kUnknown16,
                psiIoSome = kUnknown16, busy = kUnknown16;
};
// One minute, summarised: kept for longer than the hour of samples (figures kept in MiB).
struct Minute {
  std::int64_t timeNs = 0;  // the minute's start
  std::uint64_t minAvailKib = 0, avgAvailKib = 0, maxAvailKib = 0, totalKib = 0, minSwapFreeKib = 0;
  std::uint16_t maxPsiMemSome = kUnknown16, maxPsiCpuSome = kUnknown16, maxPsiIoSome = kUnknown16,
                avgBusy = kUnknown16;
  std::uint16_t samples = 0;
};
// One filesystem's free space (its mountpoint cut to 24 bytes).
struct Disk {
  std::int64_t timeNs = 0;
  std::uint64_t freeKib = 0, totalKib = 0;
  char mount[24] = {};
  std::string_view mountPoint() const;
};

// Encoders write the whole slot (CRC last). seq: the file's sequence number.
void encodeSample(const Sample& s, std::uint64_t seq, char (&out)[kSmallSlot]);
void encodeMinute(const Minute& m, std::uint64_t seq, char (&out)[kSmallSlot]);
void encodeDisk(const Disk& d, std::uint64_t seq, char (&out)[kSmallSlot]);
// An event or identity: a line of key=value text (the journal's format), cut to what
// the slot holds. Returns the slot's size.
std::size_t encodeText(SlotType type, std::int64_t timeNs, std::string_view text, std::uint64_t seq, char* out,
                       std::size_t slotSize);

// A slot read back: false when empty (never written), torn or corrupt.
struct SlotView {
  SlotType type{};
  std::uint64_t seq = 0;
  std::int64_t timeNs = 0;
  std::string_view payload;  // into the slot's bytes
};
bool decodeSlot(const char* data, std::size_t len, SlotView& out);
bool decodeSample(const SlotView& v, Sample& s);
bool decodeMinute(const SlotView& v, Minute& m);
bool decodeDisk(const SlotView& v, Disk& d);

// Folding samples into a minute.
class MinuteFold {
 public:
  // Adds a sample; returns true and fills done when the sample starts a new minute and
  // a finished one is there to write.
  bool add(const Sample& s, Minute& done);
  // The minute so far (for a stop), false when empty.
  bool current(Minute& m) const;

 private:
  Minute m_;
  std::uint64_t sumAvail_ = 0;
  std::uint64_t sumBusy_ = 0;
  std::uint32_t busyCount_ = 0;
};

}  // namespace ork::recorder
