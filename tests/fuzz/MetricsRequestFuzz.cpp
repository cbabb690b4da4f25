// libFuzzer: the request parsers of metrics/ (an HTTP request for /metrics, the status
// socket's one line, [metrics] listen's ADDRESS:PORT) and the journal field reader of
// the metrics' counts. The first byte steers which, and whether the request is full.
#include "fuzz/FuzzCheck.h"
#include "ork/metrics/Activity.h"
#include "ork/metrics/Listen.h"
#include "ork/metrics/Requests.h"
#include "ork/metrics/Writer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  std::string_view text = fuzz::asText(data, size);
  const std::uint8_t steer = fuzz::takeSteer(text);
  const bool full = (steer & 0x80) != 0;
  switch (steer % 4) {
    case 0: {
      bool called = false;
      auto a = metrics::httpAnswer(text, full, [&] {
        called = true;
        return std::string("ork_x 1\n");
      });
      // Incomplete headers wait (unless full); every answer is a whole HTTP/1.1 response.
      fuzz::check(a.has_value() || !full);
      if (a) {
        fuzz::check(a->starts_with("HTTP/1.1 ") && a->find("\r\n\r\n") != std::string::npos);
        fuzz::check(called == a->starts_with("HTTP/1.1 200"));
      }
      break;
    }
    case 1: {
      auto a = metrics::statusAnswer(text, full, (steer & 0x40) ? 1000 : 0,
                                     [](bool json) { return std::string(json ? "J" : "T"); });
      fuzz::check(a.has_value() || (!full && (steer & 0x40) == 0));
      if (a && (steer & 0x40)) fuzz::check(a->starts_with("error: ork status is for root only"));
      break;
    }
    case 2: {
      metrics::ListenAddress addr;
      std::string message;
      const bool ok = metrics::parseListen(text, addr, message);
      fuzz::check(ok ? addr.len > 0 && message.empty() : !message.empty());
      break;
    }
    default: {
      const std::string_view v = metrics::Activity::field(text, "reason");
      fuzz::check(fuzz::within(v, text));
      fuzz::check(v.find(' ') == std::string_view::npos && !v.starts_with("\""));
      const std::string esc = metrics::escapeLabel(text);
      fuzz::check(esc.find('\n') == std::string::npos);
      break;
    }
  }
  return 0;
}
