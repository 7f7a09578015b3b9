#include "tests/memory_log_source.h"

#include "ledger/entry_codec.h"

namespace fundledger::testing {

MemoryLogSource::MemoryLogSource(std::string origin) {
  NewEntry genesis{"system", fb::Role::system, fb::EventType::Genesis,
                   EncodeGenesis(origin, Ed25519PublicKey{}, 0)};
  entries_.push_back(EncodeEntry(genesis, "", 0, 0, Hash{}));
}

uint64_t MemoryLogSource::Append(Bytes entry) {
  entries_.push_back(std::move(entry));
  return entries_.size() - 1;
}

Result<Hash> MemoryLogSource::ReadNode(uint8_t, uint64_t) const {
  return NotFound("a log in memory stores no tree");
}

Status MemoryLogSource::ScanEntries(uint64_t begin, uint64_t end,
                                    const std::function<Status(uint64_t, ByteView)>& fn) const {
  for (uint64_t i = begin; i < std::min<uint64_t>(end, entries_.size()); ++i)
    FL_RETURN_IF_ERROR(fn(i, ByteView(entries_[i].data(), entries_[i].size())));
  return Status::Ok();
}

Status MemoryLogSource::ScanCheckpoints(
    const std::function<Status(uint64_t, std::string_view)>& fn) const {
  return fn(entries_.size(), "memory log checkpoint");
}

}  // namespace fundledger::testing
