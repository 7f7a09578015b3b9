// A consistent copy of a data directory's RocksDB store, taken while `fundledger serve` writes it.
//
// The server holds the store's LOCK, so the copy reads it as a RocksDB secondary instance
// (DB::OpenAsSecondary): no lock, its own info files in `work_dir`, caught up with the server's
// MANIFEST and write-ahead log once, then frozen. What it sees is the store after some whole
// WriteBatch of the server, and every commit is one WriteBatch over all columns (log_format.h),
// so entries, tree, checkpoints, projections and domain state in the copy agree. It keeps every
// table file open (max_open_files = -1), so the server's compactions cannot delete one from
// under it. Rows are written into a fresh store, column by column; the vault's key rows
// (IsVaultKeyRow) go to `vault_rows` instead.
//
//   VaultRowsWriter rows(keys_dir + "/vault-rows");
//   FL_RETURN_IF_ERROR(rows.Open());
//   FL_ASSIGN_OR_RETURN(StoreCopyReport r, CopyLiveStore(dir, staging + "/store", work, rows));
//
// Either function from one thread at a time per destination.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "api/vault_rows_file.h"

namespace fundledger {

struct StoreCopyReport {
  uint64_t rows = 0;              // rows written to the new store
  uint64_t vault_rows_apart = 0;  // rows written to the vault rows file instead
};

// Copies the store of `data_dir` into a new store at `dest_store` (which must not exist).
Result<StoreCopyReport> CopyLiveStore(const std::string& data_dir, const std::string& dest_store,
                                      const std::string& work_dir, VaultRowsWriter& vault_rows);

// Writes `rows` into the vault column of the closed store at `store` (a restore's), durably.
Status PutVaultRows(const std::string& store,
                    const std::vector<std::pair<std::string, std::string>>& rows);

}  // namespace fundledger
