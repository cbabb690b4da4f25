// The flight recorder, the daemon's side: a part of the loop that, once a second, keeps
// what the ladders sense (memory available, swap, PSI memory/cpu/io, CPU busy), folds
// it into minutes, and once a minute each filesystem's free space; keeps who the VMs
// and the largest processes are (identity records); keeps every action ORK journals
// (through the journal's tap) and every kill the kernel's OOM killer made (read from
// /dev/kmsg, also those made while ORK was not running, as far as the kernel log still
// holds them). All of it goes to the ring file (Format.h) from a job thread: the loop
// never waits on the disk. A disk that is full or read-only, or a directory ORK cannot
// write, loses the recording only, and the journal says so once.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ork/journal/Journal.h"
#include "ork/ladder/Ladder.h"
#include "ork/recorder/Format.h"
#include "ork/sys/Files.h"
#include "ork/sys/JobThread.h"
#include "ork/sys/KmsgReader.h"

namespace ork::recorder {

struct RecorderOptions {
  std::string dir = "/var/lib/ork";
  std::uint64_t sizeBytes = 4u << 20;
  std::string procRoot = "/proc";
  std::string kmsgPath = "/dev/kmsg";  // where the kernel's lines are read; "" : not
};

// The actions recorded from the journal (its events), and the kernel's.
bool isRecordedEvent(std::string_view event);

class Recorder final : public ladder::Part, public journal::LineTap {
 public:
  // The ladders' readings (ladder::Readings): what they sensed last. PSI memory is read
  // by the recorder (no ladder reads its averages); PSI cpu and io too when the ladders
  // have none (disabled).
  using StateFn = std::function<void(ladder::Readings&)>;
  // The filesystems' free space as the disk ladder last read it (once a minute).
  using SpacesFn = std::function<void(std::vector<ladder::SpaceReading>&)>;
  Recorder(const ladder::Services& services, RecorderOptions options, StateFn state, SpacesFn spaces = {});
  ~Recorder() override;

  // Starts the job thread and opens the file there; opens PSI and /dev/kmsg. Never
  // fatal: what fails is said (warning what=recorder_unavailable) and left out.
  void open(TimePoint now);

  const char* name() const override { return "recorder"; }
  TimePoint nextDue() const override;
  void onTimer(TimePoint now) override;
  void onReady(std::uint64_t tag, TimePoint now) override;
  void onTablePass(TimePoint now) override;
  void stop(TimePoint now) override;
  void onLine(const journal::Line& line, TimePoint now) override;
  // Each turn of the loop: a sample nearly due is taken now, while the loop is awake.
  void onLoopTurn(TimePoint now);

  // For the start line: recorder=dir or off.
  void describe(journal::Line& l) const;

  struct Writer;  // the job thread's side

 private:
  static constexpr std::uint64_t kTagJobs = 1;
  static constexpr std::uint64_t kTagKmsg = 2;
  static constexpr std::size_t kBatch = 10;  // samples per write job

  Sample sense(std::int64_t wallNs);
  void sample(TimePoint now);
  void flushSamples();
  void postText(SlotType type, std::int64_t wallNs, std::string_view text);
  void postPendingLines();
  void postDisks();
  void opened(TimePoint now);
  void readKmsg(TimePoint now, bool catchUp);
  void kernelRecord(std::string_view record, TimePoint now, bool catchUp);
  void checkWrites(TimePoint now);
  void warnOnce(std::string_view what, std::string_view detail, TimePoint now);

  ladder::Services s_;
  RecorderOptions o_;
  StateFn state_;
  SpacesFn spacesFn_;
  // Reserved at open for 64 filesystems: no allocation a minute (beyond, it grows once).
  std::vector<ladder::SpaceReading> spaces_;
  bool enabled_ = false;
  sys::JobThread jobs_;
  std::shared_ptr<Writer> w_;
  bool ready_ = false;       // the file is open (the opening job finished well)
  bool unavailable_ = false;  // said once
  TimePoint nextSample_;
  TimePoint retryOpenAt_{Nanos::max()};
  int minuteTicks_ = 0;
  std::array<Sample, kBatch> batch_{};
  std::size_t batched_ = 0;
  std::uint64_t dropped_ = 0;
  MinuteFold fold_;
  std::string psiMem_, psiCpu_, psiIo_;  // paths; empty when absent
  sys::KeptOpenFile psiMemFile_, psiCpuFile_, psiIoFile_;  // opened at the first read
  std::optional<sys::KmsgReader> kmsg_;
  bool kmsgWatched_ = false;
  int missed_ = 0;  // kernel kills from before the start, recorded at it
  std::string bootId_;
  std::uint64_t lastKseq_ = 0;  // the newest kernel record recorded, this boot
  bool haveKseq_ = false;
  std::uint64_t writeFailuresSeen_ = 0;
  bool writeWarned_ = false;

  // The kernel's summary line, kept for the "Killed process" line that follows it.
  struct Pending {
    int pid = 0;
    std::int64_t uid = -1;
    bool memcg = false;
    int score = -1;
    char constraint[24] = {};
    char taskMemcg[256] = {};
    char oomMemcg[256] = {};
  } pending_;

  // Identities recorded this run, by (pid, start time): said once each.
  struct Seen {
    int pid;
    std::uint64_t start;
    bool nova;
    TimePoint at;
  };
  // The journal's lines (a kill) copied as they are written, without allocating: posted
  // to the job thread at the end of the loop's turn, after the action is done. A line
  // that finds every slot taken is posted at once.
  struct PendingLine {
    std::int64_t wallNs = 0;
    std::size_t size = 0;
    char text[kEventSlot];
  };
  static constexpr std::size_t kPendingLines = 4;
  std::unique_ptr<PendingLine[]> pendingLines_;
  std::size_t pendingCount_ = 0;

  std::vector<Seen> vmsSeen_;
  std::vector<Seen> procsSeen_;  // the largest processes, the most recent 64
};

}  // namespace ork::recorder
