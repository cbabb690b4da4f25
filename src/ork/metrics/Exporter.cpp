#include "ork/metrics/Exporter.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "ork/config/Config.h"
#include "ork/journal/Journal.h"
#include "ork/metrics/Listen.h"
#include "ork/metrics/Requests.h"

namespace ork::metrics {

namespace {
constexpr std::size_t kMaxRequest = 4096;  // a scrape's request is ~300 bytes
constexpr Nanos kTimeout = Seconds{5};
constexpr std::uint64_t kTagServer = 1;  // .. 1 + Server::kMaxConnections
constexpr std::uint64_t kTagWriter = 100;
constexpr Nanos kStopWait = Seconds{2};  // for a textfile write in flight, at stop

}  // namespace

std::optional<std::string> Exporter::answer(std::string_view request, bool full,
                                            const std::function<std::string()>& body) {
  return httpAnswer(request, full, body);
}

Exporter::~Exporter() = default;

void Exporter::start(TimePoint now) {
  // listen
  if (cfg_->metricsListen != listenOn_ || (server_ == nullptr && !cfg_->metricsListen.empty())) {
    server_.reset();
    listenOn_.clear();
    if (!cfg_->metricsListen.empty()) {
      ListenAddress a;
      std::string message;
      Result<sys::UniqueFd> fd = Error::make(EINVAL, "bad address");
      if (parseListen(cfg_->metricsListen, a, message)) fd = listenTcp(a);
      if (!fd) {
        journal::Line w("warning");
        w.word("what", "metrics_listen_failed").str("listen", cfg_->metricsListen).str("detail", fd.error().what)
            .str("consequence", "no HTTP /metrics; ORK goes on");
        journal_->write(w, journal::Priority::Warning, now);
      } else {
        auto server = std::make_unique<Server>(kMaxRequest, kTimeout, [this](std::string_view req, bool full, int) {
          auto a = answer(req, full, render_);
          if (a && a->starts_with("HTTP/1.1 200")) ++scrapes_;
          return a;
        });
        if (auto r = server->start(std::move(*fd), poller_, kTagServer); r) {
          server_ = std::move(server);
          listenOn_ = cfg_->metricsListen;
        }
      }
    }
  }
  // textfile
  if (cfg_->metricsTextfile != textfile_) {
    if (!textfile_.empty()) (void)::unlink(textfile_.c_str());
    textfile_ = cfg_->metricsTextfile;
    textfileFailed_ = false;
  }
  textfileAt_ = textfile_.empty() ? TimePoint{Nanos::max()} : now;
}

TimePoint Exporter::nextDue() const {
  TimePoint t = textfileAt_;
  if (server_) t = std::min(t, server_->nextDue());
  return t;
}

void Exporter::onTimer(TimePoint now) {
  if (server_) server_->onTimer(now);
  if (now >= textfileAt_) writeTextfile(now);
}

void Exporter::onReady(std::uint64_t tag, TimePoint now) {
  if (tag == kTagWriter && writer_) (void)writer_->drain();
  else if (server_ && server_->owns(tag)) server_->onReady(tag, now);
}

void Exporter::reconfigure(TimePoint now) { start(now); }

void Exporter::stop(TimePoint now) {
  (void)now;
  server_.reset();
  // A write in flight would put the file back after the unlink: it is waited for,
  // briefly (a hung filesystem is not).
  if (writer_) {
    const int fd = writer_->eventFd();
    for (int waited = 0; writer_->outstanding() > 0 && waited < static_cast<int>(kStopWait / Millis{50}); ++waited) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) (void)writer_->drain();
    }
  }
  if (!textfile_.empty()) (void)::unlink(textfile_.c_str());
}

Error Exporter::writeAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";  // not *.prom: the collector never reads it half-written
  Error err;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return Error::sys(errno, "open " + tmp);
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = Error::sys(n < 0 ? errno : ENOSPC, "write " + tmp);
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 && err.code == 0) err = Error::sys(errno, "close " + tmp);
  if (err.code == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = Error::sys(errno, "rename to " + path);
  if (err.code != 0) (void)::unlink(tmp.c_str());
  return err;
}

void Exporter::writeTextfile(TimePoint now) {
  textfileAt_ = now + cfg_->seconds(config::Key::MetricsTextfileIntervalS);
  if (!writer_) {
    auto writer = std::make_unique<sys::JobThread>();
    auto fd = writer->start();
    if (!fd || !poller_->add(*fd, EPOLLIN, kTagWriter)) {
      textfileWritten(fd ? Error::make(0, "cannot watch the writer thread") : fd.error(), now);
      return;
    }
    writer_ = std::move(writer);
  }
  // The last write has not finished (a slow filesystem): this turn is skipped.
  if (writer_->outstanding() > 0) return;
  auto result = std::make_shared<Error>();
  writer_->post([path = textfile_, text = render_(), result] { *result = writeAtomically(path, text); },
                [this, result, now] { textfileWritten(*result, now); });
}

void Exporter::textfileWritten(const Error& err, TimePoint now) {
  if (err.code != 0 || err.what[0] != '\0') {
    if (textfileFailed_) return;
    textfileFailed_ = true;
    journal::Line w("warning");
    w.word("what", "metrics_textfile_failed").str("detail", err.what).str("consequence", "retried every interval");
    journal_->write(w, journal::Priority::Warning, now);
  } else if (textfileFailed_) {
    textfileFailed_ = false;
    journal::Line w("warning_cleared");
    w.word("what", "metrics_textfile_failed");
    journal_->write(w, journal::Priority::Info, now);
  }
}

}  // namespace ork::metrics
