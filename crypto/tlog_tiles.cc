#include "crypto/tlog_tiles.h"

#include <charconv>
#include <cstdio>

namespace fundledger {
namespace {

Result<uint64_t> Digits(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return InvalidArgument("not a number");
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return InvalidArgument("not a number");
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

std::string EncodeTileIndex(uint64_t index) {
  std::string out;
  char group[8];
  std::snprintf(group, sizeof group, "%03d", static_cast<int>(index % 1000));
  out = group;
  index /= 1000;
  while (index > 0) {
    std::snprintf(group, sizeof group, "x%03d/", static_cast<int>(index % 1000));
    out = group + out;
    index /= 1000;
  }
  return out;
}

std::string TilePath(int level, uint64_t index, uint64_t width) {
  std::string p = "tile/" + std::to_string(level) + "/" + EncodeTileIndex(index);
  if (width != 0 && width != kTileWidth) p += ".p/" + std::to_string(width);
  return p;
}

std::string EntryBundlePath(uint64_t index, uint64_t width) {
  std::string p = "tile/entries/" + EncodeTileIndex(index);
  if (width != 0 && width != kTileWidth) p += ".p/" + std::to_string(width);
  return p;
}

std::string EntryBundlePathFor(uint64_t entry_index, uint64_t tree_size) {
  uint64_t n = entry_index / kTileWidth;
  uint64_t width = std::min(kTileWidth, tree_size - n * kTileWidth);
  return EntryBundlePath(n, width);
}

Result<TileRef> ParseTilePath(std::string_view level, std::string_view rest) {
  TileRef ref;
  if (level == "entries") {
    ref.level = -1;
  } else {
    Result<uint64_t> l = Digits(level, 2);
    if (!l.ok() || *l > static_cast<uint64_t>(kTileLevelMax))
      return InvalidArgument("tile level must be 0..63");
    ref.level = static_cast<int>(*l);
  }
  size_t p = rest.find(".p/");
  if (p != std::string_view::npos) {
    Result<uint64_t> w = Digits(rest.substr(p + 3), 3);
    if (!w.ok() || *w == 0 || *w >= kTileWidth)
      return InvalidArgument("partial tile width must be 1..255");
    ref.width = *w;
    rest = rest.substr(0, p);
  } else if (rest.find('.') != std::string_view::npos) {
    return InvalidArgument("malformed partial tile suffix");
  }
  int groups = 0;
  while (true) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    bool last = slash == std::string_view::npos;
    if (!last) {
      if (!part.starts_with('x'))
        return InvalidArgument("tile index elements other than the last start with x");
      part.remove_prefix(1);
    }
    if (part.size() != 3) return InvalidArgument("tile index elements have three digits");
    Result<uint64_t> v = Digits(part, 3);
    if (!v.ok()) return InvalidArgument("tile index elements have three digits");
    if (++groups > 6) return InvalidArgument("tile index is too large");
    ref.index = ref.index * 1000 + *v;
    if (last) break;
    rest.remove_prefix(slash + 1);
  }
  return ref;
}

std::vector<TileLevelCount> TileCounts(uint64_t tree_size) {
  std::vector<TileLevelCount> out;
  for (int level = 0; level <= kTileLevelMax; ++level) {
    uint64_t shift = static_cast<uint64_t>(level) * kTileHeight;
    uint64_t nodes = shift >= 64 ? 0 : tree_size >> shift;
    if (nodes == 0) break;
    out.push_back({nodes / kTileWidth, nodes % kTileWidth});
  }
  return out;
}

std::string EncodeEntryBundle(const std::vector<ByteView>& entries) {
  std::string out;
  for (ByteView e : entries) {
    assert(e.size() <= 0xffff);
    out += static_cast<char>(e.size() >> 8);
    out += static_cast<char>(e.size() & 0xff);
    out.append(reinterpret_cast<const char*>(e.data()), e.size());
  }
  return out;
}

Result<std::vector<Bytes>> DecodeEntryBundle(ByteView bundle, uint64_t expected_entries) {
  std::vector<Bytes> out;
  size_t off = 0;
  while (off < bundle.size()) {
    if (out.size() == expected_entries)
      return Corruption("entry bundle holds more than " + std::to_string(expected_entries) +
                        " entries");
    if (off + 2 > bundle.size()) return Corruption("entry bundle ends inside a length");
    size_t len = static_cast<size_t>(bundle[off]) << 8 | bundle[off + 1];
    off += 2;
    if (off + len > bundle.size())
      return Corruption("entry bundle ends inside entry " + std::to_string(out.size()));
    out.emplace_back(bundle.begin() + static_cast<ptrdiff_t>(off),
                     bundle.begin() + static_cast<ptrdiff_t>(off + len));
    off += len;
  }
  if (out.size() != expected_entries) {
    return Corruption("entry bundle holds " + std::to_string(out.size()) + " entries, expected " +
                      std::to_string(expected_entries));
  }
  return out;
}

}  // namespace fundledger
