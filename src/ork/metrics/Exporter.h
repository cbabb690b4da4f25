// [metrics]: the Prometheus exposition, off by default. listen: an HTTP server for GET
// /metrics inside the loop (Server.h: bounded connections, request size and time);
// textfile: the same text written every metrics.textfile_interval_s to PATH for
// node_exporter's textfile collector, atomically (PATH.tmp in the same directory, then
// rename), on a worker thread (sys::JobThread: a slow or hung filesystem holds up the
// next write, which is skipped, never the loop), removed at stop (a stopped ORK exports
// nothing stale). Off: no socket, no file, no thread, no buffer; the part only waits
// for a reload that turns it on.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "ork/ladder/Ladder.h"
#include "ork/metrics/Server.h"
#include "ork/sys/JobThread.h"

namespace ork::journal {
class Journal;
}

namespace ork::metrics {

class Exporter final : public ladder::Part {
 public:
  // render: the whole exposition text (daemon/Observe.h).
  Exporter(const config::Config* cfg, journal::Journal* journal, std::function<std::string()> render)
      : cfg_(cfg), journal_(journal), render_(std::move(render)) {}
  ~Exporter() override;
  const char* name() const override { return "metrics"; }

  // Binds and schedules what the configuration asks; a failure is a warning (the
  // daemon goes on without it). Called after the start line, and on reload.
  void start(TimePoint now);
  TimePoint nextDue() const override;
  void onTimer(TimePoint now) override;
  void onReady(std::uint64_t tag, TimePoint now) override;
  void reconfigure(TimePoint now) override;
  void stop(TimePoint now) override;

  bool listening() const { return server_ != nullptr; }
  std::uint64_t scrapes() const { return scrapes_; }
  // The HTTP answer to a request (for tests): nullopt when more is needed.
  static std::optional<std::string> answer(std::string_view request, bool full, const std::function<std::string()>& body);

 private:
  void writeTextfile(TimePoint now);
  void textfileWritten(const Error& err, TimePoint now);
  // Writes text to path through path.tmp and a rename (on the worker thread).
  static Error writeAtomically(const std::string& path, const std::string& text);

  const config::Config* cfg_;
  journal::Journal* journal_;
  std::function<std::string()> render_;
  std::unique_ptr<Server> server_;
  std::string listenOn_;  // what server_ listens on
  std::string textfile_;  // the file being written ("" : none)
  TimePoint textfileAt_{Nanos::max()};
  bool textfileFailed_ = false;
  std::unique_ptr<sys::JobThread> writer_;  // made with the first textfile write
  std::uint64_t scrapes_ = 0;
};

}  // namespace ork::metrics
