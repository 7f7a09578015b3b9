#include "ledger/log_clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace fundledger {
namespace {

// Waits in real time for the deadline as `clock` reads it.
void WaitInRealTime(LogClock& clock, std::condition_variable& cv,
                    std::unique_lock<std::mutex>& lock, int64_t deadline_ms,
                    const std::function<bool()>& ready) {
  if (deadline_ms == LogClock::kNoDeadline) {
    cv.wait(lock, ready);
    return;
  }
  const int64_t left_ms = std::max<int64_t>(deadline_ms - clock.NowMs(), 0);
  cv.wait_for(lock, std::chrono::milliseconds(left_ms), ready);
}

class RealLogClock final : public LogClock {
 public:
  int64_t NowMs() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 int64_t deadline_ms, const std::function<bool()>& ready) override {
    WaitInRealTime(*this, cv, lock, deadline_ms, ready);
  }
};

}  // namespace

LogClock& SystemLogClock() {
  static RealLogClock clock;
  return clock;
}

void FunctionLogClock::WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                                 int64_t deadline_ms, const std::function<bool()>& ready) {
  WaitInRealTime(*this, cv, lock, deadline_ms, ready);
}

int64_t ManualLogClock::NowMs() {
  MutexLock lock(mu_);
  return now_ms_;
}

void ManualLogClock::WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                               int64_t deadline_ms, const std::function<bool()>& ready) {
  for (;;) {
    if (ready()) return;
    {
      MutexLock clock_lock(mu_);
      if (now_ms_ >= deadline_ms) return;
      // Registered while `lock` is held, so Advance's notify (under `lock`) cannot come between
      // this check and the wait below.
      waiter_ = Waiter{&cv, lock.mutex(), deadline_ms, advances_};
      waiter_changed_.notify_all();
    }
    cv.wait(lock);
    MutexLock clock_lock(mu_);
    waiter_.reset();
  }
}

void ManualLogClock::Advance(int64_t ms) {
  std::optional<Waiter> waiter;
  {
    MutexLock lock(mu_);
    now_ms_ += ms;
    ++advances_;
    waiter = waiter_;
  }
  if (waiter) {
    std::lock_guard<std::mutex> waiter_lock(*waiter->mutex);
    waiter->cv->notify_all();
  }
}

int64_t ManualLogClock::AwaitWaiter() {
  MutexLock lock(mu_);
  std::unique_lock<std::mutex> wait_lock(mu_.native(), std::adopt_lock);
  waiter_changed_.wait(wait_lock, [&]() FL_NO_THREAD_SAFETY_ANALYSIS {
    return waiter_.has_value() && waiter_->advances_seen == advances_;
  });
  wait_lock.release();  // MutexLock unlocks
  return waiter_->deadline_ms;
}

std::string IsoTimeMs(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

}  // namespace fundledger
