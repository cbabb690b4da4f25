// The recorder's file: slots, checksums, the ring's wrap-around, torn and corrupt slots,
// a truncated file, and the folding of seconds into minutes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ork/recorder/Format.h"
#include "ork/recorder/History.h"
#include "ork/sys/RecorderFile.h"
#include "support/Harness.h"

namespace ork::recorder {
namespace {

using test::tempDir;

TEST(RecorderFormat, Crc32cKnownValue) {
  EXPECT_EQ(crc32c("123456789", 9), 0xe3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
}

TEST(RecorderFormat, GeometryFitsTheSizeAndKeepsAnHourOfSamples) {
  for (std::uint64_t mib : {1, 4, 64}) {
    Geometry g = geometryFor(mib << 20);
    EXPECT_LE(g.size, mib << 20);
    EXPECT_EQ(g.slots[0], kSampleSlots);
    for (int r = 1; r < kRegionCount; ++r) EXPECT_GE(g.slots[r], 16u);
    EXPECT_EQ(g.offset[0], kHeaderSize);
  }
  char h[kHeaderSize];
  Geometry g = geometryFor(4 << 20), back;
  encodeHeader(g, h);
  ASSERT_TRUE(decodeHeader(h, sizeof h, back));
  EXPECT_TRUE(back == g);
  h[20] ^= 1;
  EXPECT_FALSE(decodeHeader(h, sizeof h, back));
}

TEST(RecorderFormat, SlotsRoundTripAndACorruptOneIsRefused) {
  Sample s;
  s.timeNs = 1'700'000'000'123'456'789;
  s.availKib = 123456789;
  s.totalKib = 256ull << 20;
  s.swapFreeKib = 42;
  s.swapTotalKib = 1 << 20;
  s.psiMemSome = 1234;
  s.busy = 9999;
  char slot[kSmallSlot];
  encodeSample(s, 77, slot);
  SlotView v;
  ASSERT_TRUE(decodeSlot(slot, sizeof slot, v));
  EXPECT_EQ(v.seq, 77u);
  Sample back;
  ASSERT_TRUE(decodeSample(v, back));
  EXPECT_EQ(back.timeNs, s.timeNs);
  EXPECT_EQ(back.availKib, s.availKib);
  EXPECT_EQ(back.totalKib, s.totalKib);
  EXPECT_EQ(back.swapFreeKib, 42u);
  EXPECT_EQ(back.psiMemSome, 1234);
  EXPECT_EQ(back.psiIoSome, kUnknown16);
  EXPECT_EQ(back.busy, 9999);
  for (std::size_t i = 0; i < sizeof slot; ++i) {
    char bad[kSmallSlot];
    std::memcpy(bad, slot, sizeof bad);
    bad[i] ^= 0x10;
    EXPECT_FALSE(decodeSlot(bad, sizeof bad, v)) << "byte " << i;
  }
  char zero[kSmallSlot] = {};
  EXPECT_FALSE(decodeSlot(zero, sizeof zero, v));

  char ev[kEventSlot];
  const std::string text = "event=kill pid=12 name=\"a b\" freed_kib=100";
  encodeText(SlotType::Event, 5, text, 9, ev, sizeof ev);
  ASSERT_TRUE(decodeSlot(ev, sizeof ev, v));
  EXPECT_EQ(v.type, SlotType::Event);
  EXPECT_EQ(v.payload, text);
  // Too long a text is cut to the slot.
  std::string longText(5000, 'x');
  encodeText(SlotType::Identity, 5, longText, 10, ev, kIdentitySlot);
  ASSERT_TRUE(decodeSlot(ev, kIdentitySlot, v));
  EXPECT_EQ(v.payload.size(), kIdentitySlot - kSlotHead);
}

TEST(RecorderFormat, MinutesFoldSecondsMinAvgMax) {
  MinuteFold f;
  Minute done;
  const std::int64_t base = 1'700'000'040'000'000'000;  // a minute's start
  for (int i = 0; i < 60; ++i) {
    Sample s;
    s.timeNs = base + i * 1'000'000'000LL;
    s.availKib = static_cast<std::uint64_t>((100 + i) << 10);
    s.totalKib = 1000 << 10;
    s.psiMemSome = i == 30 ? 5000 : 10;
    s.busy = 2000;
    EXPECT_FALSE(f.add(s, done));
  }
  Sample next;
  next.timeNs = base + 60'000'000'000LL;
  next.availKib = 1 << 10;
  ASSERT_TRUE(f.add(next, done));
  EXPECT_EQ(done.timeNs, base);
  EXPECT_EQ(done.minAvailKib, 100u << 10);
  EXPECT_EQ(done.maxAvailKib, 159u << 10);
  EXPECT_EQ(done.avgAvailKib, ((100u + 159u) << 10) / 2);
  EXPECT_EQ(done.maxPsiMemSome, 5000);
  EXPECT_EQ(done.avgBusy, 2000);
  EXPECT_EQ(done.samples, 60);
  char slot[kSmallSlot];
  encodeMinute(done, 3, slot);
  SlotView v;
  Minute back;
  ASSERT_TRUE(decodeSlot(slot, sizeof slot, v));
  ASSERT_TRUE(decodeMinute(v, back));
  EXPECT_EQ(back.minAvailKib, done.minAvailKib);  // whole MiB: exact here
  EXPECT_EQ(back.maxPsiMemSome, 5000);
}

// Writes n samples into the ring as the daemon does (next index after the newest).
void writeSamples(sys::RecorderFile& f, std::uint64_t& seq, std::uint64_t& next, int n, std::int64_t t0) {
  for (int i = 0; i < n; ++i) {
    Sample s;
    s.timeNs = t0 + i;
    s.availKib = static_cast<std::uint64_t>(i);
    char slot[kSmallSlot];
    encodeSample(s, ++seq, slot);
    ASSERT_TRUE(f.writeSlot(Region::Samples, next, slot, sizeof slot).ok());
    next = (next + 1) % kSampleSlots;
  }
}

TEST(RecorderFile, RingWrapsKeepsTheNewestAndSkipsTornSlots) {
  const std::string dir = tempDir();
  bool fresh = false;
  std::uint64_t seq = 0, next = 0;
  {
    auto f = sys::RecorderFile::openForWriting(dir, 1 << 20, fresh);
    ASSERT_TRUE(f.ok()) << f.error().what;
    EXPECT_TRUE(fresh);
    writeSamples(*f, seq, next, static_cast<int>(kSampleSlots) + 100, 1000);
  }
  struct stat st{};
  ASSERT_EQ(::stat((dir + "/recorder.ring").c_str(), &st), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), geometryFor(1 << 20).size);  // never grows
  // Reopened: the same file, not made afresh; every sample slot holds one of the newest.
  {
    auto f = sys::RecorderFile::openForWriting(dir, 1 << 20, fresh);
    ASSERT_TRUE(f.ok());
    EXPECT_FALSE(fresh);
    History h;
    auto bad = f->scan([&](Region, std::uint64_t, const SlotView& v) { h.add(v); });
    ASSERT_TRUE(bad.ok());
    EXPECT_EQ(*bad, 0u);
    ASSERT_EQ(h.samples.size(), kSampleSlots);
    h.sort();
    EXPECT_EQ(h.samples.front().availKib, 100u);  // the 100 oldest were overwritten
    EXPECT_EQ(h.samples.back().availKib, kSampleSlots + 99);
  }
  // A torn slot (half written: its CRC does not match) is skipped and counted.
  {
    const Geometry g = geometryFor(1 << 20);
    int fd = ::open((dir + "/recorder.ring").c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    const char junk[20] = "torn-torn-torn-torn";
    ASSERT_EQ(::pwrite(fd, junk, sizeof junk, static_cast<off_t>(g.slotOffset(Region::Samples, 7) + 30)), 20);
    ::close(fd);
    auto f = sys::RecorderFile::openForReading(dir + "/recorder.ring");
    ASSERT_TRUE(f.ok());
    History h;
    auto bad = f->scan([&](Region, std::uint64_t, const SlotView& v) { h.add(v); });
    ASSERT_TRUE(bad.ok());
    EXPECT_EQ(*bad, 1u);
    EXPECT_EQ(h.samples.size(), kSampleSlots - 1);
  }
  test::runCommand({"/bin/rm", "-rf", dir});
}

TEST(RecorderFile, TruncatedFileIsReadAsFarAsItGoesAndRegrownForWriting) {
  const std::string dir = tempDir();
  bool fresh = false;
  std::uint64_t seq = 0, next = 0;
  {
    auto f = sys::RecorderFile::openForWriting(dir, 1 << 20, fresh);
    ASSERT_TRUE(f.ok());
    writeSamples(*f, seq, next, 50, 1000);
  }
  const Geometry g = geometryFor(1 << 20);
  // Cut in the middle of sample 20.
  ASSERT_EQ(::truncate((dir + "/recorder.ring").c_str(), static_cast<off_t>(g.slotOffset(Region::Samples, 20) + 10)), 0);
  {
    auto f = sys::RecorderFile::openForReading(dir + "/recorder.ring");
    ASSERT_TRUE(f.ok());
    History h;
    ASSERT_TRUE(f->scan([&](Region, std::uint64_t, const SlotView& v) { h.add(v); }).ok());
    EXPECT_EQ(h.samples.size(), 20u);
  }
  {
    auto f = sys::RecorderFile::openForWriting(dir, 1 << 20, fresh);
    ASSERT_TRUE(f.ok());
    EXPECT_FALSE(fresh);  // the header was intact: what is left is kept
    History h;
    ASSERT_TRUE(f->scan([&](Region, std::uint64_t, const SlotView& v) { h.add(v); }).ok());
    EXPECT_EQ(h.samples.size(), 20u);
    struct stat st{};
    ASSERT_EQ(::stat((dir + "/recorder.ring").c_str(), &st), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), g.size);
  }
  // Cut inside the header: not a recorder file for reading; made afresh for writing.
  ASSERT_EQ(::truncate((dir + "/recorder.ring").c_str(), 100), 0);
  EXPECT_FALSE(sys::RecorderFile::openForReading(dir + "/recorder.ring").ok());
  auto f = sys::RecorderFile::openForWriting(dir, 1 << 20, fresh);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(fresh);
  test::runCommand({"/bin/rm", "-rf", dir});
}

TEST(RecorderFile, OneWriterAtATime) {
  const std::string dir = tempDir();
  bool fresh = false;
  auto a = sys::RecorderFile::openForWriting(dir, 1 << 20, fresh);
  ASSERT_TRUE(a.ok());
  auto b = sys::RecorderFile::openForWriting(dir, 1 << 20, fresh);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(std::string(b.error().what).find("in use by another ork"), std::string::npos) << b.error().what;
  test::runCommand({"/bin/rm", "-rf", dir});
}

}  // namespace
}  // namespace ork::recorder
