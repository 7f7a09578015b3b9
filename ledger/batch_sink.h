// BatchSink: the KeyValueSink that takes one submission's projection rows and writes them to
// the commit group's WriteBatch in key order, once per key.
//
// Observers write a row each time a value changes (a fund's balance changes with every line
// of a roll); the sink keeps them all in one buffer until the submission passed its rules and
// was applied, then Flush writes the last value of each key, in ascending key order (which the
// memtable inserts fastest). A refused submission's rows are simply dropped with the sink.
//
//   BatchSink sink(write_batch, projections_cf);
//   ApplyContext context{&sink, &undo};   // observers Put rows through context.sink
//   ...; sink.Flush();
//
// Thread safety: one thread at a time (the writer; during a large approval, the observers'
// thread while the writer changes only the domain's state).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <string>
#include <string_view>
#include <vector>

#include "ledger/effects.h"

namespace fundledger {

class BatchSink final : public KeyValueSink {
 public:
  BatchSink(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* cf) : batch_(batch), cf_(cf) {}
  void Put(std::string_view key, std::string_view value) override;
  // Writes the last value of every key put since the last Flush, in key order, and forgets them.
  void Flush();

 private:
  // Keys and values lie back to back in one buffer: two allocations per submission, not per row.
  struct Row {
    size_t at;
    uint32_t key_size, value_size;
  };
  std::string_view Key(const Row& r) const {
    return std::string_view(bytes_.data() + r.at, r.key_size);
  }

  rocksdb::WriteBatch& batch_;
  rocksdb::ColumnFamilyHandle* cf_;
  std::string bytes_;
  std::vector<Row> rows_;
};

}  // namespace fundledger
