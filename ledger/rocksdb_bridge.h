// What the log's files (log, log_writer, tree_store) share in talking to RocksDB: its statuses
// as ours, our byte views as its slices and back, and its per-thread counters switched off.
// Internal to ledger/; nothing outside the log includes it.
#pragma once

#include <rocksdb/perf_level.h>
#include <rocksdb/slice.h>
#include <rocksdb/status.h>

#include <string>

#include "crypto/encoding.h"

namespace fundledger {

inline rocksdb::Slice ToSlice(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline ByteView ToBytes(const rocksdb::Slice& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// `what` says what was being done ("cannot read entry 12").
inline Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNoSpace()) return IoError(what + ": the disk is full (" + s.ToString() + ")");
  if (s.IsCorruption()) return Corruption(what + ": " + s.ToString());
  if (s.IsNotFound()) return NotFound(what + ": not found");
  return IoError(what + ": " + s.ToString());
}

// RocksDB counts per-thread statistics (perf context) on every read and write unless told
// not to; nothing here reads them, and counting cost ~10% of a full scan's CPU. Per thread:
// the writer thread and every scan call it.
inline void QuietRocksDbCounters() { rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable); }

}  // namespace fundledger
