// sys::FsProbe: statvfs answered off the calling thread, through an eventfd.
#include "ork/sys/FsProbe.h"

#include <gtest/gtest.h>
#include <poll.h>

namespace ork::sys {
namespace {

std::vector<FsProbe::Answer> waitAnswers(FsProbe& p) {
  pollfd fd{p.eventFd(), POLLIN, 0};
  EXPECT_EQ(::poll(&fd, 1, 5000), 1) << "no answer within 5 s";
  return p.take();
}

TEST(FsProbe, AnswersOffTheLoopThroughItsEventfd) {
  FsProbe p;
  auto fd = p.start();
  ASSERT_TRUE(fd.ok()) << fd.error().what;
  EXPECT_EQ(*p.start(), *fd) << "started once";
  TimePoint asked{Seconds{7}};
  ASSERT_TRUE(p.request("/tmp", asked));
  auto answers = waitAnswers(p);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].path, "/tmp");
  EXPECT_EQ(answers[0].askedAt, asked);
  ASSERT_TRUE(answers[0].space.ok()) << answers[0].space.error().what;
  EXPECT_GT(answers[0].space->total, Bytes{0});
  EXPECT_FALSE(p.pending("/tmp"));
}

TEST(FsProbe, ErrorsComeBackAsAnswers) {
  FsProbe p;
  ASSERT_TRUE(p.start().ok());
  ASSERT_TRUE(p.request("/nonexistent/ork", TimePoint{}));
  auto answers = waitAnswers(p);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_FALSE(answers[0].space.ok());
  EXPECT_EQ(answers[0].space.error().code, ENOENT);
}

TEST(FsProbe, OnePendingProbePerPath) {
  FsProbe p;
  // Not started: requests queue, nothing answers, a second one for the path is refused.
  ASSERT_TRUE(p.request("/tmp", TimePoint{Seconds{1}}));
  TimePoint since;
  EXPECT_TRUE(p.pending("/tmp", &since));
  EXPECT_EQ(since, TimePoint{Seconds{1}});
  EXPECT_FALSE(p.inFlight("/tmp")) << "queued, not being probed";
  EXPECT_FALSE(p.request("/tmp", TimePoint{Seconds{2}}));
  EXPECT_TRUE(p.request("/", TimePoint{Seconds{2}}));
  ASSERT_TRUE(p.start().ok());
  std::vector<FsProbe::Answer> all;
  while (all.size() < 2) {
    auto more = waitAnswers(p);
    all.insert(all.end(), more.begin(), more.end());
  }
  EXPECT_EQ(all[0].path, "/tmp");
  EXPECT_EQ(all[1].path, "/");
}

}  // namespace
}  // namespace ork::sys
