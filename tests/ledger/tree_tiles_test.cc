// The tree column's tiles: every node a frontier completes is either in its complete tile, at
// the place the layout names, or follows from the leaf rows and tiles stored; the incomplete
// tiles rebuilt from the store equal the ones the writer held, at any size.
#include "ledger/tree_tiles.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <tuple>
#include <vector>

namespace fundledger {
namespace {

Hash Leaf(uint64_t i) { return HashLeaf(AsBytes("leaf " + std::to_string(i))); }

// What a writer would leave in the store, appending in commits of `commit` leaves.
struct TileStore {
  std::map<std::string, std::string> values;
  MerkleFrontier frontier;
  TreeTiles edge;
  void Append(uint64_t leaves, uint64_t commit) {
    TreeTiles::Put put = [&](std::string key, std::string value) {
      EXPECT_FALSE(values.count(key) && ParseTileKey(key)) << "a tile written twice";
      values[key] = std::move(value);
    };
    for (uint64_t done = 0; done < leaves;) {
      for (uint64_t i = 0; i < commit && done < leaves; ++i, ++done) {
        frontier.Append(Leaf(frontier.size()), [&](uint8_t level, uint64_t index, const Hash& h) {
          edge.Add(level, index, h, put);
        });
      }
      edge.Flush(put);
    }
  }
  TreeTiles::Read Reader() const {
    return [this](std::string_view key) -> Result<std::string> {
      auto it = values.find(std::string(key));
      if (it == values.end()) return NotFound("it is missing");
      return it->second;
    };
  }
  // A node as a reader finds it: in the edge, else in its tile.
  Result<Hash> Node(const TreeTiles& from, uint8_t level, uint64_t index) const {
    bool in_edge = false;
    if (std::optional<Hash> h = from.Node(level, index, &in_edge)) return *h;
    if (in_edge) return NotFound("not complete");
    TilePlace p = PlaceOfNode(level, index);
    auto it = values.find(TileKey(p.tile_level, p.tile_index));
    if (it == values.end()) return NotFound("no tile");
    FL_ASSIGN_OR_RETURN(TileView tile, TileView::Parse(AsBytes(it->second), "tile"));
    Hash h;
    std::memcpy(h.data(), tile.Node(p.row, p.position), kHashBytes);
    return h;
  }
};

void ExpectSameNodes(const TileStore& tiles, const TreeTiles& edge, const MemoryTree& tree) {
  for (uint8_t level = 0; (tree.size() >> level) > 0; ++level) {
    uint64_t complete = tree.size() >> level;
    for (uint64_t index = 0; index < complete; ++index) {
      Result<Hash> h = tiles.Node(edge, level, index);
      ASSERT_TRUE(h.ok()) << "level " << int(level) << " index " << index << ": "
                          << h.status().message();
      ASSERT_EQ(*h, *tree.ReadNode(level, index)) << "level " << int(level) << " index " << index;
    }
    EXPECT_EQ(tiles.Node(edge, level, complete).status().code(), StatusCode::kNotFound)
        << "level " << int(level);
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
  EXPECT_EQ(kTileBytes, 2u + 510u * 32u);
  EXPECT_EQ(TileRowOffset(1), 2u + 256u * 32u);
  EXPECT_EQ(TileRowOffset(3), 2u + (256u + 128u + 64u) * 32u);
  EXPECT_EQ(TileKey(1, 258), std::string("t\x01\0\0\0\0\0\0\x01\x02", 10));
  EXPECT_EQ(*ParseTileKey(TileKey(2, 99)), std::make_pair(uint8_t{2}, uint64_t{99}));
  EXPECT_FALSE(ParseTileKey(LeafRowKey(5)).has_value());
}

TEST(TreeTiles, EveryNodeIsInATileOrTheEdgeWhateverTheCommitSize) {
  for (uint64_t commit : {1u, 3u, 64u, 255u, 256u, 1000u}) {
    TileStore tiles;
    MemoryTree tree;
    for (uint64_t size : {1u, 2u, 255u, 256u, 257u, 511u, 700u, 65'536u, 65'537u}) {
      if (size <= tree.size()) continue;
      tiles.Append(size - tree.size(), commit);
      while (tree.size() < size) tree.Append(Leaf(tree.size()));
      ExpectSameNodes(tiles, tiles.edge, tree);
      // The store alone gives the same edge: leaf rows for the last size mod 256 leaves,
      // complete tiles for the rest.
      Result<TreeTiles> derived = TreeTiles::Derive(size, tiles.Reader());
      ASSERT_TRUE(derived.ok()) << derived.status().message();
      ExpectSameNodes(tiles, *derived, tree);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(TreeTiles, AnEdgeRebuiltFromTheStoreGrowsOnAsTheWritersDid) {
  TileStore reference;
  reference.Append(70'000, 97);
  for (uint64_t size : {1u, 256u, 300u, 65'536u, 65'600u}) {
    TileStore tiles;
    tiles.Append(size, 50);
    Result<TreeTiles> derived = TreeTiles::Derive(size, tiles.Reader());
    ASSERT_TRUE(derived.ok()) << derived.status().message();
    tiles.edge = std::move(*derived);
    tiles.Append(70'000 - size, 333);
    // The same tiles, and the same edge (leaf rows of complete tiles differ with the commits).
    for (const auto& [key, value] : reference.values) {
      if (ParseTileKey(key)) {
        EXPECT_TRUE(tiles.values.count(key) && tiles.values.at(key) == value)
            << "rebuilt at size " << size;
      }
    }
    for (const auto& [key, value] : tiles.values) {
      if (ParseTileKey(key)) {
        EXPECT_TRUE(reference.values.count(key)) << "rebuilt at size " << size;
      }
    }
    std::vector<std::tuple<uint8_t, uint64_t, Hash>> a, b;
    tiles.edge.ForEachNode([&](uint8_t l, uint64_t i, const Hash& h) { a.emplace_back(l, i, h); });
    reference.edge.ForEachNode(
        [&](uint8_t l, uint64_t i, const Hash& h) { b.emplace_back(l, i, h); });
    EXPECT_TRUE(a == b) << "rebuilt at size " << size;
  }
}

TEST(TreeTiles, ACopyCatchesUpWithWhatTheWriterAdded) {
  TileStore tiles;
  TreeTiles readers;
  MemoryTree tree;
  for (uint64_t commit : {1u, 7u, 250u, 300u, 1u, 5000u, 70'000u}) {
    tiles.Append(commit, commit);
    while (tree.size() < tiles.frontier.size()) tree.Append(Leaf(tree.size()));
    readers.CatchUp(tiles.edge);
    ExpectSameNodes(tiles, readers, tree);
  }
}

TEST(TreeTiles, RebuildingNamesAMissingOrBadRowOrTile) {
  TileStore tiles;
  tiles.Append(70'000, 300);
  Result<TreeTiles> derived =
      TreeTiles::Derive(70'020, tiles.Reader());  // leaves 70,000.. were never added
  ASSERT_FALSE(derived.ok());
  EXPECT_NE(derived.status().message().find("leaf row 70000: it is missing"), std::string::npos)
      << derived.status().message();
  std::string leaf = tiles.values.at(LeafRowKey(69'900));
  tiles.values[LeafRowKey(69'900)] = "short";
  derived = TreeTiles::Derive(70'000, tiles.Reader());
  ASSERT_FALSE(derived.ok());
  EXPECT_NE(derived.status().message().find("leaf row 69900 is not 32 bytes"), std::string::npos)
      << derived.status().message();
  tiles.values[LeafRowKey(69'900)] = leaf;
  tiles.values.erase(TileKey(0, 260));
  derived = TreeTiles::Derive(70'000, tiles.Reader());
  ASSERT_FALSE(derived.ok());
  EXPECT_NE(derived.status().message().find("tree tile (0, 260): it is missing"), std::string::npos)
      << derived.status().message();
}

TEST(TreeTiles, ParseRefusesBadWidthsAndLengths) {
  TileStore tiles;
  tiles.Append(256, 20);
  std::string good = tiles.values.at(TileKey(0, 0));
  EXPECT_TRUE(TileView::Parse(AsBytes(good), "t").ok());
  std::string narrow = good;
  narrow[0] = 0;
  narrow[1] = 100;
  EXPECT_NE(TileView::Parse(AsBytes(narrow), "tile (0, 0)").status().message().find("width of 100"),
            std::string::npos);
  std::string cut = good.substr(0, good.size() - 1);
  EXPECT_NE(TileView::Parse(AsBytes(cut), "t").status().message().find("holds 16321 bytes"),
            std::string::npos);
  EXPECT_FALSE(TileView::Parse(AsBytes(std::string("x")), "t").ok());
}

}  // namespace
}  // namespace fundledger
