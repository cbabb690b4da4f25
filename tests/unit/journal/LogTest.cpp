// What `ork log` reads and shows: /dev/kmsg records (parsed, unescaped), ORK's tag,
// journal file lines, the rendering for people (sizes, durations), and the readers on
// the real /dev/kmsg and on a file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <limits>
#include <string>
#include <thread>

#include "ork/journal/Journal.h"
#include "ork/journal/Render.h"
#include "ork/parse/Kmsg.h"
#include "ork/sys/KmsgReader.h"

namespace ork::journal {
namespace {

// ---- /dev/kmsg records ------------------------------------------------------------------

TEST(KmsgRecordTest, HeaderAndMessage) {
  auto r = parse::parseKmsgRecord("14,1219,11417038627,-;ork[77]: event=start dry_run=1\n");
  ASSERT_TRUE(r.ok()) << r.error().what;
  EXPECT_EQ(r->facility, 1);
  EXPECT_EQ(r->level, 6);
  EXPECT_EQ(r->seq, 1219u);
  EXPECT_EQ(r->usec, 11417038627u);
  EXPECT_EQ(r->message, "ork[77]: event=start dry_run=1");
}

TEST(KmsgRecordTest, MoreHeaderFieldsAndDictionaryLines) {
  // A kernel with CONFIG_PRINTK_CALLER adds a field; device messages add dictionary lines.
  auto r = parse::parseKmsgRecord(
      "6,5,100,-,caller=T1;usb 1-1: new device\n SUBSYSTEM=usb\n DEVICE=c189:1\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->message, "usb 1-1: new device");
  EXPECT_EQ(r->level, 6);
  EXPECT_EQ(r->facility, 0);
}

TEST(KmsgRecordTest, GarbageIsAnError) {
  for (const char* bad : {"", "no semicolon", "x,1,2,-;m", "6,,2,-;m", "6,1,-2,-;m", "6;m",
                          "-6,1,2,-;m", "6,1,99999999999999999999999,-;m"})
    EXPECT_FALSE(parse::parseKmsgRecord(bad).ok()) << bad;
}

TEST(KmsgRecordTest, UnescapeUndoesTheKernelsEscapes) {
  char out[64];
  // ORK's own \x22 inside a quoted value reaches the reader as \x5cx22 (the kernel
  // escapes the backslash): undone once, it is ORK's text again.
  EXPECT_EQ(parse::unescapeKmsg(R"(name="a\x5cx22b")", out, sizeof out), R"(name="a\x22b")");
  EXPECT_EQ(parse::unescapeKmsg(R"(tab\x09end)", out, sizeof out), "tab\tend");
  // Not an escape: kept.
  EXPECT_EQ(parse::unescapeKmsg(R"(a\xZZ \y \x4)", out, sizeof out), R"(a\xZZ \y \x4)");
  // Cut at the buffer's size.
  EXPECT_EQ(parse::unescapeKmsg("abcdef", out, 3), "abc");
}

TEST(OrkLineTest, TagWithPidOldTagAndOthers) {
  auto l = parse::parseOrkLine("ork[812]: event=kill pid=4242");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->pid, 812);
  EXPECT_EQ(l->body, "event=kill pid=4242");
  auto old = parse::parseOrkLine("ork: event=stop signal=15");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->pid, 0);
  EXPECT_EQ(old->body, "event=stop signal=15");
  for (const char* other :
       {"ork[812]: hello", "ork[x]: event=kill", "ork[]: event=kill", "ork[-1]: event=a",
        "ork[0]: event=a", "ork[12] event=a", "ork[12]:event=a", "work[1]: event=a",
        "ork[1]: event=", "kernel: event=kill", "ork[99999999999]: event=a", ""})
    EXPECT_FALSE(parse::parseOrkLine(other).ok()) << other;
}

TEST(JournalFileLineTest, StampedBareAndOther) {
  auto s = parse::parseJournalFileLine(
      "2026-12-01T09:24:33.123456+01:00 ork[812]: event=start dry_run=0");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->stamp, "2026-12-01T09:24:33.123456+01:00");
  EXPECT_EQ(s->line.pid, 812);
  EXPECT_EQ(s->line.body, "event=start dry_run=0");
  auto z = parse::parseJournalFileLine("2026-12-01T08:24:33Z ork[1]: event=x");
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->stamp, "2026-12-01T08:24:33Z");
  auto bare = parse::parseJournalFileLine("ork: event=stop signal=15");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->stamp, "");
  for (const char* other :
       {"earlier", "2026-12-01 ork[1]: event=x", "2026-12-01T09:24:33+0100 ork[1]: event=x",
        "2026-12-01T09:24:33.+01:00 ork[1]: event=x", "2026-12-01T09:24:33+01:00 hello",
        "2026-12-01T09:24:33+01:00"})
    EXPECT_FALSE(parse::parseJournalFileLine(other).ok()) << other;
}

// ---- rendering ------------------------------------------------------------------------

TEST(RenderTest, Sizes) {
  struct Case {
    std::int64_t kib;
    const char* want;
  };
  const Case cases[] = {
      {0, "0KiB"},
      {512, "512KiB"},
      {1023, "1023KiB"},
      {1024, "1.00MiB"},
      {98304, "96.0MiB"},
      {310000, "303MiB"},
      {1843200, "1.76GiB"},
      {1048063, "1023MiB"},
      {1048064, "1.00GiB"},
      {-4, "-4KiB"},
      {-2048, "-2.00MiB"},
      {std::int64_t{1} << 40, "1.00PiB"},
      {std::numeric_limits<std::int64_t>::max(), "8388608PiB"},  // the largest unit (8 ZiB)
  };
  for (const auto& c : cases) EXPECT_EQ(humanKib(c.kib), c.want) << c.kib;
}

TEST(RenderTest, Durations) {
  using namespace std::chrono;
  struct Case {
    nanoseconds d;
    const char* want;
  };
  const Case cases[] = {
      {nanoseconds{0}, "0ns"},        {nanoseconds{999}, "999ns"},   {microseconds{412}, "412us"},
      {microseconds{4123}, "4.12ms"}, {milliseconds{804}, "804ms"},  {milliseconds{2874}, "2.87s"},
      {seconds{59}, "59.0s"},         {seconds{252}, "4m12s"},       {minutes{62}, "1h02m"},
      {hours{76}, "3d04h"},           {-milliseconds{5}, "-5.00ms"},
  };
  for (const auto& c : cases) EXPECT_EQ(humanDuration(c.d.count()), c.want) << c.d.count();
  EXPECT_EQ(humanDuration(std::numeric_limits<std::int64_t>::min()).front(), '-');
}

TEST(RenderTest, AKillLineForPeople) {
  const std::string body =
      "event=kill pid=4242 name=\"filler\" user=\"alice\" uid=1000 members=1 spared=0 "
      "freed_kib=1843200 "
      "growth_kib=1843200 score=5400 adj=0 reason=memory_below_hard dry_run=0 result=ok "
      "latency_us=412 "
      "mreleased=1 avail_kib=98304 need_kib=310000 cmd=\"./filler --fast\" cgroup=\"/user.slice\"";
  EXPECT_EQ(
      renderBody(body),
      "kill              pid=4242 name=\"filler\" user=\"alice\" uid=1000 members=1 spared=0 "
      "freed=1.76GiB "
      "growth=1.76GiB score=5400 adj=0 reason=memory_below_hard dry_run=0 result=ok latency=412us "
      "mreleased=1 avail=96.0MiB need=303MiB cmd=\"./filler --fast\" cgroup=\"/user.slice\"");
}

TEST(RenderTest, UnitsPercentZerosAndWhatIsLeftAsWritten) {
  EXPECT_EQ(renderBody("event=cpu_overload busy_pct=97 window_s=10 took_ms=0 frozen_s=90"),
            "cpu_overload      busy=97% window=10.0s took=0ms frozen=1m30s");
  // A quoted value with spaces and an escaped quote stays one field, as written.
  EXPECT_EQ(
      renderBody(R"(event=warning what=scan_failed detail="no \x22such\x22 file" retry_ms=100)"),
      R"(warning           what=scan_failed detail="no \x22such\x22 file" retry=100ms)");
  // A unit key whose value is no number, a bare word, a value too long for its unit.
  EXPECT_EQ(renderBody("event=e a_kib=x b c_s=99999999999999999"),
            "e                 a_kib=x b c_s=99999999999999999");
  // An unterminated quote runs to the end.
  EXPECT_EQ(renderBody("event=e detail=\"no end mem_kib=1"),
            "e                 detail=\"no end mem_kib=1");
  // A long event name keeps one space before its fields; a line of the event alone.
  EXPECT_EQ(renderBody("event=a_very_long_event_name x=1"), "a_very_long_event_name x=1");
  EXPECT_EQ(renderBody("event=stop"), "stop");
}

// ---- the readers ------------------------------------------------------------------------

std::string marker() {
  return "t" + std::to_string(::getpid()) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

// A line the journal wrote to the real /dev/kmsg is read back by `ork log`'s reader from
// the oldest record on, with its priority, its tag and its time.
TEST(KmsgReaderTest, ReadsBackWhatTheJournalWrote) {
  if (::geteuid() != 0 || ::access("/dev/kmsg", R_OK | W_OK) != 0)
    GTEST_SKIP() << "needs root and /dev/kmsg";
  auto j = Journal::open("/dev/kmsg", false, 4242);
  ASSERT_TRUE(j.ok());
  const std::string m = marker();
  const auto before = std::chrono::system_clock::now();
  j->write(Line("test").word("marker", m).str("name", "a\"b\\c"), Priority::Warning, TimePoint{});
  auto reader = sys::KmsgReader::open();
  ASSERT_TRUE(reader.ok()) << reader.error().what;
  const std::int64_t boot = sys::KmsgReader::bootWallClockNs();
  char text[4096];
  bool found = false;
  for (;;) {
    auto rec = reader->next(false);
    ASSERT_TRUE(rec.ok()) << rec.error().what;
    if (rec->empty()) break;
    auto r = parse::parseKmsgRecord(*rec);
    ASSERT_TRUE(r.ok()) << *rec;
    const std::string_view message = parse::unescapeKmsg(r->message, text, sizeof text);
    if (message.find(m) == std::string_view::npos) continue;
    found = true;
    EXPECT_EQ(r->level, 4);
    auto l = parse::parseOrkLine(message);
    ASSERT_TRUE(l.ok()) << message;
    EXPECT_EQ(l->pid, 4242);
    EXPECT_EQ(l->body, "event=test marker=" + m + " name=\"a\\x22b\\x5cc\"");
    const auto at = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(boot + static_cast<std::int64_t>(r->usec) * 1000)));
    EXPECT_LT(std::chrono::abs(at - before), std::chrono::seconds{2})
        << "the record's time is not when it was written";
  }
  EXPECT_TRUE(found) << "the line is not in /dev/kmsg";
}

class FileFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ork-follow-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    ASSERT_NE(d, nullptr);
    dir_ = d;
    path_ = dir_ + "/journal.log";
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  void append(const std::string& text) {
    std::ofstream out(path_, std::ios::app | std::ios::binary);
    out << text;
  }
  std::string dir_, path_;
};

TEST_F(FileFollowerTest, LinesInOrderThenTheEndThenWhatWasAppended) {
  append("one\ntwo\nthr");
  auto f = sys::FileFollower::open(path_);
  ASSERT_TRUE(f.ok());
  std::string line;
  ASSERT_TRUE(*f->next(false, line));
  EXPECT_EQ(line, "one");
  ASSERT_TRUE(*f->next(false, line));
  EXPECT_EQ(line, "two");
  // Not following: the last line without its newline is given at the end.
  ASSERT_TRUE(*f->next(false, line));
  EXPECT_EQ(line, "thr");
  EXPECT_FALSE(*f->next(false, line));
  append("four\n");
  ASSERT_TRUE(*f->next(true, line));
  EXPECT_EQ(line, "four");
}

TEST_F(FileFollowerTest, FollowingWaitsForTheRestOfALine) {
  append("par");
  auto f = sys::FileFollower::open(path_);
  ASSERT_TRUE(f.ok());
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    append("tial\n");
  });
  std::string line;
  auto got = f->next(true, line);
  writer.join();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(line, "partial");
}

TEST_F(FileFollowerTest, AFileCutShorterIsReadAgainFromItsStart) {
  append("an old line that is long\n");
  auto f = sys::FileFollower::open(path_);
  ASSERT_TRUE(f.ok());
  std::string line;
  ASSERT_TRUE(*f->next(true, line));
  ASSERT_EQ(::truncate(path_.c_str(), 0), 0);
  append("new\n");
  ASSERT_TRUE(*f->next(true, line));
  EXPECT_EQ(line, "new");
}

TEST_F(FileFollowerTest, AMissingFileIsAnError) {
  auto f = sys::FileFollower::open(dir_ + "/missing");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, ENOENT);
}

}  // namespace
}  // namespace ork::journal
