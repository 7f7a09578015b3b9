// PgLogOfRecord: the ledger's log of record in PostgreSQL (the LogOfRecord of cluster mode):
// LogWriter hands it each commit group, which it appends through a PgLogStore holding the
// writer lease, in one transaction fenced by the writer epoch.
//
// Acknowledgement. Append is ok only when PgLogStore::AppendGroup was (synchronous commit, no
// warning), or when a group in doubt was settled as present by SettleInDoubt. A group settled
// as absent is kNotCommitted (nothing appended anywhere; the client may retry).
//
// Stepping down. A writer fenced by another's epoch or lock, a head that moved under it, or a
// group still in doubt after kSettleAttemptsMax settles means this node must no longer write:
// the error is Overloaded with the rule kWriterFenced (503), `stepped_down()` becomes true, the
// callback given at construction runs once (on the writer thread), and every later Append
// fails the same way without touching PostgreSQL.
//
//   PgLogOfRecord record(std::move(store), lease.epoch, [&](const Status& why) { stop(); });
//   options.log.log_of_record = &record;
//
// Threads: Append on the log's writer thread only, KeepLease not at the same time; stepped_down and
// step_down_reason on any.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "cluster/pg_log_store.h"
#include "crypto/mutex.h"
#include "ledger/log_of_record.h"

namespace fundledger {

inline constexpr int kSettleAttemptsMax = 5;  // each waits up to kPgReconnectWaitMs

class PgLogOfRecord final : public LogOfRecord {
 public:
  using StepDown = std::function<void(const Status& why)>;
  PgLogOfRecord(std::unique_ptr<PgLogStore> store, uint64_t epoch, StepDown on_step_down);

  Status Append(const RecordGroup& group) override;
  // Between groups, never concurrently with Append (WriterSwitch serialises them):
  // PgLogStore::KeepLease; fenced, the writer steps down as an Append would.
  Status KeepLease();

  bool stepped_down() const { return stepped_down_.load(std::memory_order_acquire); }
  std::string step_down_reason() const FL_EXCLUDES(mu_);
  uint64_t epoch() const { return epoch_; }

 private:
  // Settles a group in doubt: ok (present), kNotCommitted (absent), or still in doubt.
  Status Settle(const AppendGroupRequest& request);
  Status StepDownWith(const Status& why) FL_EXCLUDES(mu_);

  std::unique_ptr<PgLogStore> store_;
  const uint64_t epoch_;
  StepDown on_step_down_;
  std::atomic<bool> stepped_down_{false};
  mutable Mutex mu_;
  std::string reason_ FL_GUARDED_BY(mu_);
};

}  // namespace fundledger
