#include "virt/LibvirtClient.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace ork::virt {

using parse::kVirtDeadline;
using parse::kVirtNoConnection;
using parse::kVirtReadOnly;

namespace {

// libvirt prints every error to stderr by default; ORK puts them in replies instead.
void silentErrors(void*, virErrorPtr) {}

std::string lastMessage() {
  const char* m = virGetLastErrorMessage();
  return m != nullptr ? m : "unknown libvirt error";
}

int lastCode() {
  const virErrorPtr e = virGetLastError();
  return e != nullptr ? e->code : VIR_ERR_INTERNAL_ERROR;
}

// Owns a virDomainPtr.
struct Domain {
  virDomainPtr ptr = nullptr;
  explicit Domain(virDomainPtr p) : ptr(p) {}
  Domain(const Domain&) = delete;
  Domain& operator=(const Domain&) = delete;
  ~Domain() {
    if (ptr != nullptr) virDomainFree(ptr);
  }
};

// Owns the array virConnectListAllDomains returns (and every domain in it).
struct DomainList {
  virDomainPtr* doms = nullptr;
  int count = 0;
  DomainList() = default;
  DomainList(const DomainList&) = delete;
  DomainList& operator=(const DomainList&) = delete;
  ~DomainList() {
    for (int i = 0; i < count; ++i) virDomainFree(doms[i]);
    std::free(doms);
  }
};

void onConnectionClosed(virConnectPtr, int /*reason*/, void* opaque) {
  static_cast<std::atomic<bool>*>(opaque)->store(true);
}

// Nova's metadata, newest namespace first. Empty when the domain has none (not a nova
// instance) or when the call fails: the metadata only labels a VM, so its absence must
// not fail the listing.
parse::NovaMetadata novaMetadata(virDomainPtr dom) {
  for (const char* ns : {parse::kNovaNamespace11, parse::kNovaNamespace10}) {
    char* xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, ns, 0);
    if (xml != nullptr) {
      parse::NovaMetadata m = parse::parseNovaMetadata(xml);
      std::free(xml);
      return m;
    }
  }
  virResetLastError();
  return {};
}

}  // namespace

void LibvirtClient::initProcess() {
  static std::once_flag once;
  std::call_once(once, [] {
    virSetErrorFunc(nullptr, silentErrors);
    if (virInitialize() < 0) return;
    // Keepalive and close callbacks need an event loop; libvirt's own, on its thread.
    if (virEventRegisterDefaultImpl() < 0) return;
    std::thread([] {
      for (;;) {
        // An error here is not expected; pausing keeps it from becoming a busy loop.
        if (virEventRunDefaultImpl() < 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }).detach();
  });
}

LibvirtClient::LibvirtClient(Options o) : opt_(std::move(o)) { initProcess(); }

LibvirtClient::~LibvirtClient() { disconnect(); }

void LibvirtClient::disconnect() {
  if (conn_ == nullptr) return;
  virConnectUnregisterCloseCallback(conn_, onConnectionClosed);
  virConnectClose(conn_);
  virResetLastError();
  conn_ = nullptr;
}

CallResult LibvirtClient::ensureConnected() {
  if (conn_ != nullptr && (closed_.load() || virConnectIsAlive(conn_) != 1)) disconnect();
  if (conn_ != nullptr) return CallResult::success();
  closed_.store(false);
  const char* uri = opt_.uri.empty() ? nullptr : opt_.uri.c_str();
  // Never virConnectOpenAuth with the default callbacks: they would prompt on stdin,
  // which is ORK's socket.
  conn_ = opt_.readOnly ? virConnectOpenReadOnly(uri) : virConnectOpen(uri);
  if (conn_ == nullptr) {
    CallResult r{false, kVirtNoConnection, "connect " + opt_.uri + ": " + lastMessage()};
    virResetLastError();
    return r;
  }
  // No free callback: drivers without close callbacks (test://) accept the
  // registration without keeping it, so a free callback would never run. closed_
  // outlives the registration, which disconnect() removes before closing.
  virConnectRegisterCloseCallback(conn_, onConnectionClosed, &closed_, nullptr);
  // Local drivers (test://) refuse keepalive: there is no daemon to lose.
  virConnectSetKeepAlive(conn_, opt_.keepAliveIntervalS, opt_.keepAliveCount);
  virResetLastError();
  return CallResult::success();
}

CallResult LibvirtClient::failure(std::string_view what) {
  CallResult r{false, lastCode(), std::string(what) + ": " + lastMessage()};
  virResetLastError();
  if (conn_ != nullptr && virConnectIsAlive(conn_) != 1) disconnect();
  return r;
}

CallResult LibvirtClient::list(std::vector<parse::VirtDomain>& out) {
  out.clear();
  if (auto c = ensureConnected(); !c.ok) return c;
  // Two listings, because libvirt ANDs filter groups: running or paused domains, and
  // shut-off ones that hold a managed save image (hibernated by ORK or anyone).
  DomainList active, saved;
  active.count = virConnectListAllDomains(conn_, &active.doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
  if (active.count < 0) {
    active.count = 0;
    return failure("list domains");
  }
  saved.count = virConnectListAllDomains(
      conn_, &saved.doms, VIR_CONNECT_LIST_DOMAINS_INACTIVE | VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE);
  if (saved.count < 0) {
    saved.count = 0;
    return failure("list saved domains");
  }
  // A save finishing between the two listings would show a domain twice: the later
  // listing wins.
  std::unordered_map<std::string, std::size_t> byUuid;
  out.reserve(static_cast<std::size_t>(active.count + saved.count));
  for (const DomainList* l : {&active, &saved}) {
    const bool hibernated = l == &saved;
    for (int i = 0; i < l->count; ++i) {
      virDomainPtr dom = l->doms[i];
      char uuid[VIR_UUID_STRING_BUFLEN] = {};
      virDomainInfo info{};
      // A domain that vanished since the listing is simply not listed.
      if (virDomainGetUUIDString(dom, uuid) < 0 || virDomainGetInfo(dom, &info) < 0) {
        virResetLastError();
        continue;
      }
      parse::VirtDomain d;
      d.uuid = uuid;
      const char* name = virDomainGetName(dom);
      d.name = name != nullptr ? name : "";
      const unsigned id = virDomainGetID(dom);
      d.id = id == static_cast<unsigned>(-1) ? -1 : static_cast<int>(id);
      d.state = std::string(parse::virtStateName(info.state));
      d.memory = Bytes::kib(static_cast<std::int64_t>(info.memory));
      d.maxMemory = Bytes::kib(static_cast<std::int64_t>(info.maxMem));
      d.vcpus = info.nrVirtCpu;
      d.cpuNs = info.cpuTime;
      d.managedSave = hibernated;
      const parse::NovaMetadata nova = novaMetadata(dom);
      d.novaName = nova.name;
      d.novaProject = nova.project;
      d.novaFlavor = nova.flavor;
      // A running domain's NICs and their taps (the network ladder's guest MACs): the
      // live XML names the tap (<target dev='vnet3'/>) only while it runs.
      if (d.id >= 0) {
        if (char* xml = virDomainGetXMLDesc(dom, 0)) {
          d.nics = parse::formatNics(parse::parseDomainInterfaces(xml));
          std::free(xml);
        } else {
          virResetLastError();
        }
      }
      auto [it, fresh] = byUuid.emplace(d.uuid, out.size());
      if (fresh) {
        out.push_back(std::move(d));
      } else {
        out[it->second] = std::move(d);
      }
    }
  }
  return CallResult::success();
}

CallResult LibvirtClient::save(std::string_view uuid, SteadyTime deadline) {
  if (opt_.readOnly) return {false, kVirtReadOnly, "read-only connection: save refused"};
  if (auto c = ensureConnected(); !c.ok) return c;
  Domain dom(virDomainLookupByUUIDString(conn_, std::string(uuid).c_str()));
  if (dom.ptr == nullptr) return failure("lookup " + std::string(uuid));

  // The watchdog: at the deadline it aborts the save job, which makes libvirt resume
  // the VM where it was and fail the save call. Aborting (rather than killing this
  // helper) is what keeps a half-written save from leaving the VM paused.
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  bool abortTried = false;
  int abortRc = 0;
  std::string abortMessage;
  std::thread watchdog([&] {
    std::unique_lock lock(m);
    if (cv.wait_until(lock, deadline, [&] { return done; })) return;
    abortTried = true;
    lock.unlock();
    const int rc = virDomainAbortJob(dom.ptr);
    std::string msg = rc < 0 ? lastMessage() : "";
    virResetLastError();
    lock.lock();
    abortRc = rc;
    abortMessage = std::move(msg);
  });
  const int rc = virDomainManagedSave(dom.ptr, 0);
  {
    std::lock_guard lock(m);
    done = true;
  }
  cv.notify_all();
  watchdog.join();
  // libvirt's last error is per thread: the watchdog's abort did not overwrite it.
  CallResult r = rc == 0 ? CallResult::success() : failure("managed save " + std::string(uuid));
  if (rc != 0 && abortTried) {
    r.code = kVirtDeadline;
    r.message = "managed save aborted at the deadline, the VM keeps running: " + r.message;
    if (abortRc < 0) r.message += " (abort failed: " + abortMessage + ")";
  }
  return r;
}

CallResult LibvirtClient::lifecycle(std::string_view uuid, bool suspend) {
  const char* what = suspend ? "suspend" : "resume";
  if (opt_.readOnly)
    return {false, kVirtReadOnly, std::string("read-only connection: ") + what + " refused"};
  if (auto c = ensureConnected(); !c.ok) return c;
  Domain dom(virDomainLookupByUUIDString(conn_, std::string(uuid).c_str()));
  if (dom.ptr == nullptr) return failure("lookup " + std::string(uuid));
  const int rc = suspend ? virDomainSuspend(dom.ptr) : virDomainResume(dom.ptr);
  if (rc < 0) return failure(std::string(what) + " " + std::string(uuid));
  return CallResult::success();
}

CallResult LibvirtClient::suspend(std::string_view uuid) { return lifecycle(uuid, true); }
CallResult LibvirtClient::resume(std::string_view uuid) { return lifecycle(uuid, false); }

CallResult LibvirtClient::ping() {
  if (auto c = ensureConnected(); !c.ok) return c;
  unsigned long version = 0;
  if (virConnectGetLibVersion(conn_, &version) < 0) return failure("ping");
  return CallResult::success("libvirt " + std::to_string(version / 1000000) + "." +
                             std::to_string(version / 1000 % 1000) + "." +
                             std::to_string(version % 1000));
}

CallResult LibvirtClient::execute(const parse::VirtRequest& r, SteadyTime deadline,
                                  std::vector<parse::VirtDomain>& domains) {
  domains.clear();
  if (std::chrono::steady_clock::now() >= deadline)
    return {false, kVirtDeadline, "deadline passed before the call started"};
  switch (r.op) {
    case parse::VirtOp::List:
      return list(domains);
    case parse::VirtOp::Save:
      return save(r.uuid, deadline);
    case parse::VirtOp::Suspend:
      return suspend(r.uuid);
    case parse::VirtOp::Resume:
      return resume(r.uuid);
    case parse::VirtOp::Ping:
      return ping();
  }
  return {false, parse::kVirtBadRequest, "unknown operation"};
}

}  // namespace ork::virt
