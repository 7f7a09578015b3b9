#include "ledger/tree_tiles.h"

#include <cassert>
#include <cstring>

namespace fundledger {

Result<TileView> TileView::Parse(ByteView value, const std::string& what) {
  if (value.size() != kTileBytes) {
    return Corruption(what + " holds " + std::to_string(value.size()) + " bytes, a tile holds " +
                      std::to_string(kTileBytes));
  }
  uint32_t width = uint32_t{value[0]} << 8 | value[1];
  if (width != kTileWidth)
    return Corruption(what + " names a width of " + std::to_string(width) + " nodes, not 256");
  TileView v;
  v.value_ = value;
  return v;
}

Hash TileView::Root() const {
  Hash left, right;
  std::memcpy(left.data(), Node(kTileHeight - 1, 0), kHashBytes);
  std::memcpy(right.data(), Node(kTileHeight - 1, 1), kHashBytes);
  return HashChildren(left, right);
}

void TreeTiles::Add(uint8_t level, uint64_t index, const Hash& hash, const Put& put) {
  TilePlace p = PlaceOfNode(level, index);
  if (tiles_.size() <= p.tile_level) {
    assert(p.tile_index == 0 && p.position == 0 &&
           tiles_.size() == p.tile_level);  // a tile level's first node
    tiles_.resize(p.tile_level + 1);
  }
  Tile& t = tiles_[p.tile_level];
  if (t.nodes.empty()) t.nodes.resize(kTileNodesMax);
  assert(p.tile_index == t.index && p.position == t.rows[p.row]);   // rows complete in order
  assert(p.row == 0 || t.rows[p.row - 1] >= 2 * (p.position + 1));  // its children first
  t.nodes[RowStart(p.row) + p.position] = hash;
  ++t.rows[p.row];
  if (p.row + 1u < kTileHeight || t.rows[p.row] < 2) return;
  // Row 7's second node completes the tile: store it, and start the next.
  put(TileKey(p.tile_level, t.index), Encode(t));
  ++t.index;
  t.rows.fill(0);
  t.leaves_flushed = 0;  // its leaf rows stay until compaction drops them
}

void TreeTiles::Flush(const Put& put) {
  if (tiles_.empty()) return;
  Tile& t = tiles_[0];
  for (uint32_t q = t.leaves_flushed; q < t.rows[0]; ++q) {
    put(LeafRowKey(t.index * kTileWidth + q),
        std::string(reinterpret_cast<const char*>(t.nodes[q].data()), kHashBytes));
  }
  t.leaves_flushed = t.rows[0];
}

std::optional<Hash> TreeTiles::Node(uint8_t level, uint64_t index, bool* in_edge) const {
  TilePlace p = PlaceOfNode(level, index);
  const uint64_t complete = CompleteTiles(p.tile_level);
  *in_edge = p.tile_index >= complete;
  if (p.tile_index != complete || p.tile_level >= tiles_.size()) return std::nullopt;
  const Tile& t = tiles_[p.tile_level];
  if (p.position >= t.rows[p.row]) return std::nullopt;
  return t.nodes[RowStart(p.row) + p.position];
}

uint64_t TreeTiles::CompleteTiles(uint8_t tile_level) const {
  return tile_level < tiles_.size() ? tiles_[tile_level].index : 0;
}

void TreeTiles::ForEachNode(const std::function<void(uint8_t, uint64_t, const Hash&)>& fn) const {
  for (size_t tile_level = 0; tile_level < tiles_.size(); ++tile_level) {
    const Tile& t = tiles_[tile_level];
    for (uint8_t r = 0; r < kTileHeight; ++r) {
      for (uint32_t q = 0; q < t.rows[r]; ++q) {
        fn(static_cast<uint8_t>(tile_level * kTileHeight + r), t.index * (kTileWidth >> r) + q,
           t.nodes[RowStart(r) + q]);
      }
    }
  }
}

void TreeTiles::CatchUp(const TreeTiles& newer) {
  if (tiles_.size() < newer.tiles_.size()) tiles_.resize(newer.tiles_.size());
  for (size_t level = 0; level < newer.tiles_.size(); ++level) {
    Tile& mine = tiles_[level];
    const Tile& theirs = newer.tiles_[level];
    if (mine.nodes.empty()) mine.nodes.resize(kTileNodesMax);
    const bool same_tile = mine.index == theirs.index;
    mine.index = theirs.index;
    for (uint8_t r = 0; r < kTileHeight; ++r) {
      const uint32_t from = same_tile ? mine.rows[r] : 0;
      assert(theirs.rows[r] >= from);
      if (theirs.rows[r] > from) {
        std::memcpy(mine.nodes[RowStart(r) + from].data(), theirs.nodes[RowStart(r) + from].data(),
                    size_t{theirs.rows[r] - from} * kHashBytes);
      }
      mine.rows[r] = theirs.rows[r];
    }
    mine.leaves_flushed = theirs.leaves_flushed;
  }
}

std::string TreeTiles::Encode(const Tile& t) {
  std::string value(kTileBytes, '\0');
  value[0] = static_cast<char>(kTileWidth >> 8);
  value[1] = static_cast<char>(kTileWidth & 0xff);
  for (uint8_t r = 0; r < kTileHeight; ++r) {
    assert(t.rows[r] == kTileWidth >> r);
    std::memcpy(value.data() + TileRowOffset(r), t.nodes[RowStart(r)].data(),
                size_t{t.rows[r]} * kHashBytes);
  }
  return value;
}

Result<TreeTiles> TreeTiles::Derive(uint64_t size, const Read& read) {
  TreeTiles tiles;
  for (uint8_t tile_level = 0;
       tile_level * kTileHeight < 64u && (size >> (tile_level * kTileHeight)) > 0; ++tile_level) {
    const uint64_t bottom =
        size >> (tile_level * kTileHeight);  // complete nodes of the tile level's bottom row
    Tile& t = tiles.tiles_.emplace_back();
    t.index = bottom / kTileWidth;
    t.nodes.resize(kTileNodesMax);
    const uint32_t width = static_cast<uint32_t>(bottom % kTileWidth);
    for (uint32_t q = 0; q < width; ++q) {
      const uint64_t below = t.index * kTileWidth + q;  // a leaf, or a tile of the level below
      std::string what = tile_level == 0 ? "leaf row " + std::to_string(below)
                                         : "tree tile (" + std::to_string(tile_level - 1) + ", " +
                                               std::to_string(below) + ")";
      Result<std::string> value =
          read(tile_level == 0 ? LeafRowKey(below)
                               : TileKey(static_cast<uint8_t>(tile_level - 1), below));
      if (!value.ok()) return Status(value.status().code(), what + ": " + value.status().message());
      if (tile_level == 0) {
        if (value->size() != kHashBytes) return Corruption(what + " is not 32 bytes");
        std::memcpy(t.nodes[q].data(), value->data(), kHashBytes);
      } else {
        FL_ASSIGN_OR_RETURN(TileView view, TileView::Parse(AsBytes(*value), what));
        t.nodes[q] = view.Root();
      }
    }
    t.rows[0] = width;
    t.leaves_flushed = tile_level == 0 ? width : 0;
    for (uint8_t r = 1; r < kTileHeight; ++r) {
      t.rows[r] = width >> r;
      for (uint32_t q = 0; q < t.rows[r]; ++q) {
        t.nodes[RowStart(r) + q] =
            HashChildren(t.nodes[RowStart(r - 1) + 2 * q], t.nodes[RowStart(r - 1) + 2 * q + 1]);
      }
    }
  }
  return tiles;
}

}  // namespace fundledger
