#include "ork/sys/FsProbe.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "ork/sys/Fd.h"

namespace ork::sys {

struct FsProbe::Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Answer> queue;  // asked, not started
  Answer current;            // being probed (path empty: none)
  std::vector<Answer> done;
  bool stop = false;
  bool started = false;
  UniqueFd efd;
};

namespace {
void* worker(void* arg) {
  // The thread holds its own reference: it may outlive the FsProbe (stuck in statvfs).
  auto* holder = static_cast<std::shared_ptr<FsProbe::Shared>*>(arg);
  std::shared_ptr<FsProbe::Shared> s = std::move(*holder);
  delete holder;
  for (;;) {
    std::string path;
    {
      std::unique_lock<std::mutex> lock(s->mu);
      s->cv.wait(lock, [&] { return s->stop || !s->queue.empty(); });
      if (s->stop) return nullptr;
      s->current = std::move(s->queue.front());
      s->queue.pop_front();
      path = s->current.path;
    }
    auto space = fsSpace(path);
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->current.space = std::move(space);
      s->done.push_back(std::move(s->current));
      s->current = FsProbe::Answer{};
    }
    std::uint64_t one = 1;
    (void)!::write(s->efd.get(), &one, sizeof one);
  }
}
}  // namespace

FsProbe::FsProbe() : shared_(std::make_shared<Shared>()) {}

FsProbe::~FsProbe() {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stop = true;
  }
  shared_->cv.notify_all();
}

Result<int> FsProbe::start() {
  if (shared_->started) return shared_->efd.get();
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return Error::sys(errno, "eventfd");
  shared_->efd.reset(fd);
  pthread_attr_t attr;
  ::pthread_attr_init(&attr);
  // statvfs needs little stack; under mlockall(MCL_FUTURE) the whole stack is resident.
  ::pthread_attr_setstacksize(&attr, 64 * 1024);
  ::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  auto* holder = new std::shared_ptr<Shared>(shared_);
  pthread_t t;
  int e = ::pthread_create(&t, &attr, &worker, holder);
  ::pthread_attr_destroy(&attr);
  if (e != 0) {
    delete holder;
    shared_->efd.reset();
    return Error::sys(e, "pthread_create (statvfs worker)");
  }
  shared_->started = true;
  return fd;
}

int FsProbe::eventFd() const { return shared_->efd.get(); }

bool FsProbe::request(const std::string& path, TimePoint now) {
  if (pending(path)) return false;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    Answer a;
    a.path = path;
    a.askedAt = now;
    shared_->queue.push_back(std::move(a));
  }
  shared_->cv.notify_one();
  return true;
}

std::vector<FsProbe::Answer> FsProbe::take() {
  std::uint64_t n = 0;
  (void)!::read(shared_->efd.get(), &n, sizeof n);
  std::lock_guard<std::mutex> lock(shared_->mu);
  std::vector<Answer> out;
  out.swap(shared_->done);
  return out;
}

bool FsProbe::pending(const std::string& path, TimePoint* since) const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  if (shared_->current.path == path && !path.empty()) {
    if (since) *since = shared_->current.askedAt;
    return true;
  }
  for (const auto& a : shared_->queue)
    if (a.path == path) {
      if (since) *since = a.askedAt;
      return true;
    }
  return false;
}

bool FsProbe::inFlight(const std::string& path) const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return !path.empty() && shared_->current.path == path;
}

}  // namespace ork::sys
