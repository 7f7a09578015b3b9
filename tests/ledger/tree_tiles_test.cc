// The tree column's tiles: every node a frontier completes lands in its tile at the place the
// layout names, partial tiles grow commit by commit, and the rightmost tiles load back from
// the store at any size.
#include "ledger/tree_tiles.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

namespace fundledger {
namespace {

Hash Leaf(uint64_t i) { return HashLeaf(AsBytes("leaf " + std::to_string(i))); }

// The tiles a writer would leave in the store: appends in commits of `commit` leaves.
struct TileStore {
  std::map<std::string, std::string> values;
  MerkleFrontier frontier;
  TreeTiles edge;
  void Append(uint64_t leaves, uint64_t commit) {
    auto put = [&](std::string key, std::string value) { values[key] = std::move(value); };
    for (uint64_t done = 0; done < leaves;) {
      for (uint64_t i = 0; i < commit && done < leaves; ++i, ++done) {
        frontier.Append(Leaf(frontier.size()), [&](uint8_t level, uint64_t index, const Hash& h) { edge.Add(level, index, h, put); });
      }
      edge.ForEachDirty(put);
    }
  }
  Result<Hash> Node(uint8_t level, uint64_t index) const {
    TilePlace p = PlaceOfNode(level, index);
    auto it = values.find(TileKey(p.tile_level, p.tile_index));
    if (it == values.end()) return NotFound("no tile");
    FL_ASSIGN_OR_RETURN(TileView tile, TileView::Parse(AsBytes(it->second), "tile"));
    if (p.position >= tile.RowSize(p.row)) return NotFound("not in the tile");
    Hash h;
    std::memcpy(h.data(), tile.Node(p.row, p.position), kHashBytes);
    return h;
  }
};

void ExpectSameNodes(const TileStore& tiles, const MemoryTree& tree) {
  for (uint8_t level = 0; (tree.size() >> level) > 0; ++level) {
    uint64_t complete = tree.size() >> level;
    for (uint64_t index = 0; index < complete; ++index) {
      Result<Hash> h = tiles.Node(level, index);
      ASSERT_TRUE(h.ok()) << "level " << int(level) << " index " << index << ": " << h.status().message();
      ASSERT_EQ(*h, *tree.ReadNode(level, index)) << "level " << int(level) << " index " << index;
    }
    // The node past the last complete one is not there.
    EXPECT_FALSE(tiles.Node(level, complete).ok()) << "level " << int(level);
  }
}

TEST(TreeTiles, PlacesNodesAsTheLayoutSays) {
  TilePlace p = PlaceOfNode(0, 700);
  EXPECT_EQ(p.tile_level, 0);
  EXPECT_EQ(p.tile_index, 2u);
  EXPECT_EQ(p.row, 0);
  EXPECT_EQ(p.position, 700u - 512u);
  p = PlaceOfNode(3, 70);  // 32 nodes a row at row 3
  EXPECT_EQ(p.tile_index, 2u);
  EXPECT_EQ(p.position, 6u);
  p = PlaceOfNode(9, 1000);  // tile level 1, row 1: 128 nodes a row
  EXPECT_EQ(p.tile_level, 1);
  EXPECT_EQ(p.row, 1);
  EXPECT_EQ(p.tile_index, 7u);
  EXPECT_EQ(p.position, 1000u - 7u * 128u);
  EXPECT_EQ(TileBytes(256), 2u + 510u * 32u);
  EXPECT_EQ(TileRowOffset(5, 1), 2u + 5u * 32u);
  EXPECT_EQ(TileRowOffset(5, 3), 2u + (5u + 2u + 1u) * 32u);
  EXPECT_EQ(TileKey(1, 258), std::string("t\x01\0\0\0\0\0\0\x01\x02", 10));
  EXPECT_EQ(*ParseTileKey(TileKey(2, 99)), std::make_pair(uint8_t{2}, uint64_t{99}));
  EXPECT_FALSE(ParseTileKey(std::string(9, '\0')).has_value());
}

TEST(TreeTiles, HoldEveryNodeOfTheTreeWhateverTheCommitSize) {
  for (uint64_t commit : {1u, 3u, 64u, 255u, 256u, 1000u}) {
    TileStore tiles;
    MemoryTree tree;
    for (uint64_t size : {1u, 2u, 255u, 256u, 257u, 511u, 700u, 65'536u, 65'537u}) {
      if (size <= tree.size()) continue;
      tiles.Append(size - tree.size(), commit);
      while (tree.size() < size) tree.Append(Leaf(tree.size()));
      ExpectSameNodes(tiles, tree);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(TreeTiles, TheRightmostTilesLoadBackAtAnySizeAndGrowOn) {
  TileStore reference;
  reference.Append(70'000, 97);
  for (uint64_t size : {1u, 256u, 300u, 65'536u, 65'600u}) {
    TileStore tiles;
    tiles.Append(size, 50);
    auto read = [&](uint8_t level, uint64_t index) -> Result<std::string> {
      auto it = tiles.values.find(TileKey(level, index));
      if (it == tiles.values.end()) return NotFound("missing");
      return it->second;
    };
    Result<TreeTiles> loaded = TreeTiles::LoadEdge(size, read);
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    tiles.edge = std::move(*loaded);
    tiles.Append(70'000 - size, 333);
    EXPECT_EQ(tiles.values, reference.values) << "loaded at size " << size;
  }
}

TEST(TreeTiles, LoadingRefusesATileThatDisagreesWithTheSize) {
  TileStore tiles;
  tiles.Append(300, 300);
  auto read = [&](uint8_t level, uint64_t index) -> Result<std::string> {
    auto it = tiles.values.find(TileKey(level, index));
    if (it == tiles.values.end()) return NotFound("it is missing");
    return it->second;
  };
  Result<TreeTiles> loaded = TreeTiles::LoadEdge(290, read);  // the tile holds 44 bottom nodes, not 34
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("tree tile (0, 1) holds 44 bottom nodes"), std::string::npos) << loaded.status().message();
  loaded = TreeTiles::LoadEdge(600, read);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("tree tile (0, 2): it is missing"), std::string::npos) << loaded.status().message();
}

TEST(TreeTiles, ParseRefusesBadWidthsAndLengths) {
  TileStore tiles;
  tiles.Append(20, 20);
  std::string good = tiles.values.at(TileKey(0, 0));
  EXPECT_TRUE(TileView::Parse(AsBytes(good), "t").ok());
  std::string zero = good;
  zero[1] = 0;
  EXPECT_NE(TileView::Parse(AsBytes(zero), "tile (0, 0)").status().message().find("width of 0"), std::string::npos);
  std::string wide = good;
  wide[0] = 1;
  wide[1] = 1;
  EXPECT_NE(TileView::Parse(AsBytes(wide), "t").status().message().find("width of 257"), std::string::npos);
  std::string cut = good.substr(0, good.size() - 1);
  EXPECT_NE(TileView::Parse(AsBytes(cut), "t").status().message().find("holds"), std::string::npos);
  EXPECT_FALSE(TileView::Parse(AsBytes(std::string("x")), "t").ok());
}

}  // namespace
}  // namespace fundledger
