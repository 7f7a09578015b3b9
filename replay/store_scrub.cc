#include "replay/store_scrub.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "replay/chain_verifier.h"

namespace fundledger {

StoreScrub::StoreScrub(const LogSource& log, ScrubOptions options)
    : log_(log), options_(std::move(options)) {
  assert(options_.entries_per_step > 0);
}

StoreScrub::~StoreScrub() { Stop(); }

uint64_t StoreScrub::ReadWatermark() const {
  if (options_.watermark_path.empty()) return 0;
  std::ifstream in(options_.watermark_path);
  uint64_t size = 0;
  if (!(in >> size) || size > log_.size()) return 0;  // none, unreadable, or a truncated store
  return size;
}

void StoreScrub::WriteWatermark(uint64_t size) {
  if (options_.watermark_path.empty()) return;
  const std::string temp = options_.watermark_path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << size << "\n";
    if (!out.flush()) return;  // a watermark not moved means more to verify next time
  }
  std::error_code ec;
  std::filesystem::rename(temp, options_.watermark_path, ec);
}

Status StoreScrub::VerifyNew() {
  const uint64_t from = ReadWatermark(), size = log_.size();
  {
    MutexLock lock(mu_);
    report_.verified_through = from;
  }
  if (!Check(from, size, /*paced=*/false)) {
    std::optional<std::string> damaged = damage();
    return damaged ? Corruption(*damaged) : Status::Ok();  // damage, or stopped
  }
  WriteWatermark(size);
  MutexLock lock(mu_);
  report_.verified_through = size;
  return Status::Ok();
}

bool StoreScrub::Check(uint64_t begin, uint64_t end, bool paced) {
  for (uint64_t at = begin; at < end;) {
    const uint64_t window_end = std::min(end, at + options_.entries_per_step);
    VerifyOptions verify;
    // From the entry before the window: a window resumes from that entry's bytes, so it is
    // checked again here, and damage to it is named at its own index, not the next one's.
    verify.begin = at > 0 ? at - 1 : 0;
    verify.end = window_end;
    if (paced) verify.threads = 1;  // the server's cores are for its requests
    VerifyReport r = VerifyChain(log_, verify);
    MutexLock lock(mu_);
    if (!r.valid) {
      report_.bad_index = r.unusable ? verify.begin : r.bad_index;
      report_.reason = r.reason;
      report_.entries_checked += std::max(*report_.bad_index, at) - at;
      return false;
    }
    report_.entries_checked += window_end - at;
    at = window_end;
    if (stopping_) return false;
    if (paced && at < end) {
      std::unique_lock<std::mutex> wait(mu_.native(), std::adopt_lock);
      bool stop = wake_.wait_for(wait, options_.step_pause,
                                 [&]() FL_NO_THREAD_SAFETY_ANALYSIS { return stopping_; });
      wait.release();  // MutexLock unlocks
      if (stop) return false;
    }
  }
  return true;
}

bool StoreScrub::Pause(std::chrono::milliseconds how_long) {
  MutexLock lock(mu_);
  std::unique_lock<std::mutex> wait(mu_.native(), std::adopt_lock);
  bool stop =
      wake_.wait_for(wait, how_long, [&]() FL_NO_THREAD_SAFETY_ANALYSIS { return stopping_; });
  wait.release();  // MutexLock unlocks
  return !stop;
}

void StoreScrub::Run() {
  do {
    const uint64_t size = log_.size();
    if (!Check(0, size, /*paced=*/true)) return;  // damage found, or stopping
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    WriteWatermark(std::max(size, ReadWatermark()));
    MutexLock lock(mu_);
    ++report_.passes;
    report_.last_pass_end_ms = now_ms;
    report_.verified_through = std::max(report_.verified_through, size);
  } while (Pause(options_.interval));
}

void StoreScrub::Start() {
  assert(!thread_.joinable());
  thread_ = std::thread([this] { Run(); });
}

void StoreScrub::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

ScrubReport StoreScrub::report() const {
  MutexLock lock(mu_);
  return report_;
}

std::optional<std::string> StoreScrub::damage() const {
  MutexLock lock(mu_);
  if (!report_.bad_index) return std::nullopt;
  return "the store is damaged at entry " + std::to_string(*report_.bad_index) + ": " +
         report_.reason;
}

std::string StoreScrub::MetricsText() const {
  ScrubReport r = report();
  return fmt::format(
      "# HELP fundledger_scrub_passes_total Complete scrub passes over the store.\n"
      "# TYPE fundledger_scrub_passes_total counter\nfundledger_scrub_passes_total {}\n"
      "# HELP fundledger_scrub_last_pass_seconds Unix time the latest scrub pass ended (0: "
      "none yet).\n# TYPE fundledger_scrub_last_pass_seconds gauge\n"
      "fundledger_scrub_last_pass_seconds {}\n"
      "# HELP fundledger_scrub_entries_checked_total Entries verified since start.\n"
      "# TYPE fundledger_scrub_entries_checked_total counter\n"
      "fundledger_scrub_entries_checked_total {}\n"
      "# HELP fundledger_scrub_first_bad_index The first damaged entry found (-1: none).\n"
      "# TYPE fundledger_scrub_first_bad_index gauge\nfundledger_scrub_first_bad_index {}\n",
      r.passes, r.last_pass_end_ms / 1000, r.entries_checked,
      r.bad_index ? static_cast<int64_t>(*r.bad_index) : int64_t{-1});
}

}  // namespace fundledger
