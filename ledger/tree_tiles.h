// TreeTiles: how the `tree` column's tiles fill (their bytes are in log_format.h). Reading
// stored nodes in order (verification, replay, export) costs one RocksDB step per 256 nodes
// instead of one per node, and a proof finds its lowest eight levels in one value.
//
// The writer adds every node its MerkleFrontier completes; a node that completes a tile puts
// the tile at once, and Flush puts a leaf row for each leaf added since the last Flush whose
// tile is not complete (once a commit). The incomplete tile of each tile level (the edge) is
// kept here in memory; Derive rebuilds it on open from the leaf rows and complete tiles alone.
// A commit writes ~110 bytes of tree an entry at small batches, 64 at large ones.
//
// Not thread-safe: TreeStore keeps the writer's copy and, behind a lock, the readers' copy,
// which CatchUp brings up to date after each commit.
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
#include "ledger/log_format.h"

namespace fundledger {

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
