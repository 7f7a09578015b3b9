#include "ledger/log_source.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "crypto/mutex.h"
#include "ledger/ahead_queue.h"
#include "ledger/entry_codec.h"  // kEntryBytesMax

namespace fundledger {
namespace {

// Below this many entries a second thread costs more than it saves.
constexpr uint64_t kMinEntriesAhead = 256;

// Entries copied out of a source, each 8-byte aligned (FlatBuffers decode them in place),
// with their RFC 9162 leaf hashes: what the reading thread hands to the caller's. Its buffers
// are sized once and reused through SpareBatches: a batch is never zero-filled or grown
// entry by entry (that, and fresh pages for each batch, were ~10% of the reading thread).
class EntryBatch {
 public:
  static constexpr size_t kBytesMax = 1 << 20;
  static constexpr size_t kEntriesMax = 4096;
  static constexpr size_t kAhead = 4;  // batches the reader may be ahead: ~5 MiB
  // Room for kBytesMax and one entry more (the one that fills it), so that an entry of up to
  // kEntryBytesMax never grows the buffer.
  static constexpr size_t kWordsReserved = (kBytesMax + kEntryBytesMax) / 8 + 1;

  EntryBatch() : words_(std::make_unique_for_overwrite<uint64_t[]>(kWordsReserved)) {
    spans_.reserve(kEntriesMax);
    leaves_.reserve(kEntriesMax);
  }

  uint64_t first() const { return first_; }
  // Empties the batch for entries from `first` on; keeps its buffers.
  void Reset(uint64_t first) {
    first_ = first;
    words_used_ = 0;
    spans_.clear();
    leaves_.clear();
  }
  void Add(ByteView bytes) {  // copies the entry and hashes it
    leaves_.push_back(HashLeaf(bytes));
    const size_t offset = words_used_, words = (bytes.size() + 7) / 8;
    if (offset + words > words_capacity_) Grow(offset + words);  // only past kEntryBytesMax
    if (!bytes.empty()) std::memcpy(words_.get() + offset, bytes.data(), bytes.size());
    words_used_ += words;
    spans_.emplace_back(offset, bytes.size());
  }
  void PopBack() {
    assert(!spans_.empty());
    words_used_ = spans_.back().first;
    spans_.pop_back();
    leaves_.pop_back();
  }
  bool Full() const { return spans_.size() >= kEntriesMax || words_used_ * 8 >= kBytesMax; }
  bool empty() const { return spans_.empty(); }
  size_t size() const { return spans_.size(); }
  ByteView Entry(size_t i) const {
    return ByteView(reinterpret_cast<const uint8_t*>(words_.get() + spans_[i].first),
                    spans_[i].second);
  }
  const Hash& Leaf(size_t i) const { return leaves_[i]; }

 private:
  void Grow(size_t words_needed) {
    const size_t capacity = std::max(words_needed, 2 * words_capacity_);
    auto grown = std::make_unique_for_overwrite<uint64_t[]>(capacity);
    std::memcpy(grown.get(), words_.get(), words_used_ * 8);
    words_ = std::move(grown);
    words_capacity_ = capacity;
  }

  uint64_t first_ = 0;
  std::unique_ptr<uint64_t[]> words_;
  size_t words_capacity_ = kWordsReserved;
  size_t words_used_ = 0;
  std::vector<std::pair<size_t, size_t>> spans_;  // (word offset, byte length) per entry
  std::vector<Hash> leaves_;
};

// Batches the consumer has finished with, handed back to the reader for reuse. At most
// kAhead + 2 batches exist in a scan: those queued, the one filling and the one consumed.
class SpareBatches {
 public:
  // A batch for entries from `first` on: a spare one if any, else a new one.
  EntryBatch Take(uint64_t first) FL_EXCLUDES(mu_) {
    std::optional<EntryBatch> spare;
    {
      MutexLock lock(mu_);
      if (!spare_.empty()) {
        spare.emplace(std::move(spare_.back()));
        spare_.pop_back();
      }
    }
    EntryBatch batch = spare ? std::move(*spare) : EntryBatch();
    batch.Reset(first);
    return batch;
  }
  void Give(EntryBatch batch) FL_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (spare_.size() < kSpareMax) spare_.push_back(std::move(batch));
  }

 private:
  static constexpr size_t kSpareMax = EntryBatch::kAhead + 2;
  Mutex mu_;
  std::vector<EntryBatch> spare_ FL_GUARDED_BY(mu_);
};

// The default cursor: one ReadNode per node, for sources without a cheaper sequential read.
class LookupNodeCursor final : public NodeCursor {
 public:
  LookupNodeCursor(const LogSource& source, uint8_t level, uint64_t start)
      : source_(source), level_(level), next_(start) {}
  Result<Hash> Next() override { return source_.ReadNode(level_, next_++); }

 private:
  const LogSource& source_;
  uint8_t level_;
  uint64_t next_;
};

// The default tree cursor: a NodeCursor per level, opened again where a level's nodes are not
// asked for one after another.
class LevelNodeCursors final : public TreeCursor {
 public:
  explicit LevelNodeCursors(const LogSource& source) : source_(source) {}
  Result<Hash> Node(uint8_t level, uint64_t index) override {
    if (level >= levels_.size()) return source_.ReadNode(level, index);  // it names the node
    Level& at = levels_[level];
    if (!at.cursor || at.next != index) at.cursor = source_.OpenNodeCursor(level, index);
    at.next = index + 1;
    return at.cursor->Next();
  }

 private:
  static constexpr size_t kTreeLevels = 64;  // levels of a tree of up to 2^64 leaves
  struct Level {
    std::unique_ptr<NodeCursor> cursor;
    uint64_t next = 0;  // the index its Next returns
  };
  const LogSource& source_;
  std::array<Level, kTreeLevels> levels_;
};

}  // namespace

std::unique_ptr<NodeCursor> LogSource::OpenNodeCursor(uint8_t level, uint64_t start) const {
  return std::make_unique<LookupNodeCursor>(*this, level, start);
}

std::unique_ptr<TreeCursor> LogSource::OpenTreeCursor() const {
  return std::make_unique<LevelNodeCursors>(*this);
}

Status ScanEntriesAhead(const LogSource& source, uint64_t begin, uint64_t end, const EntryFn& fn,
                        const EntryFn& ahead, bool hashes_checked) {
  if (end <= begin || end - begin < kMinEntriesAhead) {
    return source.ScanEntries(begin, end, [&](uint64_t i, ByteView bytes) {
      Hash leaf = HashLeaf(bytes);
      if (ahead) FL_RETURN_IF_ERROR(ahead(i, bytes, leaf));
      return fn(i, bytes, leaf);
    });
  }
  AheadQueue<EntryBatch> queue(EntryBatch::kAhead);
  SpareBatches spares;
  std::thread reader([&] {
    EntryBatch batch = spares.Take(begin);
    // Unaligned: EntryBatch::Add copies each entry into its aligned words.
    auto add = [&](uint64_t index, ByteView bytes) -> Status {
      assert(index == batch.first() + batch.size());
      batch.Add(bytes);
      if (ahead) {
        Status checked = ahead(index, batch.Entry(batch.size() - 1), batch.Leaf(batch.size() - 1));
        if (!checked.ok()) {
          batch.PopBack();  // fn never sees an entry `ahead` refused
          return checked;
        }
      }
      if (batch.Full()) {
        if (!queue.Push(std::move(batch))) return Internal("scan stopped by its reader");
        batch = spares.Take(index + 1);
      }
      return Status::Ok();
    };
    Status s = hashes_checked ? source.ScanEntriesHashChecked(begin, end, /*aligned=*/false, add)
                              : source.ScanEntriesUnaligned(begin, end, add);
    // The entries read before an error still go to fn, so the caller sees where the error is.
    if (!batch.empty() && !queue.Push(std::move(batch)) && s.ok())
      s = Internal("scan stopped by its reader");
    queue.Finish(std::move(s));
  });
  Status status;
  while (std::optional<EntryBatch> batch = queue.Pop()) {
    for (size_t i = 0; i < batch->size() && status.ok(); ++i) {
      status = fn(batch->first() + i, batch->Entry(i), batch->Leaf(i));
    }
    if (!status.ok()) break;
    spares.Give(std::move(*batch));
  }
  queue.Stop();
  reader.join();
  if (!status.ok()) return status;  // the caller's error, not the reader's "stopped"
  return queue.producer_status();
}

}  // namespace fundledger
