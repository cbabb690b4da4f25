// The I/O ladder's parsers (parse/Io.h, parseProcIo's read fields): real samples,
// then truncated, garbage and hostile input.
#include <gtest/gtest.h>

#include <string>

#include "ork/parse/Io.h"
#include "ork/parse/Mounts.h"
#include "unit/io/IoSamples.h"
#include "unit/parse/Samples.h"

namespace ork::parse {
namespace {

TEST(Diskstats, RealSample) {
  std::vector<DiskStat> out;
  ASSERT_TRUE(parseDiskstats(samples::kDiskstats, out));
  ASSERT_EQ(out.size(), 5u);
  const DiskStat& vda = out[2];
  EXPECT_STREQ(vda.name, "vda");
  EXPECT_EQ(vda.major, 254u);
  EXPECT_EQ(vda.minor, 0u);
  EXPECT_EQ(vda.reads, 548085u);
  EXPECT_EQ(vda.readSectors, 16717282u);
  EXPECT_EQ(vda.readMs, 770111u);
  EXPECT_EQ(vda.writes, 279512u);
  EXPECT_EQ(vda.writeSectors, 182024248u);
  EXPECT_EQ(vda.writeMs, 637785u);
  EXPECT_EQ(vda.inFlight, 0u);
  EXPECT_EQ(vda.ioTicksMs, 153564u);
  EXPECT_EQ(vda.weightedMs, 1470041u);
  EXPECT_EQ(vda.discards, 399216u);
  EXPECT_EQ(vda.discardMs, 61496u);
  EXPECT_EQ(vda.flushes, 13253u);
  EXPECT_EQ(vda.flushMs, 648u);
  EXPECT_STREQ(out[3].name, "vda1");
}

TEST(Diskstats, OldFormatHasNoDiscards) {
  std::vector<DiskStat> out;
  ASSERT_TRUE(parseDiskstats(samples::kDiskstatsOld, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].ioTicksMs, 9504u);
  EXPECT_EQ(out[0].weightedMs, 41487u);
  EXPECT_EQ(out[0].discards, 0u);
  EXPECT_EQ(out[0].flushes, 0u);
}

TEST(Diskstats, AppendsAndKeepsCapacity) {
  std::vector<DiskStat> out;
  out.reserve(16);
  const auto* data = out.data();
  ASSERT_TRUE(parseDiskstats(samples::kDiskstats, out));
  ASSERT_TRUE(parseDiskstats(samples::kDiskstatsOld, out));
  EXPECT_EQ(out.size(), 7u);
  EXPECT_EQ(out.data(), data);  // no allocation within the capacity
}

TEST(Diskstats, FutureColumnsAreChecked) {
  std::vector<DiskStat> out;
  EXPECT_TRUE(parseDiskstats("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n", out));
  EXPECT_FALSE(parseDiskstats("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 x\n", out));
}

TEST(Diskstats, HostileInput) {
  std::vector<DiskStat> out;
  EXPECT_FALSE(parseDiskstats("8 0 sda 1 2 3\n", out));                      // cut short
  EXPECT_FALSE(parseDiskstats("8 0 sda 1 2 3 4 5 6 7 8 9 10 -11\n", out));  // a sign
  EXPECT_FALSE(parseDiskstats("x 0 sda 1 2 3 4 5 6 7 8 9 10 11\n", out));
  EXPECT_FALSE(parseDiskstats("8\n", out));
  EXPECT_FALSE(parseDiskstats("8 0\n", out));
  EXPECT_FALSE(parseDiskstats("8 0 " + std::string(32, 'a') + " 1 2 3 4 5 6 7 8 9 10 11\n", out));
  EXPECT_FALSE(parseDiskstats("8 0 sda 99999999999999999999999 2 3 4 5 6 7 8 9 10 11\n", out));
  EXPECT_FALSE(parseDiskstats(std::string("8 0 sd\0a 1 2 3 4 5 6 7 8 9 10 11\n", 33), out));
  EXPECT_FALSE(parseDiskstats("8 0 sd\x01" "a 1 2 3 4 5 6 7 8 9 10 11\n", out));
  out.clear();
  EXPECT_TRUE(parseDiskstats("", out));
  EXPECT_TRUE(parseDiskstats("\n\n", out));
  EXPECT_TRUE(out.empty());
  // A name of 31 bytes fits, NUL-terminated.
  ASSERT_TRUE(parseDiskstats("8 0 " + std::string(31, 'b') + " 1 2 3 4 5 6 7 8 9 10 11", out));
  EXPECT_EQ(std::string(out[0].name), std::string(31, 'b'));
}

TEST(CgroupIoStat, RealSample) {
  std::vector<CgroupIoDev> out;
  ASSERT_TRUE(parseCgroupIoStat(samples::kIoStat, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].major, 8u);
  EXPECT_EQ(out[0].minor, 16u);
  EXPECT_EQ(out[0].wbytes, 314773504u);
  EXPECT_EQ(out[0].wios, 353u);
  EXPECT_EQ(out[1].rbytes, 90430464u);
  EXPECT_EQ(out[1].rios, 8950u);
  EXPECT_EQ(out[1].bytes(), 90430464u + 299008000u);
  EXPECT_EQ(out[1].ios(), 8950u + 1252u);
}

TEST(CgroupIoStat, MissingKeysAreZeroAndGarbageIsAnError) {
  std::vector<CgroupIoDev> out;
  ASSERT_TRUE(parseCgroupIoStat("259:0 wbytes=4096\n", out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rbytes, 0u);
  EXPECT_EQ(out[0].wbytes, 4096u);
  EXPECT_FALSE(parseCgroupIoStat("259 wbytes=4096\n", out));
  EXPECT_FALSE(parseCgroupIoStat("259:0 wbytes=-1\n", out));
  EXPECT_FALSE(parseCgroupIoStat("259:0 rios=\n", out));
  EXPECT_FALSE(parseCgroupIoStat(":0 rios=1\n", out));
  EXPECT_TRUE(parseCgroupIoStat("259:0 cost.vrate=abc junk\n", out));  // unknown keys ignored
}

TEST(Blkio, BytesAndIosMerge) {
  std::vector<CgroupIoDev> out;
  ASSERT_TRUE(parseBlkioThrottle(samples::kBlkioBytes, false, out));
  ASSERT_TRUE(parseBlkioThrottle(samples::kBlkioIos, true, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].major, 7u);
  EXPECT_EQ(out[0].minor, 0u);
  EXPECT_EQ(out[0].rbytes, 8192u);
  EXPECT_EQ(out[0].wbytes, 4194304u);
  EXPECT_EQ(out[0].rios, 2u);
  EXPECT_EQ(out[0].wios, 64u);
}

TEST(Blkio, EmptyAndHostile) {
  std::vector<CgroupIoDev> out;
  ASSERT_TRUE(parseBlkioThrottle("Total 0\n", false, out));
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(parseBlkioThrottle("7:8 Read\n", false, out));
  EXPECT_FALSE(parseBlkioThrottle("7 Read 1\n", false, out));
  EXPECT_FALSE(parseBlkioThrottle("7:8 Write 1x\n", false, out));
}

TEST(ProcIo, ReadFields) {
  auto io = parseProcIo(samples::kProcIo);
  ASSERT_TRUE(io);
  EXPECT_EQ(io->readBytes, 8192u);
  EXPECT_EQ(io->writeBytes, 734003200u);
  EXPECT_EQ(io->syscr, 412u);
  EXPECT_EQ(io->syscw, 11200u);
  EXPECT_EQ(io->rchar, 1948736u);
  EXPECT_EQ(io->cancelledWriteBytes, 4096u);
}

}  // namespace
}  // namespace ork::parse
