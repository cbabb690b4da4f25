// The protocol between ORK and its libvirt helper, ork-virt: one message per
// AF_UNIX SOCK_SEQPACKET packet, so there is no framing to get wrong. A message is text,
// tab-separated key=value fields; values are escaped (\t \n \\ and other bytes below
// 0x20 or 0x7f as \xHH), so a VM name holding a tab or a newline cannot forge a field.
// Keys may come in any order; unknown keys are ignored so that either side can grow a
// field without breaking the other; a missing required key is an error.
//
//   ORK -> helper   msg=req     id op uuid deadline_ms
//   helper -> ORK   msg=domain  id uuid name dom_id state mem_kib max_kib vcpus cpu_ns
//                               managed_save nova_name nova_project nova_flavor [nics]
//                               (list only: one per domain, before the reply)
//                   msg=reply   id status(ok|err) code took_ms message
//
// deadline_ms is relative to when the helper receives the request (ORK sends at once,
// the helper reads at once and queues), so the two sides need no shared clock.
//
// Also here, because it is pure text work the helper needs: reading the few fields ORK
// uses out of OpenStack nova's domain metadata XML.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ork/core/Result.h"
#include "ork/core/Units.h"

namespace ork::parse {

enum class VirtOp { List, Save, Suspend, Resume, Ping };

// ORK's own reply codes; positive or zero codes are libvirt's virErrorNumber.
inline constexpr int kVirtNoConnection = -1;  // libvirt could not be reached
inline constexpr int kVirtDeadline = -2;      // past the deadline: aborted or given up
inline constexpr int kVirtHelperDied = -3;    // the helper exited, crashed or was killed
inline constexpr int kVirtReadOnly = -4;      // the helper's connection is read-only
inline constexpr int kVirtBadRequest = -5;    // the helper could not decode the request

// The largest packet either side sends or accepts. Free text (VM names, libvirt
// messages) is truncated when encoded, so that a message always fits: at most six text
// fields of kVirtMaxText bytes, each at most 4x longer escaped, plus the numbers.
inline constexpr std::size_t kVirtMaxMessage = 64 * 1024;
// Free-text values are cut to this many bytes before escaping (at most 4x longer after).
inline constexpr std::size_t kVirtMaxText = 1024;

struct VirtRequest {
  std::uint64_t id = 0;
  VirtOp op = VirtOp::Ping;
  std::string uuid;  // required for save, suspend, resume
  std::uint64_t deadlineMs = 0;
};

// One domain as listed by the helper (the daemon calls it act::DomainInfo).
struct VirtDomain {
  std::string uuid, name, state;  // state: running, paused, shutoff, ... (stateName)
  int id = -1;                    // libvirt's domain id; -1 when not running
  Bytes memory, maxMemory;        // current balloon size, maximum
  int vcpus = 0;
  std::uint64_t cpuNs = 0;
  bool managedSave = false;  // a managed save image exists (the VM is hibernated)
  // OpenStack nova metadata, empty when the domain has none. The nova instance UUID is
  // the domain's UUID.
  std::string novaName, novaProject, novaFlavor;
  // The guest NICs of a running domain, from its live XML: "MAC@TAP" pairs separated by
  // spaces ("52:54:00:12:34:56@vnet3"; TAP empty when the NIC has no host device).
  // Empty for a domain that is not running, or from a helper that predates the field.
  std::string nics;
};

struct VirtReply {
  std::uint64_t id = 0;
  bool ok = false;
  int code = 0;
  std::uint64_t tookMs = 0;
  std::string message;
};

// What the helper sends: a domain of a list in progress, or the final reply.
struct VirtHelperMessage {
  enum class Kind { Domain, Reply };
  Kind kind = Kind::Reply;
  std::uint64_t id = 0;
  VirtDomain domain;  // Kind::Domain
  VirtReply reply;    // Kind::Reply
};

std::string_view virtOpName(VirtOp op);
// libvirt's virDomainState as a word: nostate running blocked paused shutdown shutoff
// crashed pmsuspended; "unknown" otherwise.
std::string_view virtStateName(int libvirtState);

std::string encodeVirtRequest(const VirtRequest& r);
std::string encodeVirtDomain(std::uint64_t id, const VirtDomain& d);
std::string encodeVirtReply(const VirtReply& r);

Result<VirtRequest> decodeVirtRequest(std::string_view packet);
// The id of a message that failed to decode, if that much can be read, so that the
// helper can still answer a request it does not understand (kVirtBadRequest).
std::optional<std::uint64_t> virtMessageId(std::string_view packet);
Result<VirtHelperMessage> decodeVirtHelperMessage(std::string_view packet);

// Value escaping, exposed for tests. unescape fails on a truncated or unknown escape.
void appendVirtEscaped(std::string& out, std::string_view value);
Result<std::string> unescapeVirtValue(std::string_view value);

// ---- OpenStack nova metadata -------------------------------------------------------
// The element libvirt returns for virDomainGetMetadata(ELEMENT, nova's namespace):
//   <instance><name>web-1</name><flavor name="m1.small">..</flavor>
//     <owner><user ..>admin</user><project uuid="..">demo</project></owner>..</instance>
// with or without a namespace prefix on every tag. Read by local names along the path;
// entities are decoded. Malformed XML yields whatever was read before the damage.
struct NovaMetadata {
  std::string name, project, flavor;
};
inline constexpr const char* kNovaNamespace11 = "http://openstack.org/xmlns/libvirt/nova/1.1";
inline constexpr const char* kNovaNamespace10 = "http://openstack.org/xmlns/libvirt/nova/1.0";
NovaMetadata parseNovaMetadata(std::string_view xml);

// ---- guest NICs ----------------------------------------------------------------------
// The <interface> elements of a domain's XML (virDomainGetXMLDesc):
//   <domain><devices><interface type='bridge'><mac address='52:54:00:..'/>
//     <target dev='vnet3'/>...</interface></devices></domain>
// with or without a namespace prefix. A NIC without a valid MAC is left out; the target
// is empty when absent. Malformed XML yields whatever was read before the damage.
struct DomainNic {
  std::string mac;  // lower case, as Mac::str()
  std::string target;
};
std::vector<DomainNic> parseDomainInterfaces(std::string_view xml);
// The nics field of the protocol: "MAC@TAP MAC@TAP"; and back (entries without a
// valid MAC are dropped; a TAP holding a space or '@' cannot be written and is cut).
std::string formatNics(const std::vector<DomainNic>& nics);
std::vector<DomainNic> parseNics(std::string_view field);

}  // namespace ork::parse
