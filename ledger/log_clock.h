// LogClock: the time the log reads (entry timestamps, the checkpoint interval) and the writer's
// waits for it. SystemLogClock() is the real one. ManualLogClock's time moves only when a test
// advances it, so a test drives the writer's checkpoint timer step by step, without sleeping.
//
//   ManualLogClock clock(1'700'000'000'000);
//   options.clock = &clock;                        // LogOptions
//   int64_t deadline = clock.AwaitWaiter();        // the writer is idle until `deadline`
//   clock.Advance(deadline - clock.NowMs());       // ... which it now reaches
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>

#include "crypto/mutex.h"

namespace fundledger {

class LogClock {
 public:
  static constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

  virtual ~LogClock() = default;
  // UTC milliseconds since the Unix epoch. Any thread.
  virtual int64_t NowMs() = 0;
  // Called with `lock` held on the mutex `cv` is used with: waits on `cv` until ready() (which
  // runs with `lock` held) or until NowMs() >= deadline_ms, and returns with `lock` held. A
  // notify of `cv` makes it check ready() again.
  virtual void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         int64_t deadline_ms, const std::function<bool()>& ready) = 0;
};

// The system clock; waits run in real time.
LogClock& SystemLogClock();

// UTC milliseconds as RFC 3339 text with milliseconds: "2026-11-22T23:10:00.123Z".
std::string IsoTimeMs(int64_t ms);

// A clock that reads `now_ms` and waits in real time (LogOptions::now_ms).
class FunctionLogClock final : public LogClock {
 public:
  explicit FunctionLogClock(std::function<int64_t()> now_ms) : now_ms_(std::move(now_ms)) {}
  int64_t NowMs() override { return now_ms_(); }
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 int64_t deadline_ms, const std::function<bool()>& ready) override;

 private:
  std::function<int64_t()> now_ms_;
};

// A clock for tests: its time moves only by Advance, and a test can wait for the one thread
// waiting on it (the log's writer) to be idle. Advance and AwaitWaiter are for one test thread,
// while the waiting thread's owner (the log) is open.
class ManualLogClock final : public LogClock {
 public:
  explicit ManualLogClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t NowMs() override FL_EXCLUDES(mu_);
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 int64_t deadline_ms, const std::function<bool()>& ready) override FL_EXCLUDES(mu_);

  // Moves the time forward by `ms` and wakes the waiter to look at it.
  void Advance(int64_t ms) FL_EXCLUDES(mu_);
  // Blocks until a thread waits in WaitUntil having seen the time as it is now and found
  // nothing ready; returns the deadline it waits for (kNoDeadline: none).
  int64_t AwaitWaiter() FL_EXCLUDES(mu_);

 private:
  struct Waiter {
    std::condition_variable* cv = nullptr;
    std::mutex* mutex = nullptr;
    int64_t deadline_ms = 0;
    uint64_t advances_seen = 0;
  };

  Mutex mu_;  // taken inside the waiter's mutex, never around it
  std::condition_variable waiter_changed_;
  int64_t now_ms_ FL_GUARDED_BY(mu_);
  uint64_t advances_ FL_GUARDED_BY(mu_) = 0;
  std::optional<Waiter> waiter_ FL_GUARDED_BY(mu_);
};

}  // namespace fundledger
