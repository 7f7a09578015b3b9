// TreeStore: the log's Merkle tree in the `tree` column (the bytes are in log_format.h, how
// tiles fill in tree_tiles.h). It serves node reads and node cursors, keeps the incomplete
// edge tiles in memory, keeps a copy of the upper levels in memory for proofs, and stages the
// nodes each commit adds into the commit's WriteBatch.
//
// Threads and state:
//  - Readers, any thread, concurrently: ReadNode, OpenNodeCursor, OpenTreeCursor. They see the
//    tree as of the last Publish: the edge tiles for readers (edge_mu_) and the upper-node cache
//    (upper_mu_).
//    The log publishes its new size after Publish, so a reader that saw size n finds every node
//    of the tree of n leaves.
//  - The writer, one thread (the log's writer thread; before it starts, the thread opening the
//    log): LoadEdge, BeginStaging, StageNode, StageLeafRows, Publish, Discard. It alone owns
//    the working edge (with what is staged) and the staged upper nodes.
//
//   tree.BeginStaging(&batch);
//   frontier.Append(leaf, [&](uint8_t l, uint64_t i, const Hash& h) { tree.StageNode(l, i, h); });
//   tree.StageLeafRows();   // after the group's last leaf
//   ... write the batch ...;  then tree.Publish(), or tree.Discard() when the write failed
#pragma once

#include <atomic>
#include <memory>
#include <tuple>
#include <vector>

#include "crypto/mutex.h"
#include "ledger/log_source.h"
#include "ledger/tree_tiles.h"

namespace rocksdb {
class ColumnFamilyHandle;
class CompactionFilter;
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace fundledger {

class TreeStore final {
 public:
  // `cache_upper_levels`: keep levels >= kCachedLevelMin in memory once first read (writable
  // logs; a one-off reader would pay the load for a proof or two).
  TreeStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* tree, bool cache_upper_levels);
  TreeStore(const TreeStore&) = delete;
  TreeStore& operator=(const TreeStore&) = delete;

  // Writer, on open: the incomplete tiles of the stored tree of `size` leaves. Refuses a tree
  // that holds a leaf row or tile beyond `size` (the entries' tail was cut) and names it.
  Status LoadEdge(uint64_t size);

  // Readers. Node (level, index) of the tree as of the last Publish; NotFound if it is not
  // complete there.
  Result<Hash> ReadNode(uint8_t level, uint64_t index) const;
  // The nodes of one level from `start` in order: one RocksDB step per tile, then ReadNode for
  // the nodes past the tiles its iterator sees (the edge, or tiles completed since it opened).
  std::unique_ptr<NodeCursor> OpenNodeCursor(uint8_t level, uint64_t start) const;
  // Nodes of every level, as OpenNodeCursor's but with one iterator per tile level: each tile
  // is read and checked once for all its rows, when nodes are asked in the order they complete.
  // `hashes_checked`: the caller compares every node it is given with one it computed, so the
  // tiles' block checksums are not re-checked (the nodes past the tiles are read as ReadNode's).
  std::unique_ptr<TreeCursor> OpenTreeCursor(bool hashes_checked = false) const;

  // Writer. Nodes staged go into `batch` (tiles they complete, and leaf rows at StageLeafRows)
  // and stay invisible to readers until Publish.
  void BeginStaging(rocksdb::WriteBatch* batch);
  // Node (level, index) completed by the frontier, in the order MerkleFrontier::Append emits.
  void StageNode(uint8_t level, uint64_t index, const Hash& hash);
  // A leaf row for each leaf staged since the last call whose tile is not complete.
  void StageLeafRows();
  // The batch is durable: readers see what was staged.
  void Publish();
  // The batch was not written: forget what was staged.
  void Discard();

  // Levels >= this are cached: 32 bytes per 2^3 leaves, 80 MB at 10M entries.
  static constexpr uint8_t kCachedLevelMin = 3;

 private:
  Result<Hash> ReadTiledNode(uint8_t level, uint64_t index) const FL_EXCLUDES(edge_mu_);
  std::optional<Hash> CachedNode(uint8_t level, uint64_t index) const FL_EXCLUDES(upper_mu_);
  void LoadUpperNodes() const FL_REQUIRES(upper_mu_) FL_EXCLUDES(edge_mu_);
  void CacheUpperNodes(const std::vector<std::tuple<uint8_t, uint64_t, Hash>>& nodes)
      FL_EXCLUDES(upper_mu_);

  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const tree_;
  const bool cache_upper_levels_;

  // Writer thread only.
  TreeTiles edge_;                                                 // with what is staged
  std::vector<std::tuple<uint8_t, uint64_t, Hash>> staged_upper_;  // for the cache, at Publish
  rocksdb::WriteBatch* batch_ = nullptr;  // between BeginStaging and the end
  TreeTiles::Put put_;                    // into batch_

  // Readers' state, written by the writer at Publish.
  mutable SharedMutex edge_mu_;
  TreeTiles edge_readers_ FL_GUARDED_BY(edge_mu_);  // the incomplete tiles as last published
  mutable SharedMutex upper_mu_;
  mutable bool upper_loaded_ FL_GUARDED_BY(upper_mu_) = false;
  mutable std::vector<std::vector<Hash>> upper_ FL_GUARDED_BY(upper_mu_);  // [level - min][index]
};

// The `tree` column's compaction filter: drops the leaf rows whose tile is complete at
// `committed_size` (the tile holds them). Leaf rows are never deleted by a commit (deleting them
// cost more write-ahead log than they hold); they go when compaction next rewrites their table.
// Drops nothing until `active`: the log sets it once it has checked the store's format.
std::unique_ptr<rocksdb::CompactionFilter> NewTreeRowFilter(
    const std::atomic<bool>& active, const std::atomic<uint64_t>& committed_size);

}  // namespace fundledger
