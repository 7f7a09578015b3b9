#include "ledger/tree_store.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
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

rocksdb::ReadOptions CursorReadOptions(const rocksdb::Slice* upper_bound, bool hashes_checked) {
  rocksdb::ReadOptions ro;
  // A caller that compares every node with its own hash of the entries needs no checksum of the
  // tiles' bytes: a changed byte is a node mismatch it names (2% of a verification's CPU).
  ro.verify_checksums = !hashes_checked;
  // Not through the block cache: a cursor reads each tile once, and a walk's tiles would only
  // evict what proofs keep there.
  ro.fill_cache = false;
  // RocksDB's own readahead grows with sequential reads: a chunk's upper levels hold few
  // nodes, and a fixed 1 MiB per cursor cost more in copies than the nodes themselves.
  ro.readahead_size = 0;
  ro.iterate_upper_bound = upper_bound;
  QuietRocksDbCounters();
  return ro;
}

// The complete tiles of one tile level as stored when it first reads, through one iterator:
// each tile is read and checked once, however many of its rows are asked for. Reading tiles
// in index order costs one iterator step per tile.
class TileStream {
 public:
  TileStream(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* tree, uint8_t tile_level,
             bool hashes_checked)
      : db_(db),
        tree_(tree),
        tile_level_(tile_level),
        hashes_checked_(hashes_checked),
        upper_(TileKey(static_cast<uint8_t>(tile_level + 1), 0)),
        upper_slice_(upper_) {}
  TileStream(const TileStream&) = delete;  // the iterator's bound points into upper_
  TileStream& operator=(const TileStream&) = delete;

  // Tile `index`, or null when the store did not hold it complete when the stream first read
  // (an edge tile, or a missing one: TreeStore::ReadNode tells which).
  // Called once per node of a full verification: no allocation unless a tile is read.
  Result<const TileView*> Tile(uint64_t index) {
    if (loaded_ && index == loaded_index_) return &tile_;
    if (index >= absent_from_) return nullptr;
    const std::string key = TileKey(tile_level_, index);  // fits std::string's inline buffer
    if (!it_) {
      it_.reset(db_->NewIterator(CursorReadOptions(&upper_slice_, hashes_checked_), tree_));
      it_->Seek(key);
    } else if (loaded_ && index == loaded_index_ + 1) {
      it_->Next();
    } else if (!it_->Valid() || KeyOf(*it_) != key) {
      it_->Seek(key);
    }
    loaded_ = false;
    if (!it_->Valid()) {
      FL_RETURN_IF_ERROR(FromRocks(it_->status(), "cannot read the tree"));
      absent_from_ = index;  // none from here on: the iterator is past the level's last tile
      return nullptr;
    }
    if (KeyOf(*it_) != key) return nullptr;  // not stored: the iterator stands on a later tile
    FL_ASSIGN_OR_RETURN(tile_,
                        TileView::Parse(ToBytes(it_->value()), TileName(tile_level_, index)));
    loaded_ = true;
    loaded_index_ = index;
    return &tile_;
  }

 private:
  static std::string_view KeyOf(const rocksdb::Iterator& it) {
    return std::string_view(it.key().data(), it.key().size());
  }

  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const tree_;
  const uint8_t tile_level_;
  const bool hashes_checked_;
  const std::string upper_;
  const rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;  // opened at the first read
  TileView tile_;                          // points into the iterator's current value
  bool loaded_ = false;                    // tile_ is tile loaded_index_
  uint64_t loaded_index_ = 0;
  uint64_t absent_from_ = UINT64_MAX;  // tiles from this index on are not in the iterator's view
};

// Every level's nodes from the tiles that hold them (one TileStream per tile level), and
// through ReadNode the nodes past the tiles a stream sees (the edge, or tiles completed since).
class TileTreeCursor final : public TreeCursor {
 public:
  TileTreeCursor(const TreeStore& store, rocksdb::DB* db, rocksdb::ColumnFamilyHandle* tree,
                 bool hashes_checked)
      : store_(store), db_(db), tree_(tree), hashes_checked_(hashes_checked) {}
  Result<Hash> Node(uint8_t level, uint64_t index) override {
    if (level >= kTileHeight * streams_.size()) return store_.ReadNode(level, index);
    const TilePlace p = PlaceOfNode(level, index);
    std::unique_ptr<TileStream>& stream = streams_[p.tile_level];
    if (!stream) stream = std::make_unique<TileStream>(db_, tree_, p.tile_level, hashes_checked_);
    FL_ASSIGN_OR_RETURN(const TileView* tile, stream->Tile(p.tile_index));
    if (tile == nullptr) return store_.ReadNode(level, index);
    Hash h;
    std::memcpy(h.data(), tile->Node(p.row, p.position), kHashBytes);
    return h;
  }

 private:
  static constexpr size_t kTileLevels = 64 / kTileHeight;  // tree levels 0..63

  const TreeStore& store_;
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const tree_;
  const bool hashes_checked_;
  std::array<std::unique_ptr<TileStream>, kTileLevels> streams_;
};

// One level's nodes in order, from a tree cursor.
class LevelCursor final : public NodeCursor {
 public:
  LevelCursor(std::unique_ptr<TreeCursor> tree, uint8_t level, uint64_t start)
      : tree_(std::move(tree)), level_(level), next_(start) {}
  Result<Hash> Next() override { return tree_->Node(level_, next_++); }

 private:
  std::unique_ptr<TreeCursor> tree_;
  uint8_t level_;
  uint64_t next_;
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
  return std::make_unique<LevelCursor>(OpenTreeCursor(), level, start);
}

std::unique_ptr<TreeCursor> TreeStore::OpenTreeCursor(bool hashes_checked) const {
  return std::make_unique<TileTreeCursor>(*this, db_, tree_, hashes_checked);
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
