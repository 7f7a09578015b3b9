// C2SP tlog-tiles (c2sp.org/tlog-tiles): the paths and shapes of hash tiles and entry bundles.
//
// A tile at level L holds the hashes of tree level 8L, 256 to a full tile; index N's path is
// N in groups of three digits, all but the last prefixed with 'x' ("x001/x234/067"); a
// partial tile of width W adds ".p/W". An entry bundle holds up to 256 entries, each as a
// big-endian uint16 length and the bytes.
//
//   TilePath(0, 1234067, 0)      -> "tile/0/x001/x234/067"
//   EntryBundlePath(5, 17)       -> "tile/entries/005.p/17"
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crypto/encoding.h"

namespace fundledger {

inline constexpr uint64_t kTileHeight = 8;
inline constexpr uint64_t kTileWidth = 256;
inline constexpr int kTileLevelMax = 63;
inline constexpr uint64_t kTileIndexMax = 999'999'999'999'999'999;  // six groups of three digits

struct TileRef {
  int level = 0;  // -1: an entry bundle
  uint64_t index = 0;
  uint64_t width = 0;  // 0: full
};

std::string EncodeTileIndex(uint64_t index);
std::string TilePath(int level, uint64_t index, uint64_t width);  // width 0 or 256: full
std::string EntryBundlePath(uint64_t index, uint64_t width);
// The bundle holding entry `entry_index` in a tree of `tree_size` entries.
std::string EntryBundlePathFor(uint64_t entry_index, uint64_t tree_size);
// Parses the parts after "tile/": level ("0".."63" or "entries") and "<index>[.p/<width>]".
Result<TileRef> ParseTilePath(std::string_view level, std::string_view index_and_width);

struct TileLevelCount {
  uint64_t full = 0;
  uint64_t partial_width = 0;
};
// For each level with any hashes, the full tiles and the width of the partial one.
std::vector<TileLevelCount> TileCounts(uint64_t tree_size);

// Entry bundles: encode, and split into entries (with a limit on their number).
std::string EncodeEntryBundle(const std::vector<ByteView>& entries);
Result<std::vector<Bytes>> DecodeEntryBundle(ByteView bundle, uint64_t expected_entries);

}  // namespace fundledger
