#include "ork/sys/JobThread.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "ork/sys/Fd.h"

namespace ork::sys {

struct Job {
  std::function<void()> work;
  std::function<void()> finish;
};

struct JobThread::Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> queue;
  std::deque<Job> done;
  bool stop = false;
  bool started = false;
  UniqueFd efd;
};

namespace {
void* jobWorker(void* arg) {
  auto* holder = static_cast<std::shared_ptr<JobThread::Shared>*>(arg);
  std::shared_ptr<JobThread::Shared> s = std::move(*holder);
  delete holder;
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(s->mu);
      s->cv.wait(lock, [&] { return s->stop || !s->queue.empty(); });
      if (s->stop) return nullptr;
      job = std::move(s->queue.front());
      s->queue.pop_front();
    }
    if (job.work) job.work();
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->done.push_back(std::move(job));
    }
    std::uint64_t one = 1;
    (void)!::write(s->efd.get(), &one, sizeof one);
  }
}
}  // namespace

JobThread::JobThread() : shared_(std::make_shared<Shared>()) {}

JobThread::~JobThread() {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stop = true;
  }
  shared_->cv.notify_all();
}

Result<int> JobThread::start() {
  if (shared_->started) return shared_->efd.get();
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return Error::sys(errno, "eventfd");
  shared_->efd.reset(fd);
  pthread_attr_t attr;
  ::pthread_attr_init(&attr);
  ::pthread_attr_setstacksize(&attr, 256 * 1024);
  ::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  auto* holder = new std::shared_ptr<Shared>(shared_);
  pthread_t t;
  int e = ::pthread_create(&t, &attr, &jobWorker, holder);
  ::pthread_attr_destroy(&attr);
  if (e != 0) {
    delete holder;
    shared_->efd.reset();
    return Error::sys(e, "pthread_create (disk worker)");
  }
  shared_->started = true;
  return fd;
}

int JobThread::eventFd() const { return shared_->efd.get(); }

void JobThread::post(std::function<void()> work, std::function<void()> finish) {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->queue.push_back({std::move(work), std::move(finish)});
  }
  ++outstanding_;
  shared_->cv.notify_one();
}

int JobThread::drain() {
  std::uint64_t n = 0;
  (void)!::read(shared_->efd.get(), &n, sizeof n);
  std::deque<Job> done;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    done.swap(shared_->done);
  }
  for (auto& j : done) {
    --outstanding_;
    if (j.finish) j.finish();
  }
  return static_cast<int>(done.size());
}

int JobThread::outstanding() const { return outstanding_; }

}  // namespace ork::sys
