// The `tree` column's layout (tree layout 2): the log's stored Merkle nodes in tiles of eight
// levels, so that reading them in order (verification, replay, export) costs one RocksDB step per
// 256 nodes instead of one per node, and a proof finds its lowest eight levels in one value.
//
// Tile (t, n) holds the nodes of tree levels 8t .. 8t+7 above bottom nodes [256n, 256n + 256)
// of level 8t (a C2SP tlog-tiles tile plus the seven levels over it): row r (level 8t + r)
// holds nodes [n * (256 >> r), (n + 1) * (256 >> r)). Only complete tiles are stored, written
// in the commit that completes them and never changed. Of the one incomplete tile of each
// tile level (the edge) only the leaf hashes are stored, as leaf rows, so that a tampered
// entry there is still named at its own index; the rest of the edge follows from what is
// stored: the bottom row of tile level t+1 is the roots of the complete tiles of level t, and
// the rows above a bottom row are its pairs hashed. A commit writes a leaf row for each entry
// whose tile it does not complete and the tiles it completes (~110 bytes an entry, against
// ~90 for a row per node); leaf rows of complete tiles are dropped by compaction (Log).
//
//   tile      't' (0x74) | u8 t | u64 n big-endian ->  u16 width (256) | row 0 | ... | row 7,
//                                                      32 bytes a node (16,322 bytes)
//   leaf row  0x00 | u64 index big-endian          ->  the 32-byte leaf hash
//
// (The width says what the value holds; a stored tile is always full.)
//
//   TreeTiles edge = *TreeTiles::Derive(size, read);   // on open: leaf rows and tiles, by key
//   edge.Add(level, index, hash, put);   // every node the frontier completes, in order
//   edge.Flush(put);                     // once a commit: the new leaf rows
//   std::optional<Hash> h = edge.Node(level, index, &in_edge);   // an edge node
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

// kTileWidth (256 bottom nodes) and kTileHeight (8 levels) as C2SP tlog-tiles
// (crypto/tlog_tiles.h).
inline constexpr size_t kTileNodesMax = 2 * kTileWidth - 2;
inline constexpr size_t kTileBytes = 2 + kTileNodesMax * kHashBytes;
inline constexpr char kTileKeyPrefix = 't';  // above every leaf row key (first byte 0x00)

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
// The key of leaf `index`'s leaf row.
std::string LeafRowKey(uint64_t index);

// Where row r starts in a tile value.
size_t TileRowOffset(uint8_t row);

// A tile value read from the store, checked: a full tile of the right length.
class TileView {
 public:
  // `what` names the tile in the error ("tree tile (0, 12)").
  static Result<TileView> Parse(ByteView value, const std::string& what);
  // Node `position` of `row`; position < 256 >> row.
  const uint8_t* Node(uint8_t row, uint32_t position) const {
    return value_.data() + TileRowOffset(row) + size_t{position} * kHashBytes;
  }
  Hash Root() const;  // the node above the tile: its row 7's two nodes hashed

 private:
  ByteView value_;
};

// The incomplete tile of every tile level, in memory. The writer adds the nodes a commit
// completes, and a tile they complete goes to `put` at once; Flush puts the leaf rows of
// the rest. Readers ask a copy for edge nodes.
class TreeTiles {
 public:
  using Put = std::function<void(std::string key, std::string value)>;

  // Adds complete node (level, index). Within a level nodes come in index order, and a node's
  // two children come before it (the order MerkleFrontier::Append emits them in).
  void Add(uint8_t level, uint64_t index, const Hash& hash, const Put& put);
  // Puts a leaf row for each leaf added since the last Flush whose tile is not complete.
  void Flush(const Put& put);
  // Node (level, index) when it is in an incomplete tile: the node, or nullopt when it is not
  // complete yet (`in_edge` true), or nullopt with `in_edge` false when its tile is complete
  // (read it from the store).
  std::optional<Hash> Node(uint8_t level, uint64_t index, bool* in_edge) const;
  // Tiles of tile level t that are complete (and stored).
  uint64_t CompleteTiles(uint8_t tile_level) const;
  // Calls fn(level, index, hash) for every node of the incomplete tiles, by level, then index.
  void ForEachNode(const std::function<void(uint8_t, uint64_t, const Hash&)>& fn) const;
  // Makes this equal to `newer`, which only added nodes to this (and flushed) since they were
  // equal, copying only what it added.
  void CatchUp(const TreeTiles& newer);

  // The edge of a stored tree of `size` leaves: read_leaf_row(i) is leaf row i's value (for
  // the last size mod 256 leaves), read_tile(t, n) a complete tile's value; NotFound when
  // absent.
  using Read = std::function<Result<std::string>(std::string_view key)>;
  static Result<TreeTiles> Derive(uint64_t size, const Read& read);

 private:
  struct Tile {
    uint64_t index = 0;
    std::array<uint32_t, kTileHeight> rows{};  // nodes held per row
    uint32_t leaves_flushed = 0;               // of row 0 (tile level 0), stored as leaf rows
    std::vector<Hash> nodes;                   // row r from RowStart(r)
  };
  // Row r's first node in `nodes`: rows 0..r-1 of a full tile hold 256 + 128 + ... nodes.
  static size_t RowStart(uint8_t row) { return 2 * kTileWidth - (2 * kTileWidth >> row); }
  static std::string Encode(const Tile& tile);
  std::vector<Tile> tiles_;  // by tile level
};

}  // namespace fundledger
