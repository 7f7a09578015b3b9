// A bounded hand-off of batches from one producing thread to one consuming thread, so that
// reading (or applying) runs ahead of the work that follows it by at most `capacity` batches.
// Used where two stages of a long scan overlap: reading and hashing entries ahead of their
// verification (ScanEntriesAhead), applying entries ahead of the projections (Domain replay).
//
// Threads: Push and Finish from the producing thread, Pop and Stop from the consuming one,
// producer_status from either; everything they share is guarded by one mutex.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

#include "crypto/mutex.h"
#include "crypto/status.h"

namespace fundledger {

template <typename Batch>
class AheadQueue {
 public:
  explicit AheadQueue(size_t capacity) : capacity_(capacity) {}

  // Producer: waits for room; false when the consumer has stopped and the batch is not wanted.
  bool Push(Batch batch) FL_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    Wait(not_full_,
         [&]() FL_NO_THREAD_SAFETY_ANALYSIS { return stopped_ || batches_.size() < capacity_; });
    if (stopped_) return false;
    batches_.push_back(std::move(batch));
    not_empty_.notify_one();
    return true;
  }
  // Producer: nothing more will come; `status` is how producing ended.
  void Finish(Status status = Status::Ok()) FL_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    finished_ = true;
    producer_status_ = std::move(status);
    not_empty_.notify_one();
  }
  // Consumer: the next batch, or nothing once the producer has finished and all is taken.
  std::optional<Batch> Pop() FL_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    Wait(not_empty_, [&]() FL_NO_THREAD_SAFETY_ANALYSIS { return finished_ || !batches_.empty(); });
    if (batches_.empty()) return std::nullopt;
    Batch b = std::move(batches_.front());
    batches_.pop_front();
    not_full_.notify_one();
    return b;
  }
  // Consumer: takes no more; a producer waiting for room is released.
  void Stop() FL_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    stopped_ = true;
    not_full_.notify_one();
  }
  Status producer_status() FL_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return producer_status_;
  }

 private:
  // Waits on `cv` until ready(); mu_ is held before and after.
  template <typename Ready>
  void Wait(std::condition_variable& cv, Ready ready) FL_REQUIRES(mu_) {
    std::unique_lock<std::mutex> lock(mu_.native(), std::adopt_lock);
    cv.wait(lock, ready);
    lock.release();  // still held: the caller's MutexLock unlocks it
  }

  const size_t capacity_;
  Mutex mu_;
  std::condition_variable not_full_, not_empty_;  // on mu_
  std::deque<Batch> batches_ FL_GUARDED_BY(mu_);
  bool finished_ FL_GUARDED_BY(mu_) = false;
  bool stopped_ FL_GUARDED_BY(mu_) = false;
  Status producer_status_ FL_GUARDED_BY(mu_);
};

}  // namespace fundledger
