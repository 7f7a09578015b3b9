// The log's on-disk format: the data directory, the RocksDB column families, and every key and
// value the log keeps. LogWriter (log_writer.h) writes all of them; Log (log.h) and TreeStore
// (tree_store.h) read them; TreeTiles (tree_tiles.h) says how the tree's tiles fill. The bytes
// are a contract with every store already written: changing them is a new kLogFormat or
// kTreeLayout, and an open refuses a store that names any other (Log::Open).
//
// Data directory:
//   DIR/signing.key   the origin's Ed25519 signer key (C2SP signer-key form, mode 0600), written
//                     before the store exists
//   DIR/store/        RocksDB, with the column families below
//
// Column families; every integer is big-endian, so that key order is numeric order:
//   entries      BundleKey: u64 256n | 'b'         -> the C2SP entry bundle of entries
//                                                     [256n, 256n + 256): per entry a u16
//                                                     big-endian length and the Entry bytes
//                                                     exactly as hashed (entry.fbs), at most
//                                                     kEntryBytesMax; served as stored
//                EntryKey: u64 index               -> one Entry's bytes, for entries whose
//                                                     bundle is not complete yet
//                A bundle is written in the commit that completes it, which deletes the single
//                values of its entries; so an entry is in exactly one value, and BundleKey(256n)
//                sorts right after EntryKey(256n): a scan in key order meets entries in index
//                order, whichever form holds them. A store of kLogFormatSingles holds only
//                single values; a writable open converts its complete bundles (Log::Open).
//   tree         TileKey: 't' | u8 t | u64 n        -> a complete tile (below), kTileBytes
//                LeafRowKey: 0x00 | u64 index       -> the 32-byte leaf hash of an entry whose
//                                                     tile is not complete yet
//   idempotency  the key's bytes (1..128)           -> IdempotencyRecord: u64 first index |
//                                                     u64 count | SHA-256 request digest (48 bytes)
//   meta         "format"                           -> kLogFormat
//                "tree_layout"                      -> kTreeLayout
//                "origin"                           -> the origin, text
//                "size"                             -> u64 entry count (the tree size)
//   checkpoints  CheckpointKey: u64 tree size       -> the C2SP signed checkpoint note, as served
//   projections  rows owned by projections/
//   vault        sealed personal data, owned by ledger/vault.h
//
// Tree node (level L, index N) is the hash of the complete subtree over leaves
// [N * 2^L, (N + 1) * 2^L). Tile (t, n) holds tree levels 8t .. 8t+7 above bottom nodes
// [256n, 256n + 256) of level 8t (a C2SP tlog-tiles tile plus the seven levels over it):
//   u16 width (256) | row 0 | row 1 | ... | row 7        32 bytes a node, 16,322 bytes
// where row r holds nodes [n * (256 >> r), (n + 1) * (256 >> r)) of level 8t + r. Only complete
// tiles are stored, written in the commit that completes them and never changed. Of the one
// incomplete tile of each tile level only the leaf hashes are stored (leaf rows), so that a
// tampered entry there is still named at its own index; the rest follows from what is stored:
// the bottom row of tile level t+1 is the roots of the complete tiles of level t, and the rows
// above a bottom row are its pairs hashed. Leaf rows of complete tiles are never read again;
// compaction drops them (TreeStore).
//
// Every write of the log is one WriteBatch: a commit group's entries, leaf rows and completed
// tiles, idempotency records, the new size and (when signed) the checkpoint, together with the
// rows a CommitHook adds (projections, vault).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "crypto/tlog_tiles.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace fundledger {

// The format and tree layout this build writes; it opens these and kLogFormatSingles.
inline constexpr std::string_view kLogFormat = "fundledger-log-v2";
// The format before entry bundles, every entry a value of its own: still read, and converted to
// kLogFormat by a writable open.
inline constexpr std::string_view kLogFormatSingles = "fundledger-log-v1";
inline constexpr std::string_view kTreeLayout = "2";

inline std::string StorePath(const std::string& data_dir) { return data_dir + "/store"; }
inline std::string SigningKeyPath(const std::string& data_dir) { return data_dir + "/signing.key"; }

// Column family names; tests use them to tamper with a store as an attacker would.
inline constexpr const char* kEntriesColumn = "entries";
inline constexpr const char* kTreeColumn = "tree";
inline constexpr const char* kIdempotencyColumn = "idempotency";
inline constexpr const char* kMetaColumn = "meta";
inline constexpr const char* kCheckpointsColumn = "checkpoints";
inline constexpr const char* kProjectionsColumn = "projections";  // rows owned by projections/
inline constexpr const char* kVaultColumn = "vault";              // sealed personal data

// The keys of the `meta` column.
inline constexpr const char* kMetaFormat = "format";
inline constexpr const char* kMetaTreeLayout = "tree_layout";
inline constexpr const char* kMetaOrigin = "origin";
inline constexpr const char* kMetaSize = "size";

// The open handles of the column families above, in one store.
struct LogColumns {
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* entries = nullptr;
  rocksdb::ColumnFamilyHandle* tree = nullptr;
  rocksdb::ColumnFamilyHandle* idempotency = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* checkpoints = nullptr;
  rocksdb::ColumnFamilyHandle* projections = nullptr;
  rocksdb::ColumnFamilyHandle* vault = nullptr;
};

inline constexpr size_t kU64Bytes = 8;
static_assert(kU64Bytes == sizeof(uint64_t));

// A u64 as 8 big-endian bytes: entry and checkpoint keys, the `size` value.
inline std::string U64Value(uint64_t v) {
  std::string s(kU64Bytes, '\0');
  PutBigEndian64(v, reinterpret_cast<uint8_t*>(s.data()));
  return s;
}
inline uint64_t ReadU64(std::string_view bytes) {
  return GetBigEndian64(reinterpret_cast<const uint8_t*>(bytes.data()));
}
inline std::string EntryKey(uint64_t index) { return U64Value(index); }

// Entry bundles in the `entries` column: 256 entries, as C2SP tlog-tiles serves them.
inline constexpr uint64_t kBundleEntries = kTileWidth;
inline constexpr char kBundleKeySuffix = 'b';
inline constexpr size_t kBundleKeyBytes = kU64Bytes + 1;
inline constexpr size_t kBundleLengthBytes = 2;  // each entry's u16 length
static_assert(kBundleEntries == 256, "C2SP entry bundles hold 256 entries");
static_assert(kBundleKeyBytes != kU64Bytes, "bundle and single keys differ in length");
inline constexpr uint64_t BundleStart(uint64_t index) { return index - index % kBundleEntries; }
inline std::string BundleKey(uint64_t first_index) {
  std::string key = U64Value(first_index);
  key.push_back(kBundleKeySuffix);
  return key;
}
// An `entries` key: the first index it holds and whether it is a bundle; nullopt for a key that
// is neither an EntryKey nor a BundleKey.
struct EntriesKey {
  uint64_t first_index = 0;
  bool bundle = false;
};
inline std::optional<EntriesKey> ParseEntriesKey(std::string_view key) {
  if (key.size() == kU64Bytes) return EntriesKey{ReadU64(key), false};
  if (key.size() != kBundleKeyBytes || key.back() != kBundleKeySuffix) return std::nullopt;
  const uint64_t first = ReadU64(key);
  if (first % kBundleEntries != 0) return std::nullopt;
  return EntriesKey{first, true};
}
inline std::string CheckpointKey(uint64_t tree_size) { return U64Value(tree_size); }

// The `idempotency` column's value.
struct IdempotencyRecord {
  uint64_t first_index = 0;
  uint64_t count = 0;
  Hash digest{};  // SubmissionDigest of the request (log_writer.h)
};
inline constexpr size_t kIdempotencyRecordBytes = kU64Bytes + kU64Bytes + kHashBytes;
static_assert(kIdempotencyRecordBytes == 8 + 8 + 32, "first index, count, SHA-256 digest");

inline std::string EncodeIdempotencyRecord(const IdempotencyRecord& record) {
  std::string value(kIdempotencyRecordBytes, '\0');
  auto* v = reinterpret_cast<uint8_t*>(value.data());
  PutBigEndian64(record.first_index, v);
  PutBigEndian64(record.count, v + kU64Bytes);
  std::copy(record.digest.begin(), record.digest.end(), v + 2 * kU64Bytes);
  return value;
}
inline Result<IdempotencyRecord> DecodeIdempotencyRecord(std::string_view value) {
  if (value.size() != kIdempotencyRecordBytes) {
    return Corruption("an idempotency record holds " + std::to_string(value.size()) +
                      " bytes, not " + std::to_string(kIdempotencyRecordBytes));
  }
  const auto* v = reinterpret_cast<const uint8_t*>(value.data());
  IdempotencyRecord record;
  record.first_index = GetBigEndian64(v);
  record.count = GetBigEndian64(v + kU64Bytes);
  std::copy(v + 2 * kU64Bytes, v + kIdempotencyRecordBytes, record.digest.begin());
  return record;
}

// The `tree` column. kTileWidth (256 bottom nodes) and kTileHeight (8 levels) are C2SP
// tlog-tiles' (crypto/tlog_tiles.h).
inline constexpr char kTileKeyPrefix = 't';  // sorts after every leaf row key (first byte 0x00)
inline constexpr size_t kTileKeyBytes = 1 + 1 + kU64Bytes;
inline constexpr size_t kLeafRowKeyBytes = 1 + kU64Bytes;
inline constexpr size_t kTileWidthFieldBytes = 2;
inline constexpr size_t kTileNodesMax = 2 * kTileWidth - 2;  // rows of 256, 128, ..., 2 nodes
inline constexpr size_t kTileBytes = kTileWidthFieldBytes + kTileNodesMax * kHashBytes;
static_assert(kTileHeight == 8 && kTileWidth == 256, "C2SP tlog-tiles: 256 hashes, 8 levels");
static_assert(kTileWidth == uint64_t{1} << kTileHeight, "a tile's rows halve 256 nodes to 2");
static_assert(kTileWidth <= 0xFFFF, "a tile's width is stored as a u16");
static_assert(kHashBytes == 32 && kTileNodesMax == 510 && kTileBytes == 16'322);
static_assert(64 % kTileHeight == 0, "tree levels 0..63 fill whole tile levels 0..7");
static_assert(kTileKeyBytes == 10 && kLeafRowKeyBytes == 9,
              "the compaction filter tells leaf rows from tiles by their key's length");
static_assert(kTileKeyPrefix != 0, "tiles sort after every leaf row");

inline std::string TileKey(uint8_t tile_level, uint64_t tile_index) {
  std::string key(kTileKeyBytes, '\0');
  key[0] = kTileKeyPrefix;
  key[1] = static_cast<char>(tile_level);
  PutBigEndian64(tile_index, reinterpret_cast<uint8_t*>(key.data() + 2));
  return key;
}
// The tile a key names; nullopt for a key that is not a tile key.
inline std::optional<std::pair<uint8_t, uint64_t>> ParseTileKey(std::string_view key) {
  if (key.size() != kTileKeyBytes || key[0] != kTileKeyPrefix) return std::nullopt;
  return std::make_pair(static_cast<uint8_t>(key[1]), ReadU64(key.substr(2)));
}
inline std::string LeafRowKey(uint64_t index) {
  std::string key(kLeafRowKeyBytes, '\0');  // 0x00, then the index
  PutBigEndian64(index, reinterpret_cast<uint8_t*>(key.data() + 1));
  return key;
}
// Where row r starts in a tile value: rows 0..r-1 hold 256 + 128 + ... nodes.
inline constexpr size_t TileRowOffset(uint8_t row) {
  return kTileWidthFieldBytes + (2 * kTileWidth - (2 * kTileWidth >> row)) * kHashBytes;
}

static_assert(TileRowOffset(0) == kTileWidthFieldBytes && TileRowOffset(1) == 2 + 256 * 32);
static_assert(TileRowOffset(kTileHeight) == kTileBytes, "the eight rows fill a tile exactly");

// Where node (level, index) sits: tile (tile_level, tile_index), row, position in the row.
struct TilePlace {
  uint8_t tile_level = 0;
  uint64_t tile_index = 0;
  uint8_t row = 0;
  uint32_t position = 0;
};
inline constexpr TilePlace PlaceOfNode(uint8_t level, uint64_t index) {
  TilePlace p;
  p.tile_level = static_cast<uint8_t>(level / kTileHeight);
  p.row = static_cast<uint8_t>(level % kTileHeight);
  const uint8_t row_log2 = static_cast<uint8_t>(kTileHeight - p.row);  // nodes per row: 256 >> row
  p.tile_index = index >> row_log2;
  p.position = static_cast<uint32_t>(index & ((uint64_t{1} << row_log2) - 1));
  return p;
}

static_assert(PlaceOfNode(0, 700).tile_index == 2 && PlaceOfNode(0, 700).position == 188);
static_assert(PlaceOfNode(9, 1000).tile_level == 1 && PlaceOfNode(9, 1000).row == 1 &&
              PlaceOfNode(9, 1000).tile_index == 7 && PlaceOfNode(9, 1000).position == 104);

}  // namespace fundledger
