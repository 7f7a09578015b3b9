// LogOfRecord: where a commit group is made durable before the local store takes it, when the
// log of record is not the local RocksDB (cluster mode: cluster/pg_log_of_record.h).
//
// Contract. LogWriter::WriteDurably calls Append once per group, on the writer thread, before
// the group's local WriteBatch; nothing of the group is visible to readers until both returned.
// Append returns ok only when the group is acknowledged by the log of record (in cluster mode:
// on the disks of two machines). An error means the group is not acknowledged: the writer
// writes nothing locally and answers every submission of the group with it. The entries are the
// bytes exactly as hashed, from `first_index` on, chained on `prev_leaf_hash`; a group may carry
// no entries when it only signs a checkpoint. `checkpoint_note` is "" when the group signs none.
//
// If the local write fails after an acknowledged Append, the local store is behind the log of
// record: the writer refuses every later group (the node must be restarted to catch up).
//
//   LogOptions options;
//   options.log_of_record = &pg_record;  // outlives the log
//   auto log = Log::Open(dir, options);
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "crypto/sha256.h"
#include "crypto/status.h"

namespace fundledger {

struct RecordGroup {
  uint64_t first_index = 0;
  Hash prev_leaf_hash{};              // of entry first_index - 1; zero for the genesis group
  std::span<const Bytes> entries;     // as hashed
  std::span<const Hash> leaf_hashes;  // HashLeaf of each entry
  std::string_view checkpoint_note;   // signed checkpoint of first_index + entries.size(), or ""
};

class LogOfRecord {
 public:
  virtual ~LogOfRecord() = default;
  virtual Status Append(const RecordGroup& group) = 0;
};

}  // namespace fundledger
