// The vault rows a backup keeps apart from the data: every person's sealed key (vault row "k/...")
// and the ID-number index ("i/..."), written beside the vault's master key instead of into the
// backup directory (api/cli_backup.h says why). Each backup replaces the file whole, so a person
// erased before it is in no copy of it, and the records the backups keep ("d/...", sealed under
// those keys) open for no one.
//
// Format, written once by VaultRowsWriter and read by ReadVaultRows:
//   "fundledger-vault-rows-v1\n"
//   rows:   u32 key bytes | key | u32 value bytes | value        (big-endian lengths)
//   end:    0xFFFFFFFF | SHA-256 of every byte before this one (32 bytes)
// The file is created 0600 beside its final name and renamed over it after an fsync.
//
//   VaultRowsWriter rows(path);
//   FL_RETURN_IF_ERROR(rows.Open());
//   FL_RETURN_IF_ERROR(rows.Add(key, value));  ...
//   FL_RETURN_IF_ERROR(rows.Commit());
//
// Not thread-safe: one writer, from one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/sha256.h"
#include "crypto/status.h"

namespace fundledger {

// Rows of the vault column that a backup keeps apart: a person's key, the ID index.
bool IsVaultKeyRow(std::string_view vault_key);

inline constexpr uint32_t kVaultRowBytesMax = 64 << 10;  // a key or a value; real rows are < 300

class VaultRowsWriter {
 public:
  explicit VaultRowsWriter(std::string path);
  ~VaultRowsWriter();  // removes the unfinished file unless Commit succeeded
  VaultRowsWriter(const VaultRowsWriter&) = delete;
  VaultRowsWriter& operator=(const VaultRowsWriter&) = delete;

  Status Open();
  Status Add(std::string_view key, std::string_view value);
  // Writes the digest, syncs, and renames the file over `path`.
  Status Commit();
  uint64_t rows() const { return rows_; }
  const std::string& path() const { return path_; }

 private:
  Status Write(std::string_view bytes);

  const std::string path_;
  const std::string partial_path_;
  int fd_ = -1;
  Sha256 digest_;
  uint64_t rows_ = 0;
  bool committed_ = false;
};

// Reads and checks a file VaultRowsWriter wrote: Corruption naming the file when it is cut
// short, altered or not one.
Result<std::vector<std::pair<std::string, std::string>>> ReadVaultRows(const std::string& path);

// Rewrites the file at `path` without `subject`'s key row and the index rows naming it (erase);
// the number of rows dropped. A missing file drops nothing.
Result<uint64_t> DropSubjectFromVaultRows(const std::string& path, std::string_view subject);

}  // namespace fundledger
