// Counters and latency histograms, printed in the Prometheus text format at GET /metrics.
// Thread-safe; recording is a few atomic adds.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

namespace fundledger {

class Metrics {
 public:
  void RecordRequest(const std::string& route, int status, double seconds);
  // Appended by the caller: gauges and counters owned elsewhere (log size, commits).
  std::string Render(const std::string& extra) const;

 private:
  static constexpr std::array<double, 12> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1,    5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

}  // namespace fundledger
