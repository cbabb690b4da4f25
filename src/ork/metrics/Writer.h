// The metrics surface: what each part says about itself, as Prometheus samples.
//
// A part (ladder/Ladder.h, Part::metrics) adds its gauges and counters to a Writer; the
// Writer groups the samples of one metric name together, whatever order the parts add
// them in (the text format wants one group per name, with its HELP and TYPE once), and
// renders them as the Prometheus text exposition format 0.0.4, or as JSON for
// `ork status --json`. Used only when metrics or a status request ask for it: nothing
// here runs, nor allocates, on the kill path.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ork/core/Units.h"

namespace ork::metrics {

struct Label {
  std::string_view name;
  std::string_view value;
};

enum class Type { Gauge, Counter, Histogram };

// A histogram of durations with fixed buckets (seconds), kept without allocating:
// observe() may run on any path.
class Histogram {
 public:
  // Upper bounds in seconds: 1 ms .. 30 s (a kill's death confirmed: the kernel's exit
  // path, usually milliseconds; kill.deadline_ms caps what ORK waits, 3 s by default).
  static constexpr std::array<double, 14> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25,  0.5,    1,     2.5,  5,     10,  30};
  void observe(Nanos d) {
    const double s = static_cast<double>(d.count()) / 1e9;
    for (std::size_t i = 0; i < kBounds.size(); ++i)
      if (s <= kBounds[i]) ++buckets_[i];
    ++count_;
    sum_ += s;
  }
  std::uint64_t bucket(std::size_t i) const { return buckets_[i]; }  // cumulative
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::array<std::uint64_t, kBounds.size()> buckets_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

// One local network interface, for ork_nic_info: a MAC on two nodes is found with one
// query (count by (mac) (ork_nic_info) > 1). vm and uuid are empty for the host's own.
struct Nic {
  std::string mac;  // lower case, colon-separated
  std::string interface;
  std::string vm;
  std::string uuid;
};

class Writer {
 public:
  // structured: keep every sample (families(), find(), json(): `ork status`); without,
  // each sample is rendered into its family's text as it comes (/metrics and the
  // textfile: a fraction of the memory, which a daemon locked in memory keeps).
  explicit Writer(bool structured = true) : structured_(structured) {}
  // Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*; callers
  // use constants (checked in debug builds by the tests, not at run time).
  void gauge(std::string_view name, std::string_view help, double value, std::initializer_list<Label> labels = {}) {
    add(name, help, Type::Gauge, value, labels);
  }
  // name ends in _total, as the format's conventions want.
  void counter(std::string_view name, std::string_view help, double value, std::initializer_list<Label> labels = {}) {
    add(name, help, Type::Counter, value, labels);
  }
  void histogram(std::string_view name, std::string_view help, const Histogram& h,
                 std::initializer_list<Label> labels = {});
  // The samples of one family, any labels (for labels known only at run time).
  void add(std::string_view name, std::string_view help, Type type, double value, std::span<const Label> labels);
  void add(std::string_view name, std::string_view help, Type type, double value, std::initializer_list<Label> labels) {
    add(name, help, type, value, std::span<const Label>(labels.begin(), labels.size()));
  }

  // The text exposition format (HELP, TYPE, then the samples of each family).
  std::string text() const;
  // [{"name":..., "labels":{...}, "value":...}, ...] for `ork status --json`.
  std::string json() const;

  struct Sample {
    std::string name;  // with a histogram's _bucket/_sum/_count suffix
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
  };
  struct Family {
    std::string name;
    std::string help;
    Type type = Type::Gauge;
    std::vector<Sample> samples;  // structured
    std::string text;             // not structured: the samples' lines
  };
  const std::vector<Family>& families() const { return families_; }
  const Family* find(std::string_view name) const;

 private:
  Family& family(std::string_view name, std::string_view help, Type type);
  void keep(Family& f, Sample&& s);
  bool structured_;
  std::vector<Family> families_;
};

// A label value escaped for the text format: '\\' -> "\\\\", '"' -> "\\\"", newline -> "\\n".
std::string escapeLabel(std::string_view v);
// HELP text escaped: '\\' -> "\\\\", newline -> "\\n".
std::string escapeHelp(std::string_view v);
// A sample value: integers exactly, NaN/+Inf/-Inf as the format spells them.
std::string formatValue(double v);
// A JSON string literal (quotes, backslashes and control characters escaped; bytes
// beyond ASCII that are not valid UTF-8 become U+FFFD).
std::string jsonString(std::string_view v);

}  // namespace ork::metrics
