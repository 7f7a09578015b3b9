#include "api/store_copy.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <memory>

#include "ledger/log_format.h"

namespace fundledger {
namespace {

// Rows of one column written per batch into the new store.
constexpr size_t kCopyBatchBytesMax = 4 << 20;
// Opens of the secondary: one can fail when the server deletes a file (a finished write-ahead
// log, a compacted table) between reading the MANIFEST and opening the file; the next sees the
// MANIFEST that no longer names it.
constexpr int kSecondaryOpenAttemptsMax = 8;

Status Rocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNoSpace()) return IoError(what + ": the disk is full (" + s.ToString() + ")");
  return IoError(what + ": " + s.ToString());
}

// A store opened with all its column families; closes them and the store on destruction.
class OpenStore {
 public:
  ~OpenStore() {
    if (!db_) return;
    for (rocksdb::ColumnFamilyHandle* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close().PermitUncheckedError();
  }
  // `secondary_dir` empty: a writable open that creates the store and its columns.
  Status Open(const std::string& store, const std::vector<std::string>& columns,
              const std::string& secondary_dir) {
    rocksdb::Options options;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const std::string& name : columns) cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* db = nullptr;
    rocksdb::Status s;
    if (secondary_dir.empty()) {
      options.create_if_missing = true;
      options.create_missing_column_families = true;
      s = rocksdb::DB::Open(options, store, cfs, &handles_, &db);
    } else {
      options.max_open_files = -1;  // keeps every table it read open (see the header)
      s = rocksdb::DB::OpenAsSecondary(options, store, secondary_dir, cfs, &handles_, &db);
      if (s.ok()) s = db->TryCatchUpWithPrimary();
    }
    db_.reset(db);
    names_ = columns;
    return Rocks(s, "cannot open the store " + store);
  }
  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* column(size_t i) const { return handles_[i]; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::vector<std::string> names_;
};

Result<std::vector<std::string>> ColumnNames(const std::string& store) {
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), store, &names);
  if (!s.ok()) {
    if (!std::filesystem::exists(store)) return NotFound("no ledger store at " + store);
    return Rocks(s, "cannot read the columns of the store " + store);
  }
  return names;
}

Result<std::unique_ptr<OpenStore>> OpenSecondary(const std::string& store,
                                                 const std::vector<std::string>& columns,
                                                 const std::string& work_dir) {
  Status last;
  for (int attempt = 0; attempt < kSecondaryOpenAttemptsMax; ++attempt) {
    auto source = std::make_unique<OpenStore>();
    last = source->Open(store, columns, work_dir);
    if (last.ok()) return source;
  }
  return last;
}

Status WriteSync(OpenStore& dest, rocksdb::WriteBatch& batch) {
  rocksdb::WriteOptions options;
  options.sync = true;
  Status s = Rocks(dest.db()->Write(options, &batch), "cannot write the copy");
  batch.Clear();
  return s;
}

// Copies column `i` of `source` into the same column of `dest`.
Status CopyColumn(const OpenStore& source, OpenStore& dest, size_t i, VaultRowsWriter& vault_rows,
                  StoreCopyReport& report) {
  const bool vault = source.names()[i] == kVaultColumn;
  rocksdb::ReadOptions read;
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(source.db()->NewIterator(read, source.column(i)));
  rocksdb::WriteBatch batch;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key = it->key().ToStringView(), value = it->value().ToStringView();
    if (vault && IsVaultKeyRow(key)) {
      FL_RETURN_IF_ERROR(vault_rows.Add(key, value));
      ++report.vault_rows_apart;
      continue;
    }
    FL_RETURN_IF_ERROR(Rocks(batch.Put(dest.column(i), it->key(), it->value()), "copy"));
    ++report.rows;
    if (batch.GetDataSize() >= kCopyBatchBytesMax) FL_RETURN_IF_ERROR(WriteSync(dest, batch));
  }
  FL_RETURN_IF_ERROR(Rocks(it->status(), "cannot read column " + source.names()[i]));
  return WriteSync(dest, batch);
}

}  // namespace

Result<StoreCopyReport> CopyLiveStore(const std::string& data_dir, const std::string& dest_store,
                                      const std::string& work_dir, VaultRowsWriter& vault_rows) {
  if (std::filesystem::exists(dest_store)) return Conflict(dest_store + " already exists");
  FL_ASSIGN_OR_RETURN(std::vector<std::string> columns, ColumnNames(StorePath(data_dir)));
  FL_ASSIGN_OR_RETURN(std::unique_ptr<OpenStore> source,
                      OpenSecondary(StorePath(data_dir), columns, work_dir));
  OpenStore dest;
  FL_RETURN_IF_ERROR(dest.Open(dest_store, columns, ""));
  StoreCopyReport report;
  for (size_t i = 0; i < columns.size(); ++i)
    FL_RETURN_IF_ERROR(CopyColumn(*source, dest, i, vault_rows, report));
  return report;
}

Status PutVaultRows(const std::string& store,
                    const std::vector<std::pair<std::string, std::string>>& rows) {
  FL_ASSIGN_OR_RETURN(std::vector<std::string> columns, ColumnNames(store));
  size_t vault = columns.size();
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == kVaultColumn) vault = i;
  }
  if (vault == columns.size()) return Corruption("the store " + store + " has no vault column");
  OpenStore dest;
  FL_RETURN_IF_ERROR(dest.Open(store, columns, ""));
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : rows) {
    if (!IsVaultKeyRow(key)) return Corruption("the vault rows file holds a row " + key);
    FL_RETURN_IF_ERROR(Rocks(batch.Put(dest.column(vault), key, value), "restore vault rows"));
    if (batch.GetDataSize() >= kCopyBatchBytesMax) FL_RETURN_IF_ERROR(WriteSync(dest, batch));
  }
  return WriteSync(dest, batch);
}

}  // namespace fundledger
