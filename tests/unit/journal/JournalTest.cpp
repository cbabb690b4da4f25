// Journal lines: escaping of hostile values, truncation, and writing to a plain file
// through Journal and KmsgWriter.
#include "ork/journal/Journal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "ork/sys/KmsgWriter.h"
#include "ork/sys/SelfProtect.h"

namespace ork::journal {
namespace {

std::string text(const Line& l) { return std::string(l.text()); }

// ---- Line -------------------------------------------------------------------------

TEST(LineTest, EventFirst) { EXPECT_EQ(text(Line("kill")), "event=kill"); }

TEST(LineTest, Num) {
  struct Case {
    std::int64_t value;
    const char* want;
  };
  const Case cases[] = {
      {0, "event=e n=0"},
      {42, "event=e n=42"},
      {-7, "event=e n=-7"},
      {std::numeric_limits<std::int64_t>::max(), "event=e n=9223372036854775807"},
      {std::numeric_limits<std::int64_t>::min(), "event=e n=-9223372036854775808"},
  };
  for (const auto& c : cases) EXPECT_EQ(text(Line("e").num("n", c.value)), c.want);
}

TEST(LineTest, KibAndFlag) {
  EXPECT_EQ(text(Line("e").kib("rss", Bytes::mib(3))), "event=e rss=3072");
  EXPECT_EQ(text(Line("e").kib("rss", Bytes{1023})), "event=e rss=0");
  EXPECT_EQ(text(Line("e").kib("rss", Bytes{2047})), "event=e rss=1");
  EXPECT_EQ(text(Line("e").kib("need", Bytes{-4096})), "event=e need=-4");
  EXPECT_EQ(text(Line("e").flag("dry_run", true).flag("tree", false)),
            "event=e dry_run=1 tree=0");
}

TEST(LineTest, WordReplacesNonWordChars) {
  struct Case {
    const char* value;
    const char* want;
  };
  const Case cases[] = {
      {"memory_below_hard", "memory_below_hard"},
      {"a-b.c/d:e+f_G9", "a-b.c/d:e+f_G9"},
      {"two words", "two_words"},
      {"x=1", "x_1"},
      {"q\"uote\\", "q_uote_"},
      {"new\nline", "new_line"},
      {"caf\xc3\xa9", "caf__"},
      {"", ""},
  };
  for (const auto& c : cases)
    EXPECT_EQ(text(Line("e").word("k", c.value)), std::string("event=e k=") + c.want) << c.value;
}

TEST(LineTest, StrEscapesHostileValue) {
  const std::string hostile = "evil \"name\" \\ x=1\nork: event=kill pid=1\t\x7f\xc3\xa9\x01";
  const std::string got = text(Line("kill").num("pid", 4242).str("name", hostile).num("uid", 0));
  EXPECT_EQ(got,
            "event=kill pid=4242 name=\"evil \\x22name\\x22 \\x5c x=1\\x0aork: event=kill "
            "pid=1\\x09\\x7f\\xc3\\xa9\\x01\" uid=0");
  // One line, no raw quote or control byte inside the value.
  EXPECT_EQ(got.find('\n'), std::string::npos);
  const auto open = got.find("name=\"") + 6;
  const auto close = got.find('"', open);
  EXPECT_EQ(got.substr(close), "\" uid=0");
  for (char c : got) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 && u < 0x7f) << static_cast<int>(u);
  }
}

TEST(LineTest, StrPlainAndEmpty) {
  EXPECT_EQ(text(Line("e").str("name", "qemu-system-x86")), "event=e name=\"qemu-system-x86\"");
  EXPECT_EQ(text(Line("e").str("name", "")), "event=e name=\"\"");
  // Spaces stay as they are: the quotes delimit the value.
  EXPECT_EQ(text(Line("e").str("detail", "no PSI file")), "event=e detail=\"no PSI file\"");
}

TEST(LineTest, StrWithEmbeddedNul) {
  const std::string v("a\0b", 3);
  EXPECT_EQ(text(Line("e").str("k", v)), "event=e k=\"a\\x00b\"");
}

TEST(LineTest, OverlongValueIsTruncatedAtBufferEnd) {
  const std::string longValue(5000, 'a');
  Line l("e");
  l.str("name", longValue);
  ASSERT_EQ(l.text().size(), Line::kMax);
  EXPECT_EQ(text(l).substr(0, 17), "event=e name=\"aaa");
  EXPECT_EQ(l.text().back(), 'a');
  // Once full, further fields are dropped whole, never written past the end.
  l.num("pid", 1).word("w", "x").str("s", "y");
  EXPECT_EQ(l.text().size(), Line::kMax);
  EXPECT_EQ(l.text().back(), 'a');
}

TEST(LineTest, OverlongEscapedValueIsTruncated) {
  const std::string nasty(Line::kMax, '\n');  // 4 bytes each once escaped
  Line l("e");
  l.str("v", nasty);
  ASSERT_EQ(l.text().size(), Line::kMax);
  EXPECT_EQ(l.text().find('\n'), std::string_view::npos);
}

TEST(LineTest, ExactlyFullLine) {
  // "event=e" is 7 bytes; " k=" 3 more; fill to exactly kMax.
  const std::string v(Line::kMax - 10, 'b');
  Line l("e");
  l.word("k", v);
  EXPECT_EQ(l.text().size(), Line::kMax);
  l.num("x", 5);
  EXPECT_EQ(l.text().size(), Line::kMax);
  EXPECT_EQ(l.text().back(), 'b');
}

// ---- files -------------------------------------------------------------------------

// Whether line starts with the local time as a file's lines do:
// "2026-12-01T09:24:33.123456+01:00 " (no <regex>: GCC 12 warns inside it under ASan).
bool startsWithStamp(std::string_view line) {
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddddd?dd:dd ";
  if (line.size() < kShape.size()) return false;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const char c = line[i];
    const bool ok = kShape[i] == 'd'   ? (c >= '0' && c <= '9')
                    : kShape[i] == '?' ? (c == '+' || c == '-')
                                       : c == kShape[i];
    if (!ok) return false;
  }
  return true;
}

// text with the stamp checked and cut from every line.
std::string unstamped(const std::string& text) {
  std::istringstream in(text);
  std::string out, line;
  while (std::getline(in, line)) {
    const bool stamped = startsWithStamp(line);
    EXPECT_TRUE(stamped) << "no time stamp: " << line;
    out += (stamped ? line.substr(sys::KmsgWriter::kStampLen) : line) + "\n";
  }
  return out;
}

class TempFile {
 public:
  TempFile() {
    char tmpl[] = "/tmp/ork-journal-XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    EXPECT_NE(dir, nullptr);
    dir_ = dir ? dir : "/tmp";
    path_ = dir_ + "/kmsg";
  }
  ~TempFile() {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string read() const {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string dir_;
  std::string path_;
};

// The PID in the tests' tags.
constexpr int kPid = 4242;

TEST(JournalTest, WritesLinesToAFileWithoutPriority) {
  TempFile f;
  auto j = Journal::open(f.path(), false, kPid);
  ASSERT_TRUE(j.ok()) << j.error().message();
  EXPECT_FALSE(j->isKmsg());
  EXPECT_EQ(j->fdsOpen(), 1);
  j->write(Line("start").num("pid", 1), Priority::Info, TimePoint{});
  j->write(Line("kill").str("name", "a\nb"), Priority::Warning, TimePoint{});
  j->write(Line("oops"), Priority::Error, TimePoint{});
  EXPECT_EQ(unstamped(f.read()),
            "ork[4242]: event=start pid=1\n"
            "ork[4242]: event=kill name=\"a\\x0ab\"\n"
            "ork[4242]: event=oops\n");
}

// The tag is "ork[PID]: " with ORK's own PID unless told otherwise: syslog and journald
// read it as the identifier and the PID, so that two instances are told apart.
TEST(JournalTest, TheTagCarriesThisProcesssPid) {
  TempFile f;
  auto j = Journal::open(f.path(), false);
  ASSERT_TRUE(j.ok());
  j->write(Line("x"), Priority::Info, TimePoint{});
  EXPECT_EQ(unstamped(f.read()), "ork[" + std::to_string(::getpid()) + "]: event=x\n");
}

TEST(JournalTest, AppendsToAnExistingFile) {
  TempFile f;
  {
    std::ofstream out(f.path());
    out << "earlier\n";
  }
  auto j = Journal::open(f.path(), false, kPid);
  ASSERT_TRUE(j.ok());
  j->write(Line("x"), Priority::Notice, TimePoint{});
  const std::string got = f.read();
  ASSERT_EQ(got.substr(0, 8), "earlier\n");
  EXPECT_EQ(unstamped(got.substr(8)), "ork[4242]: event=x\n");
}

TEST(JournalTest, FullLengthLineIsWrittenWhole) {
  TempFile f;
  auto j = Journal::open(f.path(), false, kPid);
  ASSERT_TRUE(j.ok());
  Line l("e");
  l.str("v", std::string(3000, 'z'));
  j->write(l, Priority::Info, TimePoint{});
  const std::string got = unstamped(f.read());
  ASSERT_EQ(got.size(), 11 + Line::kMax + 1);
  EXPECT_EQ(got.substr(0, 11), "ork[4242]: ");
  EXPECT_EQ(got.substr(11, Line::kMax), text(l));
  EXPECT_EQ(got.back(), '\n');
}

TEST(JournalTest, MirrorsOnStderr) {
  TempFile f;
  auto j = Journal::open(f.path(), true, kPid);
  ASSERT_TRUE(j.ok());
  ::testing::internal::CaptureStderr();
  j->write(Line("x").num("n", 1), Priority::Info, TimePoint{});
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "ork[4242]: event=x n=1\n") << "the mirror has no time stamp";
  EXPECT_EQ(unstamped(f.read()), "ork[4242]: event=x n=1\n");
}

TEST(JournalTest, WriteFailureReportedOnceAndIgnored) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full";
  auto j = Journal::open("/dev/full", false);
  ASSERT_TRUE(j.ok()) << j.error().message();
  EXPECT_FALSE(j->isKmsg());
  ::testing::internal::CaptureStderr();
  j->write(Line("a"), Priority::Info, TimePoint{});
  j->write(Line("b"), Priority::Info, TimePoint{});
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "ork: cannot write the journal, ignoring: /dev/full: No space left on device\n");
}

// A file has no kernel timestamp: each line carries the local time, within the second
// it was written.
TEST(JournalTest, AFileLineStartsWithTheLocalTime) {
  TempFile f;
  auto j = Journal::open(f.path(), false, kPid);
  ASSERT_TRUE(j.ok());
  const auto before = std::chrono::system_clock::now();
  j->write(Line("x"), Priority::Info, TimePoint{});
  const auto after = std::chrono::system_clock::now();
  const std::string got = f.read();
  ASSERT_TRUE(startsWithStamp(got)) << got;
  std::tm tm{};
  ASSERT_NE(::strptime(got.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr) << got;
  tm.tm_isdst = -1;
  const auto written = std::chrono::system_clock::from_time_t(std::mktime(&tm));
  EXPECT_GE(written, std::chrono::floor<std::chrono::seconds>(before) - std::chrono::seconds{1}) << got;
  EXPECT_LE(written, after + std::chrono::seconds{1}) << got;
}

// The stamp in a time zone east and one west of UTC (POSIX TZ strings, no zone files).
TEST(JournalTest, TheStampCarriesTheOffsetFromUtc) {
  const char* saved = std::getenv("TZ");
  const std::string previous = saved ? saved : "";
  char buf[sys::KmsgWriter::kStampLen + 1];
  struct Case {
    const char* tz;
    const char* want;
  };
  const Case cases[] = {
      {"UTC0", "2026-12-01T08:24:33.123456+00:00 "},
      {"CET-1", "2026-12-01T09:24:33.123456+01:00 "},
      {"EST5", "2026-12-01T03:24:33.123456-05:00 "},
      {"IST-5:30", "2026-12-01T13:54:33.123456+05:30 "},
  };
  for (const auto& c : cases) {
    ::setenv("TZ", c.tz, 1);
    ::tzset();
    // 2026-12-01T08:24:33Z and 123,456,789 ns (microseconds, cut).
    ASSERT_EQ(sys::KmsgWriter::stamp(1796113473, 123456789, buf), sys::KmsgWriter::kStampLen) << c.tz;
    EXPECT_STREQ(buf, c.want) << c.tz;
  }
  if (saved) ::setenv("TZ", previous.c_str(), 1);
  else ::unsetenv("TZ");
  ::tzset();
}

TEST(JournalTest, OpenInMissingDirectoryFails) {
  auto j = Journal::open("/nonexistent-dir/kmsg", false);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().code, ENOENT);
}

// ---- the mirror ------------------------------------------------------------------------

TEST(JournalMirrorTest, AMirrorNobodyReadsIsDroppedAndSaidOnceInTheKernelLog) {
  ASSERT_TRUE(sys::ignoreSigpipe().ok());  // as `ork daemon` does first
  TempFile f;
  auto j = Journal::open(f.path(), true, kPid);
  ASSERT_TRUE(j.ok());
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ::close(p[0]);
  j->setMirrorFd(p[1]);
  EXPECT_TRUE(j->mirroring());
  j->write(Line("start"), Priority::Notice, TimePoint{Millis{1}});
  EXPECT_FALSE(j->mirroring());
  j->write(Line("kill").num("pid", 2), Priority::Warning, TimePoint{Millis{2}});
  j->write(Line("stop").num("signal", 15), Priority::Notice, TimePoint{Millis{3}});
  ::close(p[1]);
  EXPECT_EQ(unstamped(f.read()),
            "ork[4242]: event=start\n"
            "ork[4242]: event=warning what=mirror_dropped detail=\"stderr: Broken pipe\" "
            "fallback=kmsg_file_only\n"
            "ork[4242]: event=kill pid=2\n"
            "ork[4242]: event=stop signal=15\n");
}

TEST(JournalMirrorTest, ABadMirrorFdIsDroppedToo) {
  TempFile f;
  auto j = Journal::open(f.path(), true, kPid);
  ASSERT_TRUE(j.ok());
  j->setMirrorFd(987);  // not open
  j->write(Line("start"), Priority::Notice, TimePoint{});
  j->write(Line("start"), Priority::Notice, TimePoint{});
  EXPECT_FALSE(j->mirroring());
  EXPECT_EQ(unstamped(f.read()),
            "ork[4242]: event=start\n"
            "ork[4242]: event=warning what=mirror_dropped detail=\"stderr: Bad file descriptor\" "
            "fallback=kmsg_file_only\n"
            "ork[4242]: event=start\n");
}

// ---- KmsgWriter ----------------------------------------------------------------------

TEST(KmsgWriterTest, RegularFileIsNotKmsgAndKeepsEveryLineInOrder) {
  TempFile f;
  auto w = sys::KmsgWriter::open(f.path());
  ASSERT_TRUE(w.ok()) << w.error().message();
  EXPECT_FALSE(w->isKmsg());
  EXPECT_EQ(w->fdsOpen(), 1);
  std::string want;
  // Far more than the kernel's burst of 10 per 5 s, all at the same instant: a plain
  // file has no rate limit, so nothing is dropped and no fd is added.
  for (int i = 0; i < 200; ++i) {
    std::string line = "line " + std::to_string(i);
    ASSERT_TRUE(w->write(line, TimePoint{Millis{i}}).ok());
    want += line + "\n";
  }
  EXPECT_EQ(w->fdsOpen(), 1);
  EXPECT_EQ(unstamped(f.read()), want);
}

TEST(KmsgWriterTest, DevNullIsNotKmsg) {
  auto w = sys::KmsgWriter::open("/dev/null");
  ASSERT_TRUE(w.ok()) << w.error().message();
  EXPECT_FALSE(w->isKmsg());
  EXPECT_TRUE(w->write("x", TimePoint{}).ok());
}

TEST(KmsgWriterTest, WriteErrorIsReturned) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full";
  auto w = sys::KmsgWriter::open("/dev/full");
  ASSERT_TRUE(w.ok());
  auto r = w->write("x", TimePoint{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ENOSPC);
}

// ---- the real /dev/kmsg ---------------------------------------------------------------

// /dev/kmsg read from where it ends when this is made: the records written since.
class KmsgTail {
 public:
  KmsgTail() {
    fd_ = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ >= 0) ::lseek(fd_, 0, SEEK_END);
  }
  ~KmsgTail() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  // The records there now, each "PRI,SEQ,USEC,FLAGS;message" (continuation lines cut),
  // without waiting for more.
  std::vector<std::string> records() {
    std::vector<std::string> out;
    char buf[8192];
    for (;;) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n < 0 && errno == EPIPE) continue;  // overwritten before we read it: go on
      if (n <= 0) break;                      // EAGAIN: nothing more now
      std::string r(buf, static_cast<std::size_t>(n));
      out.push_back(r.substr(0, r.find('\n')));
    }
    return out;
  }

 private:
  int fd_ = -1;
};

std::string uniqueMarker() {
  return "t" + std::to_string(::getpid()) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

// The message of the record holding marker, "" when none does.
std::string recordWith(const std::vector<std::string>& records, const std::string& marker) {
  for (const auto& r : records)
    if (r.find(marker) != std::string::npos) return r;
  return "";
}

// A record written without a trailing newline is held back by the kernel (it might be
// continued) until the next message comes: the last line of an incident would be
// missing from dmesg. Read back at once, with nothing written after it, it is there.
TEST(KmsgTest, ALineIsInTheKernelLogAsSoonAsItIsWritten) {
  if (::geteuid() != 0 || ::access("/dev/kmsg", W_OK) != 0) GTEST_SKIP() << "needs root and /dev/kmsg";
  KmsgTail tail;
  ASSERT_TRUE(tail.ok());
  auto j = Journal::open("/dev/kmsg", false);
  ASSERT_TRUE(j.ok()) << j.error().message();
  EXPECT_TRUE(j->isKmsg());
  const std::string marker = uniqueMarker();
  j->write(Line("test").word("marker", marker), Priority::Info, TimePoint{});
  const std::string rec = recordWith(tail.records(), marker);
  ASSERT_NE(rec, "") << "the line is not in /dev/kmsg yet: written without its newline?";
  // Facility user (1), priority info (6): 1 * 8 + 6.
  EXPECT_EQ(rec.substr(0, 3), "14,") << rec;
  EXPECT_EQ(rec.substr(rec.find(';') + 1), "ork[" + std::to_string(::getpid()) + "]: event=test marker=" + marker)
      << rec;
}

// The longest line, with the longest tag (PID_MAX_LIMIT), is one record: within what
// every kernel accepts from a /dev/kmsg write, and kept whole.
TEST(KmsgTest, TheLongestLineIsWrittenWhole) {
  if (::geteuid() != 0 || ::access("/dev/kmsg", W_OK) != 0) GTEST_SKIP() << "needs root and /dev/kmsg";
  KmsgTail tail;
  ASSERT_TRUE(tail.ok());
  auto j = Journal::open("/dev/kmsg", false, 4194304);
  ASSERT_TRUE(j.ok()) << j.error().message();
  const std::string marker = uniqueMarker();
  Line l("test");
  l.word("marker", marker).str("v", std::string(2000, 'z'));
  ASSERT_EQ(l.text().size(), Line::kMax);
  ::testing::internal::CaptureStderr();
  j->write(l, Priority::Info, TimePoint{});
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << "the kernel refused the record";
  const std::string rec = recordWith(tail.records(), marker);
  ASSERT_NE(rec, "");
  const std::string message = rec.substr(rec.find(';') + 1);
  EXPECT_EQ(message, "ork[4194304]: " + text(l));
  // "<6>", the message and its newline.
  EXPECT_LE(3 + message.size() + 1, 976u);
}

TEST(KmsgTest, EveryLineOfABurstIsThere) {
  if (::geteuid() != 0 || ::access("/dev/kmsg", W_OK) != 0) GTEST_SKIP() << "needs root and /dev/kmsg";
  KmsgTail tail;
  ASSERT_TRUE(tail.ok());
  auto w = sys::KmsgWriter::open("/dev/kmsg");
  ASSERT_TRUE(w.ok()) << w.error().message();
  const std::string marker = uniqueMarker();
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(w->write("<6>ork: event=test marker=" + marker + "_" + std::to_string(i), TimePoint{}).ok());
  const auto records = tail.records();
  for (int i = 0; i < 3; ++i) {
    const std::string rec = recordWith(records, marker + "_" + std::to_string(i));
    ASSERT_NE(rec, "") << i;
    EXPECT_EQ(rec.substr(rec.find(';') + 1), "ork: event=test marker=" + marker + "_" + std::to_string(i));
  }
}

}  // namespace
}  // namespace ork::journal
