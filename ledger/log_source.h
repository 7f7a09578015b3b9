// LogSource: read access to a log's entries, stored tree nodes and signed checkpoints,
// whatever holds them: the RocksDB store (Log) or an exported audit bundle. Everything that
// reads a log from the start (verification, replay, export) is written against this.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "crypto/merkle.h"

namespace fundledger {

// Reads the stored nodes of one tree level in index order (cheaper than one lookup each).
class NodeCursor {
 public:
  virtual ~NodeCursor() = default;
  // The next stored node; NotFound past the end.
  virtual Result<Hash> Next() = 0;
};

// Reads stored nodes of any levels, cheapest in the order a tree's nodes complete as leaves are
// appended (MerkleFrontier's order: each level's nodes in index order), which a verification
// compares them in. A source that keeps several levels in one value (a tile's eight rows) then
// reads and checks each value once for all of them. Any other order is answered too.
class TreeCursor {
 public:
  virtual ~TreeCursor() = default;
  // Stored node (level, index); NotFound when the tree does not hold it.
  virtual Result<Hash> Node(uint8_t level, uint64_t index) = 0;
};

class LogSource : public NodeReader {
 public:
  // A cursor over level `level` from node `start`. The default reads node by node.
  virtual std::unique_ptr<NodeCursor> OpenNodeCursor(uint8_t level, uint64_t start) const;
  // A cursor over every level. The default keeps an OpenNodeCursor per level.
  virtual std::unique_ptr<TreeCursor> OpenTreeCursor() const;
  // As OpenTreeCursor, for a caller that compares every node it is given with one it computed
  // from the entries (verification): the source may skip its own checksums of the nodes, since
  // a changed byte is then a named node mismatch. The default is OpenTreeCursor.
  virtual std::unique_ptr<TreeCursor> OpenTreeCursorHashChecked() const { return OpenTreeCursor(); }
  virtual uint64_t size() const = 0;
  // Calls fn(index, bytes) for entries in [begin, end) in order; stops at the first error.
  virtual Status ScanEntries(uint64_t begin, uint64_t end,
                             const std::function<Status(uint64_t, ByteView)>& fn) const = 0;
  // As ScanEntries, but `bytes` need not be 8-byte aligned (FlatBuffers decode in place only
  // from aligned bytes): for callers that copy them anyway. The default is ScanEntries.
  virtual Status ScanEntriesUnaligned(uint64_t begin, uint64_t end,
                                      const std::function<Status(uint64_t, ByteView)>& fn) const {
    return ScanEntries(begin, end, fn);
  }
  // As ScanEntries (`aligned`) or ScanEntriesUnaligned, for a caller that compares every entry's
  // leaf hash with the stored tree (verification): the source may skip its own checksums of
  // these bytes, since a changed byte is then a named leaf-hash mismatch.
  virtual Status ScanEntriesHashChecked(uint64_t begin, uint64_t end, bool aligned,
                                        const std::function<Status(uint64_t, ByteView)>& fn) const {
    return aligned ? ScanEntries(begin, end, fn) : ScanEntriesUnaligned(begin, end, fn);
  }
  // Calls fn(size, note) for every stored signed checkpoint, smallest size first.
  virtual Status ScanCheckpoints(
      const std::function<Status(uint64_t, std::string_view)>& fn) const = 0;
};

// Like source.ScanEntries(begin, end, fn), but a second thread reads the next entries and
// computes their leaf hashes while fn checks the current ones, so reading the store, hashing
// entries and checking them overlap on two cores. fn(index, bytes, leaf hash) runs on
// the calling thread, in index order; the first error from either side stops both. The source
// must allow a concurrent ScanEntries beside its other const reads (Log and BundleSource do).
//
// `ahead`, if given, runs on the reading thread for each entry (aligned, with its leaf hash)
// before fn sees it: an entry it refuses never reaches fn, and its error is returned after fn
// has seen every entry before that one (unless fn fails first). Verification runs there while
// replay applies the entries already verified.
//
// `hashes_checked`: the caller compares every leaf hash with the stored tree, so the reading
// thread uses ScanEntriesHashChecked.
using EntryFn = std::function<Status(uint64_t, ByteView, const Hash&)>;
Status ScanEntriesAhead(const LogSource& source, uint64_t begin, uint64_t end, const EntryFn& fn,
                        const EntryFn& ahead = nullptr, bool hashes_checked = false);

}  // namespace fundledger
