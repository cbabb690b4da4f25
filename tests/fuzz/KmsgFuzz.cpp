// libFuzzer: what `ork log` reads (Kmsg.h). Input: a steer byte (even: a /dev/kmsg
// record, its message unescaped and read as an ORK line; odd: a journal file line),
// then the text.
#include "fuzz/FuzzCheck.h"
#include "ork/parse/Kmsg.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  std::string_view text = fuzz::asText(data, size);
  const bool fileLine = (fuzz::takeSteer(text) & 1) != 0;
  auto orkLine = [](std::string_view message) {
    if (const auto l = parse::parseOrkLine(message); l.ok()) {
      fuzz::check(fuzz::within(l->body, message));
      fuzz::check(l->body.starts_with("event=") && l->body.size() > 6);
      fuzz::check(l->pid >= 0);
    }
  };
  if (fileLine) {
    if (const auto s = parse::parseJournalFileLine(text); s.ok()) {
      fuzz::check(fuzz::within(s->stamp, text) && fuzz::within(s->line.body, text));
      fuzz::check(s->stamp.empty() || s->stamp.size() >= 20);
    }
    return 0;
  }
  if (const auto r = parse::parseKmsgRecord(text); r.ok()) {
    fuzz::check(fuzz::within(r->message, text));
    fuzz::check(r->level >= 0 && r->level <= 7 && r->facility >= 0);
    fuzz::check(r->message.find('\n') == std::string_view::npos);
    char out[512];
    const std::string_view m = parse::unescapeKmsg(r->message, out, sizeof out);
    fuzz::check(m.size() <= r->message.size() && m.size() <= sizeof out);
    orkLine(m);
  }
  orkLine(text);
  return 0;
}
