#include "ork/metrics/Requests.h"

#include <cstdio>

namespace ork::metrics {

namespace {
std::string response(const char* status, std::string_view contentType, std::string_view body, bool head,
                     const char* extra = "") {
  char head_[320];
  std::snprintf(head_, sizeof head_,
                "HTTP/1.1 %s\r\nContent-Type: %.*s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
                static_cast<int>(contentType.size()), contentType.data(), body.size(), extra);
  std::string out = head_;
  if (!head) out.append(body);
  return out;
}
}  // namespace

std::optional<std::string> httpAnswer(std::string_view request, bool full, const std::function<std::string()>& body) {
  // The request line and headers end with an empty line; the body (there is none for
  // GET) is not read.
  std::size_t end = request.find("\r\n\r\n");
  if (end == std::string_view::npos) end = request.find("\n\n");
  if (end == std::string_view::npos) {
    if (!full) return std::nullopt;
    return response("431 Request Header Fields Too Large", "text/plain", "request too large\n", false);
  }
  const std::string_view line = request.substr(0, request.find_first_of("\r\n"));
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/1."))
    return response("400 Bad Request", "text/plain", "bad request\n", false);
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  if (target != "/metrics") return response("404 Not Found", "text/plain", "not found: ORK serves /metrics\n", method == "HEAD");
  if (method != "GET" && method != "HEAD")
    return response("405 Method Not Allowed", "text/plain", "method not allowed\n", false, "Allow: GET, HEAD\r\n");
  return response("200 OK", "text/plain; version=0.0.4; charset=utf-8", body(), method == "HEAD");
}

std::optional<std::string> statusAnswer(std::string_view request, bool full, uid_t uid,
                                        const std::function<std::string(bool)>& render) {
  if (uid != 0) {
    char b[120];
    std::snprintf(b, sizeof b, "error: ork status is for root only (your uid is %u)\n", static_cast<unsigned>(uid));
    return std::string(b);
  }
  const std::size_t nl = request.find('\n');
  if (nl == std::string_view::npos) {
    if (!full) return std::nullopt;
    return std::string("error: request too long (send \"text\" or \"json\" and a newline)\n");
  }
  std::string_view what = request.substr(0, nl);
  if (!what.empty() && what.back() == '\r') what.remove_suffix(1);
  if (what == "text") return render(false);
  if (what == "json") return render(true);
  return std::string("error: unknown request (send \"text\" or \"json\" and a newline)\n");
}

}  // namespace ork::metrics
