#include "ork/metrics/Exporter.h"

#include <fcntl.h>
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
constexpr std::uint64_t kTagServer = 1;

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
  if (server_ && server_->owns(tag)) server_->onReady(tag, now);
}

void Exporter::reconfigure(TimePoint now) { start(now); }

void Exporter::stop(TimePoint now) {
  (void)now;
  server_.reset();
  if (!textfile_.empty()) (void)::unlink(textfile_.c_str());
}

void Exporter::writeTextfile(TimePoint now) {
  textfileAt_ = now + cfg_->seconds(config::Key::MetricsTextfileIntervalS);
  const std::string tmp = textfile_ + ".tmp";  // not *.prom: the collector never reads it half-written
  const std::string text = render_();
  Error err;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    err = Error::sys(errno, "open " + tmp);
  } else {
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
    if (err.code == 0 && ::rename(tmp.c_str(), textfile_.c_str()) != 0) err = Error::sys(errno, "rename to " + textfile_);
    if (err.code != 0) (void)::unlink(tmp.c_str());
  }
  if (err.code != 0 && !textfileFailed_) {
    textfileFailed_ = true;
    journal::Line w("warning");
    w.word("what", "metrics_textfile_failed").str("detail", err.what).str("consequence", "retried every interval");
    journal_->write(w, journal::Priority::Warning, now);
  } else if (err.code == 0 && textfileFailed_) {
    textfileFailed_ = false;
    journal::Line w("warning_cleared");
    w.word("what", "metrics_textfile_failed");
    journal_->write(w, journal::Priority::Info, now);
  }
}

}  // namespace ork::metrics
