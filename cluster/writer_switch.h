// WriterSwitch: the log of record a cluster node's log is opened with (LogOptions::
// log_of_record). While the node follows, it refuses every group (a follower's writes go to
// the writer); once the node holds the writer lease, it appends through that lease's
// PgLogOfRecord. The node's role loop switches it; the log never reopens.
//
// Threads: Append on the log's writer thread; the rest on any thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "cluster/pg_log_of_record.h"
#include "crypto/mutex.h"
#include "ledger/log_of_record.h"

namespace fundledger {

inline constexpr std::string_view kNotWriter =
    "not_writer";  // Status::rule of a follower's refusal

class WriterSwitch final : public LogOfRecord {
 public:
  Status Append(const RecordGroup& group) override FL_EXCLUDES(mu_);
  // While leading and no group is in flight: PgLogOfRecord::KeepLease (ok otherwise: a group in
  // flight keeps the session busy).
  Status KeepLease() FL_EXCLUDES(mu_);
  // The node writes through `record` from its next group on.
  void Lead(std::unique_ptr<PgLogOfRecord> record) FL_EXCLUDES(mu_);
  // The node follows: groups are refused, with `writer` (a URL, or "") named in the error.
  void Follow(std::string writer) FL_EXCLUDES(mu_);
  // Never waits for a group in flight (which may wait out a PostgreSQL failover).
  bool leading() const { return leading_.load(std::memory_order_acquire); }

 private:
  mutable Mutex mu_;
  std::unique_ptr<PgLogOfRecord> record_ FL_GUARDED_BY(mu_);
  std::string writer_ FL_GUARDED_BY(mu_);
  std::atomic<bool> leading_{false};
};

}  // namespace fundledger
