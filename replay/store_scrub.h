// StoreScrub: verifies a live store before and while it is served, so that damage to entries
// or tree tiles written long ago (a failing disk, someone editing the files) is found while
// the server runs, not only when someone runs `fundledger verify`.
//
// VerifyNew() runs before serving: it verifies the entries added since the verified
// watermark (ScrubOptions::watermark_path), so a restart checks only what is new and a first
// start checks everything. Start() then runs passes on a thread of its own: each pass walks
// [0, size at the pass's start) in windows of entries_per_step (VerifyChain over the window:
// entries, prev-hash chain, every stored tree node and tile, the checkpoints inside), pausing
// step_pause between windows so a pass's IO is bounded, and waits `interval` before the next
// pass. The first damage found stops the scrub; damage() names the entry from then on (the
// server stops serving, api/service.h). A finished pass moves the watermark to its end.
//
// Watermark file: the decimal size verified through and a newline, replaced by rename. A
// watermark past the log's size (a truncated store) counts as none.
//
// Thread safety: VerifyNew() before Start(); report(), damage() and MetricsText() from any
// thread; Stop() (or the destructor) ends the pass and joins the thread. The source (a Log)
// must allow reads beside its writer (a Log does) and outlive the scrub.
//
//   StoreScrub scrub(log, {.watermark_path = dir + "/verified"});
//   if (Status s = scrub.VerifyNew(); !s.ok()) return s;   // names the entry
//   scrub.Start();   // ... scrub.damage() -> "entry 42: ..."
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "crypto/mutex.h"
#include "ledger/log_source.h"

namespace fundledger {

struct ScrubOptions {
  std::chrono::milliseconds interval{std::chrono::hours(6)};  // from a pass's end to the next
  uint64_t entries_per_step = 16'384;                         // entries verified between pauses
  std::chrono::milliseconds step_pause{50};  // between steps: bounds a pass's IO rate
  std::string watermark_path;                // "": none, every start verifies everything
};

struct ScrubReport {
  uint64_t passes = 0;            // complete passes since start
  int64_t last_pass_end_ms = 0;   // Unix ms of the latest complete pass; 0 before one
  uint64_t entries_checked = 0;   // since start, by VerifyNew and every pass
  uint64_t verified_through = 0;  // the watermark: entries before it verified
  std::optional<uint64_t> bad_index;
  std::string reason;  // why bad_index is bad
};

class StoreScrub {
 public:
  StoreScrub(const LogSource& log, ScrubOptions options);
  ~StoreScrub();
  StoreScrub(const StoreScrub&) = delete;
  StoreScrub& operator=(const StoreScrub&) = delete;

  // Verifies [watermark, size); Corruption naming the first bad entry.
  Status VerifyNew();
  void Start();
  void Stop();

  ScrubReport report() const FL_EXCLUDES(mu_);
  // "the store is damaged at entry N: why", once the scrub found damage.
  std::optional<std::string> damage() const FL_EXCLUDES(mu_);
  // The scrub's gauges and counters in the Prometheus text format.
  std::string MetricsText() const;

 private:
  // Verifies [begin, end) in windows; false once damage is found or Stop() was called.
  bool Check(uint64_t begin, uint64_t end, bool paced);
  void Run();
  bool Pause(std::chrono::milliseconds how_long);  // false when stopping
  uint64_t ReadWatermark() const;
  void WriteWatermark(uint64_t size);

  const LogSource& log_;
  const ScrubOptions options_;
  mutable Mutex mu_;
  std::condition_variable wake_;
  bool stopping_ FL_GUARDED_BY(mu_) = false;
  ScrubReport report_ FL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace fundledger
