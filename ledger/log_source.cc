#include "ledger/log_source.h"

#include <array>
#include <cassert>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "ledger/ahead_queue.h"

namespace fundledger {
namespace {

// Below this many entries a second thread costs more than it saves.
constexpr uint64_t kMinEntriesAhead = 256;

// Entries copied out of a source, each 8-byte aligned (FlatBuffers decode them in place),
// with their RFC 9162 leaf hashes: what the reading thread hands to the caller's.
struct EntryBatch {
  static constexpr size_t kBytesMax = 1 << 20;
  static constexpr size_t kEntriesMax = 4096;
  static constexpr size_t kAhead = 4;  // batches the reader may be ahead: ~5 MiB

  uint64_t first = 0;
  std::vector<uint64_t> words;
  std::vector<std::pair<size_t, size_t>> spans;  // (word offset, byte length) per entry
  std::vector<Hash> leaves;

  void Add(ByteView bytes) {  // copies the entry and hashes it
    leaves.push_back(HashLeaf(bytes));
    size_t offset = words.size();
    words.resize(offset + (bytes.size() + 7) / 8);
    if (!bytes.empty()) std::memcpy(words.data() + offset, bytes.data(), bytes.size());
    spans.emplace_back(offset, bytes.size());
  }
  void PopBack() {
    assert(!spans.empty());
    words.resize(spans.back().first);
    spans.pop_back();
    leaves.pop_back();
  }
  bool Full() const { return spans.size() >= kEntriesMax || words.size() * 8 >= kBytesMax; }
  size_t size() const { return spans.size(); }
  ByteView Entry(size_t i) const {
    return ByteView(reinterpret_cast<const uint8_t*>(words.data() + spans[i].first),
                    spans[i].second);
  }
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
  std::thread reader([&] {
    EntryBatch batch;
    batch.first = begin;
    // Unaligned: EntryBatch::Add copies each entry into its aligned words.
    auto add = [&](uint64_t index, ByteView bytes) -> Status {
      assert(index == batch.first + batch.spans.size());
      batch.Add(bytes);
      if (ahead) {
        Status checked = ahead(index, batch.Entry(batch.size() - 1), batch.leaves.back());
        if (!checked.ok()) {
          batch.PopBack();  // fn never sees an entry `ahead` refused
          return checked;
        }
      }
      if (batch.Full()) {
        uint64_t next = index + 1;
        if (!queue.Push(std::move(batch))) return Internal("scan stopped by its reader");
        batch = EntryBatch{};
        batch.first = next;
      }
      return Status::Ok();
    };
    Status s = hashes_checked ? source.ScanEntriesHashChecked(begin, end, /*aligned=*/false, add)
                              : source.ScanEntriesUnaligned(begin, end, add);
    // The entries read before an error still go to fn, so the caller sees where the error is.
    if (!batch.spans.empty() && !queue.Push(std::move(batch)) && s.ok())
      s = Internal("scan stopped by its reader");
    queue.Finish(std::move(s));
  });
  Status status;
  while (std::optional<EntryBatch> batch = queue.Pop()) {
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
