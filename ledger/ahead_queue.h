// A bounded hand-off of batches from one producing thread to one consuming thread, so that
// reading (or applying) runs ahead of the work that follows it by at most `capacity` batches.
// Used where two stages of a long scan overlap: reading and hashing entries ahead of their
// verification (ScanEntriesAhead), applying entries ahead of the projections (Domain replay).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

#include "crypto/status.h"

namespace fundledger {

template <typename Batch>
class AheadQueue {
 public:
  explicit AheadQueue(size_t capacity) : capacity_(capacity) {}

  // Producer: waits for room; false when the consumer has stopped and the batch is not wanted.
  bool Push(Batch batch) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return stopped_ || batches_.size() < capacity_; });
    if (stopped_) return false;
    batches_.push_back(std::move(batch));
    not_empty_.notify_one();
    return true;
  }
  // Producer: nothing more will come; `status` is how producing ended.
  void Finish(Status status = Status::Ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    producer_status_ = std::move(status);
    not_empty_.notify_one();
  }
  // Consumer: the next batch, or nothing once the producer has finished and all is taken.
  std::optional<Batch> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return finished_ || !batches_.empty(); });
    if (batches_.empty()) return std::nullopt;
    Batch b = std::move(batches_.front());
    batches_.pop_front();
    not_full_.notify_one();
    return b;
  }
  // Consumer: takes no more; a producer waiting for room is released.
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    not_full_.notify_one();
  }
  Status producer_status() {
    std::lock_guard<std::mutex> lock(mu_);
    return producer_status_;
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Batch> batches_;
  bool finished_ = false, stopped_ = false;
  Status producer_status_;
};

}  // namespace fundledger
