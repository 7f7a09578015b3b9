#include "ledger/tree_store.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cassert>
#include <cstring>
#include <string>

#include "ledger/rocksdb_bridge.h"

namespace fundledger {
namespace {

Status MissingNode(uint8_t level, uint64_t index) {
  return NotFound("tree node at level " + std::to_string(level) + " index " +
                  std::to_string(index) + " is missing");
}

std::string TileName(uint8_t tile_level, uint64_t tile_index) {
  return "tree tile (" + std::to_string(tile_level) + ", " + std::to_string(tile_index) + ")";
}

class TreeRowFilter final : public rocksdb::CompactionFilter {
 public:
  TreeRowFilter(const std::atomic<bool>& active, const std::atomic<uint64_t>& size)
      : active_(active), size_(size) {}
  bool Filter(int, const rocksdb::Slice& key, const rocksdb::Slice&, std::string*,
              bool*) const override {
    if (key.size() != kLeafRowKeyBytes || key[0] != 0) return false;  // a tile
    if (!active_.load(std::memory_order_acquire)) return false;
    const uint64_t index = ReadU64(std::string_view(key.data() + 1, kU64Bytes));
    // A tile complete at any committed size stays complete: the size only grows.
    return index < size_.load(std::memory_order_acquire) / kTileWidth * kTileWidth;
  }
  const char* Name() const override { return "fundledger.TreeRowFilter"; }

 private:
  const std::atomic<bool>& active_;
  const std::atomic<uint64_t>& size_;
};

rocksdb::ReadOptions CursorReadOptions(const rocksdb::Slice* upper_bound) {
  rocksdb::ReadOptions ro;
  // Through the block cache: the cursors of a tile level's eight rows read the same tiles at
  // about the same time, and the first read serves the other seven.
  ro.fill_cache = true;
  // RocksDB's own readahead grows with sequential reads: a chunk's upper levels hold few
  // nodes, and a fixed 1 MiB per cursor cost more in copies than the nodes themselves.
  ro.readahead_size = 0;
  ro.iterate_upper_bound = upper_bound;
  QuietRocksDbCounters();
  return ro;
}

// One level's nodes: from its complete tiles (one iterator step per tile, each node copied out
// of the tile in place), then, past the tiles the iterator sees, one ReadNode each.
class TileNodeCursor final : public NodeCursor {
 public:
  TileNodeCursor(const TreeStore& store, rocksdb::DB* db, rocksdb::ColumnFamilyHandle* tree,
                 uint8_t level, uint64_t start)
      : store_(store),
        level_(level),
        next_(start),
        place_(PlaceOfNode(level, start)),
        upper_(TileKey(static_cast<uint8_t>(place_.tile_level + 1), 0)),
        upper_slice_(upper_) {
    it_.reset(db->NewIterator(CursorReadOptions(&upper_slice_), tree));
    it_->Seek(TileKey(place_.tile_level, place_.tile_index));
  }
  // Called once per node of a full verification: no allocation unless something is wrong.
  Result<Hash> Next() override {
    if (!it_) return store_.ReadNode(level_, next_++);
    if (!tile_read_) {
      // TileKey fits std::string's inline buffer: no allocation.
      if (!it_->Valid() || std::string_view(it_->key().data(), it_->key().size()) !=
                               TileKey(place_.tile_level, place_.tile_index)) {
        if (!it_->Valid() && !it_->status().ok())
          return FromRocks(it_->status(), "cannot read the tree");
        it_.reset();
        return store_.ReadNode(level_, next_++);
      }
      Result<TileView> view =
          TileView::Parse(ToBytes(it_->value()), TileName(place_.tile_level, place_.tile_index));
      if (!view.ok()) return view.status();
      tile_ = *view;
      tile_read_ = true;
    }
    Hash h;
    std::memcpy(h.data(), tile_.Node(place_.row, place_.position), kHashBytes);
    ++next_;
    if (++place_.position == kTileWidth >> place_.row) {  // the row ends: on to the next tile
      place_.position = 0;
      ++place_.tile_index;
      tile_read_ = false;
      it_->Next();
    }
    return h;
  }

 private:
  const TreeStore& store_;
  uint8_t level_;
  uint64_t next_;
  TilePlace place_;
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;  // null once past the tiles it sees
  TileView tile_;                          // points into the iterator's current value
  bool tile_read_ = false;
};

}  // namespace

std::unique_ptr<rocksdb::CompactionFilter> NewTreeRowFilter(
    const std::atomic<bool>& active, const std::atomic<uint64_t>& committed_size) {
  return std::make_unique<TreeRowFilter>(active, committed_size);
}

TreeStore::TreeStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* tree, bool cache_upper_levels)
    : db_(db),
      tree_(tree),
      cache_upper_levels_(cache_upper_levels),
      put_([this](std::string key, std::string value) {
        assert(batch_ != nullptr);
        batch_->Put(tree_, key, value);
      }) {}

Status TreeStore::LoadEdge(uint64_t size) {
  auto read = [&](std::string_view key) -> Result<std::string> {
    std::string value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), tree_, rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return NotFound("it is missing");
    FL_RETURN_IF_ERROR(FromRocks(s, "cannot read it"));
    return value;
  };
  const std::string cut = " (recorded size " + std::to_string(size) + ": the tail was cut)";
  // Nothing beyond the size: no leaf row, no tile past the complete ones.
  if (read(LeafRowKey(size)).ok()) {
    return Corruption("entry " + std::to_string(size) + " is missing but the tree holds its leaf" +
                      cut);
  }
  for (uint8_t tile_level = 0; tile_level * kTileHeight < 64u; ++tile_level) {
    const uint64_t complete = (size >> (tile_level * kTileHeight)) / kTileWidth;
    if (read(TileKey(tile_level, complete)).ok()) {
      return Corruption("entry " + std::to_string(size) + " is missing but " +
                        TileName(tile_level, complete) + " over it is stored" + cut);
    }
    if (complete == 0) break;
  }
  FL_ASSIGN_OR_RETURN(TreeTiles edge, TreeTiles::Derive(size, read));
  edge_ = edge;
  WriterLock lock(edge_mu_);
  edge_readers_ = std::move(edge);
  return Status::Ok();
}

Result<Hash> TreeStore::ReadNode(uint8_t level, uint64_t index) const {
  if (std::optional<Hash> cached = CachedNode(level, index)) return *cached;
  if (level >= 64) return MissingNode(level, index);
  return ReadTiledNode(level, index);
}

Result<Hash> TreeStore::ReadTiledNode(uint8_t level, uint64_t index) const {
  bool in_edge = false;
  {
    ReaderLock lock(edge_mu_);
    std::optional<Hash> h = edge_readers_.Node(level, index, &in_edge);
    if (h) return *h;
  }
  if (in_edge) return MissingNode(level, index);  // not complete yet
  TilePlace p = PlaceOfNode(level, index);
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), tree_, TileKey(p.tile_level, p.tile_index), &value);
  if (s.IsNotFound()) return MissingNode(level, index);
  FL_RETURN_IF_ERROR(FromRocks(s, "cannot read a tree tile"));
  FL_ASSIGN_OR_RETURN(TileView tile,
                      TileView::Parse(ToBytes(value), TileName(p.tile_level, p.tile_index)));
  Hash h;
  std::memcpy(h.data(), tile.Node(p.row, p.position), kHashBytes);
  return h;
}

std::unique_ptr<NodeCursor> TreeStore::OpenNodeCursor(uint8_t level, uint64_t start) const {
  return std::make_unique<TileNodeCursor>(*this, db_, tree_, level, start);
}

void TreeStore::BeginStaging(rocksdb::WriteBatch* batch) {
  assert(batch_ == nullptr && staged_upper_.empty());
  batch_ = batch;
}

void TreeStore::StageNode(uint8_t level, uint64_t index, const Hash& hash) {
  edge_.Add(level, index, hash, put_);
  if (cache_upper_levels_ && level >= kCachedLevelMin)
    staged_upper_.emplace_back(level, index, hash);
}

void TreeStore::StageLeafRows() { edge_.Flush(put_); }

void TreeStore::Publish() {
  {
    WriterLock lock(edge_mu_);
    edge_readers_.CatchUp(edge_);
  }
  CacheUpperNodes(staged_upper_);
  staged_upper_.clear();
  batch_ = nullptr;
}

void TreeStore::Discard() {
  {
    ReaderLock lock(edge_mu_);
    edge_ = edge_readers_;  // as last published
  }
  staged_upper_.clear();
  batch_ = nullptr;
}

std::optional<Hash> TreeStore::CachedNode(uint8_t level, uint64_t index) const {
  if (!cache_upper_levels_ || level < kCachedLevelMin) return std::nullopt;
  const size_t row = level - kCachedLevelMin;
  {
    ReaderLock lock(upper_mu_);
    if (upper_loaded_) {
      if (row < upper_.size() && index < upper_[row].size()) return upper_[row][index];
      return std::nullopt;
    }
  }
  WriterLock lock(upper_mu_);
  if (!upper_loaded_) LoadUpperNodes();
  if (row < upper_.size() && index < upper_[row].size()) return upper_[row][index];
  return std::nullopt;
}

void TreeStore::LoadUpperNodes() const {
  upper_.clear();
  auto keep = [&](uint8_t level, uint64_t index, const uint8_t* hash) FL_REQUIRES(upper_mu_) {
    if (level < kCachedLevelMin) return;
    size_t row = level - kCachedLevelMin;
    if (row >= upper_.size()) upper_.resize(row + 1);
    if (index != upper_[row].size()) return;  // only a gapless prefix is cached
    Hash h;
    std::memcpy(h.data(), hash, kHashBytes);
    upper_[row].push_back(h);
  };
  // The edge before the tiles: a tile completed in between is then in the tiles read, and
  // what commits add after the edge was copied reaches the cache through CacheUpperNodes.
  TreeTiles edge;
  {
    ReaderLock lock(edge_mu_);
    edge = edge_readers_;
  }
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, tree_));
  // Tiles by tile level, then index: each level's nodes in index order.
  for (it->Seek(TileKey(0, 0)); it->Valid(); it->Next()) {
    std::optional<std::pair<uint8_t, uint64_t>> tile =
        ParseTileKey(std::string_view(it->key().data(), it->key().size()));
    if (!tile) continue;
    Result<TileView> view = TileView::Parse(ToBytes(it->value()), "tree tile");
    if (!view.ok()) continue;  // ReadNode reports it
    for (uint8_t r = 0; r < kTileHeight; ++r) {
      uint64_t first = tile->second * (kTileWidth >> r);
      for (uint32_t p = 0; p < (kTileWidth >> r); ++p)
        keep(static_cast<uint8_t>(tile->first * kTileHeight + r), first + p, view->Node(r, p));
    }
  }
  edge.ForEachNode([&](uint8_t level, uint64_t index, const Hash& h)
                       FL_REQUIRES(upper_mu_) { keep(level, index, h.data()); });
  // On a read error the cache holds what was read; everything else is read from the store.
  upper_loaded_ = true;
}

void TreeStore::CacheUpperNodes(const std::vector<std::tuple<uint8_t, uint64_t, Hash>>& nodes) {
  if (nodes.empty()) return;
  WriterLock lock(upper_mu_);
  if (!upper_loaded_) return;  // the first read will load them from the store
  for (const auto& [level, index, hash] : nodes) {
    size_t row = level - kCachedLevelMin;
    if (row >= upper_.size()) upper_.resize(row + 1);
    if (index == upper_[row].size()) upper_[row].push_back(hash);  // nodes complete in index order
  }
}

}  // namespace fundledger
