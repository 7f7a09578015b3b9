#include "api/metrics.h"

#include <fmt/core.h>

namespace fundledger {

void Metrics::RecordRequest(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_[{route, status}]++;
  Histogram& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) h.counts[i]++;
  }
  h.count++;
  h.sum += seconds;
}

std::string Metrics::Render(const std::string& extra) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP fundledger_http_requests_total HTTP requests by route and status.\n";
  out += "# TYPE fundledger_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += fmt::format("fundledger_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                       key.first, key.second, n);
  }
  out += "# HELP fundledger_http_request_seconds HTTP request latency by route.\n";
  out += "# TYPE fundledger_http_request_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out += fmt::format("fundledger_http_request_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                         route, kBuckets[i], h.counts[i]);
    }
    out += fmt::format("fundledger_http_request_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                       route, h.count);
    out += fmt::format("fundledger_http_request_seconds_sum{{route=\"{}\"}} {}\n", route, h.sum);
    out +=
        fmt::format("fundledger_http_request_seconds_count{{route=\"{}\"}} {}\n", route, h.count);
  }
  out += extra;
  return out;
}

}  // namespace fundledger
