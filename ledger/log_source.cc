#include "ledger/log_source.h"

#include <cassert>
#include <cstring>
#include <thread>
#include <vector>

#include "ledger/ahead_queue.h"

namespace fundledger {
namespace {

// Below this many entries a second thread costs more than it saves.
constexpr uint64_t kMinEntriesAhead = 256;
constexpr size_t kBatchBytes = 1 << 20;
constexpr size_t kBatchEntries = 4096;
constexpr size_t kBatchesAhead = 4;  // bounds memory: at most ~5 MiB read ahead

// Entries copied out of the source, each 8-byte aligned: FlatBuffers decode them in place.
struct Batch {
  uint64_t first = 0;
  std::vector<uint64_t> words;
  std::vector<std::pair<size_t, size_t>> spans;  // (word offset, byte length) per entry
  std::vector<Hash> leaves;                      // RFC 9162 leaf hash per entry

  void Add(ByteView bytes) {
    leaves.push_back(HashLeaf(bytes));
    size_t offset = words.size();
    words.resize(offset + (bytes.size() + 7) / 8);
    if (!bytes.empty()) std::memcpy(words.data() + offset, bytes.data(), bytes.size());
    spans.emplace_back(offset, bytes.size());
  }
  ByteView Entry(size_t i) const {
    return ByteView(reinterpret_cast<const uint8_t*>(words.data() + spans[i].first), spans[i].second);
  }
};

// The default cursor: one ReadNode per node, for sources without a cheaper sequential read.
class LookupNodeCursor final : public NodeCursor {
 public:
  LookupNodeCursor(const LogSource& source, uint8_t level, uint64_t start) : source_(source), level_(level), next_(start) {}
  Result<Hash> Next() override { return source_.ReadNode(level_, next_++); }

 private:
  const LogSource& source_;
  uint8_t level_;
  uint64_t next_;
};

}  // namespace

std::unique_ptr<NodeCursor> LogSource::OpenNodeCursor(uint8_t level, uint64_t start) const {
  return std::make_unique<LookupNodeCursor>(*this, level, start);
}

Status ScanEntriesAhead(const LogSource& source, uint64_t begin, uint64_t end,
                        const std::function<Status(uint64_t, ByteView, const Hash&)>& fn) {
  if (end <= begin || end - begin < kMinEntriesAhead) {
    return source.ScanEntries(begin, end, [&](uint64_t i, ByteView bytes) { return fn(i, bytes, HashLeaf(bytes)); });
  }
  AheadQueue<Batch> queue(kBatchesAhead);
  std::thread reader([&] {
    Batch batch;
    batch.first = begin;
    // Unaligned: Batch::Add copies each entry into its aligned words.
    Status s = source.ScanEntriesUnaligned(begin, end, [&](uint64_t index, ByteView bytes) -> Status {
      assert(index == batch.first + batch.spans.size());
      batch.Add(bytes);
      if (batch.spans.size() >= kBatchEntries || batch.words.size() * 8 >= kBatchBytes) {
        uint64_t next = index + 1;
        if (!queue.Push(std::move(batch))) return Internal("scan stopped by its reader");
        batch = Batch{};
        batch.first = next;
      }
      return Status::Ok();
    });
    // The entries read before an error still go to fn, so the caller sees where the error is.
    if (!batch.spans.empty() && !queue.Push(std::move(batch)) && s.ok()) s = Internal("scan stopped by its reader");
    queue.Finish(std::move(s));
  });
  Status status;
  while (std::optional<Batch> batch = queue.Pop()) {
    for (size_t i = 0; i < batch->spans.size() && status.ok(); ++i) {
      status = fn(batch->first + i, batch->Entry(i), batch->leaves[i]);
    }
    if (!status.ok()) break;
  }
  queue.Stop();
  reader.join();
  if (!status.ok()) return status;  // the caller's error, not the reader's "stopped"
  return queue.producer_status();
}

}  // namespace fundledger
