// The `tree` column's layout 2: the log's stored Merkle nodes in tiles of eight levels, so
// that reading them in order (verification, replay, export) costs one RocksDB step per 256
// nodes instead of one per node, and a proof finds its lowest eight levels in one value.
//
// Tile (t, n) holds the complete nodes of tree levels 8t .. 8t+7 above bottom nodes
// [256n, 256n + 256) of level 8t (a C2SP tlog-tiles tile plus the seven levels over it):
// row r (level 8t + r) holds nodes [n * (256 >> r), n * (256 >> r) + (w >> r)), where w, the
// tile's width, is how many of its bottom nodes are complete (1..256). A tile is rewritten
// whole by every commit that adds to it; only the rightmost tile of each tile level is partial.
//
//   key    't' (0x74) | u8 t | u64 n big-endian                      (10 bytes)
//   value  u16 w big-endian | row 0 | row 1 | ... | row 7, 32 bytes a node, row r w >> r nodes
//
// A full tile is 2 + 510 * 32 = 16,322 bytes. Layout 1 (one row per node, key u8 level | u64
// index) is still read, and converted by the first writable open (Log).
//
//   TreeTiles edge;                     // the writer's rightmost tiles
//   edge.Add(level, index, hash);       // every node the frontier completes, in order
//   edge.ForEachDirty([&](std::string key, std::string value) { batch.Put(...); });
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crypto/merkle.h"
#include "crypto/tlog_tiles.h"

namespace fundledger {

// kTileWidth (256 bottom nodes) and kTileHeight (8 levels) as C2SP tlog-tiles (crypto/tlog_tiles.h).
inline constexpr size_t kTileNodesMax = 2 * kTileWidth - 2;
inline constexpr size_t kTileBytesMax = 2 + kTileNodesMax * kHashBytes;
inline constexpr char kTileKeyPrefix = 't';  // above every layout-1 key (their first byte is a level < 64)

// Where node (level, index) sits: tile (tile_level, tile_index), row, position in the row.
struct TilePlace {
  uint8_t tile_level = 0;
  uint64_t tile_index = 0;
  uint8_t row = 0;
  uint32_t position = 0;
};
TilePlace PlaceOfNode(uint8_t level, uint64_t index);

std::string TileKey(uint8_t tile_level, uint64_t tile_index);
// The tile a key names; nullopt for a key that is not a tile key.
std::optional<std::pair<uint8_t, uint64_t>> ParseTileKey(std::string_view key);

// Bytes of a tile of `width` bottom nodes, and where row r starts in it.
size_t TileBytes(uint32_t width);
size_t TileRowOffset(uint32_t width, uint8_t row);

// A tile value read from the store, checked: its width is 1..256 and its length fits it.
class TileView {
 public:
  // `what` names the tile in the error ("tree tile (0, 12)").
  static Result<TileView> Parse(ByteView value, const std::string& what);
  uint32_t width() const { return width_; }
  uint32_t RowSize(uint8_t row) const { return width_ >> row; }
  // Node `position` of `row`; position < RowSize(row).
  const uint8_t* Node(uint8_t row, uint32_t position) const {
    return value_.data() + TileRowOffset(width_, row) + size_t{position} * kHashBytes;
  }

 private:
  ByteView value_;
  uint32_t width_ = 0;
};

// The rightmost tile of every tile level, in memory: the writer adds the nodes a commit
// completes, then writes each tile they touched once. Also builds every tile of a layout-1
// tree when it is converted (nodes added level by level, a completed tile handed out at once).
class TreeTiles {
 public:
  using Put = std::function<void(std::string key, std::string value)>;

  // Adds complete node (level, index). Within a level nodes come in index order, and a node's
  // two children come before it. A tile that fills and is followed by a node of the next
  // tile is handed to `full` (when given) and forgotten.
  void Add(uint8_t level, uint64_t index, const Hash& hash, const Put& full = nullptr);
  // Calls put for every tile changed since the last call (the partial ones with what they
  // hold so far), then counts them as written.
  void ForEachDirty(const Put& put);
  // Loads the rightmost tile of each tile level of a stored tree of `size` leaves, through
  // `read_tile` (the value of a tile, NotFound when absent).
  static Result<TreeTiles> LoadEdge(uint64_t size,
                                    const std::function<Result<std::string>(uint8_t, uint64_t)>& read_tile);

 private:
  struct Tile {
    uint64_t index = 0;
    std::array<uint32_t, kTileHeight> rows{};  // nodes held per row
    std::vector<Hash> nodes;                     // row r at RowStart(r), room for a full tile
    bool dirty = false;
    bool used = false;
  };
  // Row r's first node in `nodes`: rows 0..r-1 of a full tile hold 256 + 128 + ... nodes.
  static size_t RowStart(uint8_t row) { return 2 * kTileWidth - (2 * kTileWidth >> row); }
  static std::string Encode(const Tile& tile);
  std::vector<Tile> tiles_;  // by tile level
};

}  // namespace fundledger
