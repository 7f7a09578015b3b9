#include "ledger/tree_tiles.h"

#include <cassert>
#include <cstring>

namespace fundledger {

TilePlace PlaceOfNode(uint8_t level, uint64_t index) {
  TilePlace p;
  p.tile_level = static_cast<uint8_t>(level / kTileHeight);
  p.row = static_cast<uint8_t>(level % kTileHeight);
  const uint8_t row_log2 = static_cast<uint8_t>(kTileHeight - p.row);  // nodes per row: 256 >> row
  p.tile_index = index >> row_log2;
  p.position = static_cast<uint32_t>(index & ((uint64_t{1} << row_log2) - 1));
  return p;
}

std::string TileKey(uint8_t tile_level, uint64_t tile_index) {
  std::string key(10, '\0');
  key[0] = kTileKeyPrefix;
  key[1] = static_cast<char>(tile_level);
  PutBigEndian64(tile_index, reinterpret_cast<uint8_t*>(key.data() + 2));
  return key;
}

std::optional<std::pair<uint8_t, uint64_t>> ParseTileKey(std::string_view key) {
  if (key.size() != 10 || key[0] != kTileKeyPrefix) return std::nullopt;
  return std::make_pair(static_cast<uint8_t>(key[1]), GetBigEndian64(reinterpret_cast<const uint8_t*>(key.data() + 2)));
}

size_t TileRowOffset(uint32_t width, uint8_t row) {
  size_t nodes = 0;
  for (uint8_t r = 0; r < row; ++r) nodes += width >> r;
  return 2 + nodes * kHashBytes;
}

size_t TileBytes(uint32_t width) { return TileRowOffset(width, kTileHeight); }

Result<TileView> TileView::Parse(ByteView value, const std::string& what) {
  if (value.size() < 2) return Corruption(what + " is shorter than its 2-byte width");
  uint32_t width = uint32_t{value[0]} << 8 | value[1];
  if (width == 0 || width > kTileWidth) {
    return Corruption(what + " names a width of " + std::to_string(width) + " nodes (1 to 256 allowed)");
  }
  if (value.size() != TileBytes(width)) {
    return Corruption(what + " holds " + std::to_string(value.size()) + " bytes, a tile " + std::to_string(width) +
                      " nodes wide holds " + std::to_string(TileBytes(width)));
  }
  TileView v;
  v.value_ = value;
  v.width_ = width;
  return v;
}

void TreeTiles::Add(uint8_t level, uint64_t index, const Hash& hash, const Put& full) {
  TilePlace p = PlaceOfNode(level, index);
  if (tiles_.size() <= p.tile_level) tiles_.resize(p.tile_level + 1);
  Tile& t = tiles_[p.tile_level];
  if (!t.used || t.index != p.tile_index) {
    // The first node of the next tile: the one before is complete (its last node, row 7's
    // second, completes before the node above it, which starts the next tile level's row).
    if (t.used) {
      assert(p.tile_index == t.index + 1 && p.row == 0 && p.position == 0);
      assert(t.rows[kTileHeight - 1] == 2);
      if (t.dirty) full(TileKey(p.tile_level, t.index), Encode(t));
    }
    t.index = p.tile_index;
    t.rows.fill(0);
    t.nodes.resize(kTileNodesMax);
    t.used = true;
    t.dirty = false;
  }
  assert(p.position == t.rows[p.row]);  // nodes of a row complete in order
  assert(p.row == 0 || t.rows[p.row - 1] >= 2 * (p.position + 1));  // its children first
  t.nodes[RowStart(p.row) + p.position] = hash;
  ++t.rows[p.row];
  t.dirty = true;
}

void TreeTiles::ForEachDirty(const Put& put) {
  for (size_t level = 0; level < tiles_.size(); ++level) {
    Tile& t = tiles_[level];
    if (!t.dirty) continue;
    put(TileKey(static_cast<uint8_t>(level), t.index), Encode(t));
    t.dirty = false;
  }
}

std::string TreeTiles::Encode(const Tile& t) {
  const uint32_t width = t.rows[0];
  assert(width >= 1 && width <= kTileWidth);
  std::string value(TileBytes(width), '\0');
  value[0] = static_cast<char>(width >> 8);
  value[1] = static_cast<char>(width & 0xff);
  for (uint8_t r = 0; r < kTileHeight; ++r) {
    assert(t.rows[r] == width >> r);  // every node the bottom row completes is in
    std::memcpy(value.data() + TileRowOffset(width, r), t.nodes[RowStart(r)].data(), size_t{t.rows[r]} * kHashBytes);
  }
  return value;
}

Result<TreeTiles> TreeTiles::LoadEdge(uint64_t size,
                                      const std::function<Result<std::string>(uint8_t, uint64_t)>& read_tile) {
  TreeTiles tiles;
  for (uint8_t level = 0; level < 64 && (size >> level) > 0; level = static_cast<uint8_t>(level + kTileHeight)) {
    const uint64_t bottom = size >> level;  // complete nodes of the tile level's bottom row
    const uint8_t tile_level = static_cast<uint8_t>(level / kTileHeight);
    tiles.tiles_.resize(tile_level + 1);
    Tile& t = tiles.tiles_[tile_level];
    t.index = bottom / kTileWidth;
    const uint32_t width = static_cast<uint32_t>(bottom % kTileWidth);
    if (width == 0) continue;  // the rightmost tile is full: the next node starts a new one
    std::string what = "tree tile (" + std::to_string(tile_level) + ", " + std::to_string(t.index) + ")";
    Result<std::string> value = read_tile(tile_level, t.index);
    if (!value.ok()) return Status(value.status().code(), what + ": " + value.status().message());
    FL_ASSIGN_OR_RETURN(TileView view, TileView::Parse(AsBytes(*value), what));
    if (view.width() != width) {
      return Corruption(what + " holds " + std::to_string(view.width()) + " bottom nodes; a tree of " +
                        std::to_string(size) + " leaves has " + std::to_string(width) + " there");
    }
    t.nodes.resize(kTileNodesMax);
    for (uint8_t r = 0; r < kTileHeight; ++r) {
      t.rows[r] = view.RowSize(r);
      std::memcpy(t.nodes[RowStart(r)].data(), view.Node(r, 0), size_t{t.rows[r]} * kHashBytes);
    }
    t.used = true;
  }
  return tiles;
}

}  // namespace fundledger
