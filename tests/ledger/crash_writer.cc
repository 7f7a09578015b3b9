// Test helper: posts appropriations to a ledger (domain and projections included) from several
// threads until it is killed, printing one line per acknowledged submission:
// "ack <thread> <seq> <first index> <count>". Usage: crash_writer DIR CYCLE THREADS
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "ledger/ledger.h"
#include "projections/projections.h"

using namespace fundledger;

constexpr int kSubmissionsPerThreadMax = 100'000;  // bounded even if nobody kills it

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: crash_writer DIR CYCLE THREADS\n");
    return 2;
  }
  std::string dir = argv[1], cycle = argv[2];
  int threads = std::stoi(argv[3]);
  Projections projections;
  Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(dir, WithProjections(projections, {}));
  if (!ledger.ok()) {
    std::fprintf(stderr, "crash_writer: %s\n", ledger.status().ToString().c_str());
    return 1;
  }
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int seq = 0; seq < kSubmissionsPerThreadMax; ++seq) {
        std::string key = "c" + cycle + "-t" + std::to_string(t) + "-" + std::to_string(seq);
        std::vector<DomainEvent> events;
        int count = 1 + seq % 3;
        for (int e = 0; e < count; ++e) {
          fb::AppropriatedT a;
          a.fund_id = "F-" + std::to_string(t);
          a.bucket = "general";
          a.amount_fen = 100 + e;
          a.source = "treasury";
          a.document = key + "/" + std::to_string(e);
          events.emplace_back(std::move(a));
        }
        Result<AppendResult> r =
            (*ledger)->Submit(Actor{"writer", fb::Role::maker}, key, std::move(events));
        if (!r.ok()) {
          std::fprintf(stderr, "crash_writer: %s\n", r.status().ToString().c_str());
          std::_Exit(1);
        }
        char line[128];
        int n = std::snprintf(line, sizeof line, "ack %d %d %llu %llu\n", t, seq,
                              static_cast<unsigned long long>(r->first_index),
                              static_cast<unsigned long long>(r->count));
        // One write(2) per line: atomic on a pipe, so lines from threads never interleave.
        if (::write(STDOUT_FILENO, line, static_cast<size_t>(n)) != n) std::_Exit(1);
      }
    });
  }
  for (auto& w : workers) w.join();
  return 0;
}
