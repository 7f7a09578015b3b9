// A log's entries held in memory, as a LogSource: for tests that stage entries on a Domain
// without a store and read them back as a log (disclosures, folds). It has no stored tree, and
// one checkpoint: a placeholder note at its current size, so reports can name a size.
#pragma once

#include <string>
#include <vector>

#include "ledger/log_source.h"

namespace fundledger::testing {

class MemoryLogSource final : public LogSource {
 public:
  // Entry 0 is a genesis of origin `origin` (with a key of zeros: nothing here is signed).
  explicit MemoryLogSource(std::string origin = "memory.test/log");

  // Appends an entry's stored bytes; returns its index.
  uint64_t Append(Bytes entry);

  Result<Hash> ReadNode(uint8_t, uint64_t) const override;
  uint64_t size() const override { return entries_.size(); }
  Status ScanEntries(uint64_t begin, uint64_t end,
                     const std::function<Status(uint64_t, ByteView)>& fn) const override;
  Status ScanCheckpoints(
      const std::function<Status(uint64_t, std::string_view)>& fn) const override;

 private:
  std::vector<Bytes> entries_;  // heap blocks: 8-byte aligned, as FlatBuffers needs
};

}  // namespace fundledger::testing
