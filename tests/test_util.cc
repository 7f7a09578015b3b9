#include "tests/test_util.h"

#include <gtest/gtest.h>
#include <rocksdb/write_batch.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

namespace fundledger::testing {

NewEntry MemoEntry(const std::string& text, const std::string& actor) {
  return NewEntry{actor, fb::Role::admin, fb::EventType::Memo, EncodeMemo(text, "ref")};
}

Submission MemoSubmission(const std::string& key, const std::vector<std::string>& texts) {
  Submission s;
  s.idempotency_key = key;
  for (const std::string& t : texts) s.entries.push_back(MemoEntry(t));
  return s;
}

CommandResult RunCommand(const std::string& command_line) {
  CommandResult result;
  FILE* pipe = ::popen((command_line + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) result.out.append(buf, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string CliPath() { return FUNDLEDGER_CLI_PATH; }

RawStore::RawStore(const std::string& data_dir) {
  rocksdb::Options options;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  names_ = {rocksdb::kDefaultColumnFamilyName,
            kEntriesColumn,
            kTreeColumn,
            kIdempotencyColumn,
            kMetaColumn,
            kCheckpointsColumn,
            kProjectionsColumn,
            kVaultColumn};
  for (const std::string& n : names_) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, StorePath(data_dir), cfs, &handles_, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  db_.reset(db);
}

RawStore::~RawStore() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close().PermitUncheckedError();
}

rocksdb::ColumnFamilyHandle* RawStore::cf(const std::string& name) {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return handles_[i];
  }
  ADD_FAILURE() << "no column family " << name;
  return handles_[0];
}

std::string RawStore::Get(const std::string& cf_name, const std::string& key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(cf_name), key, &value);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return value;
}

void RawStore::Put(const std::string& cf_name, const std::string& key, const std::string& value) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  EXPECT_TRUE(db_->Put(wo, cf(cf_name), key, value).ok());
}

void RawStore::Delete(const std::string& cf_name, const std::string& key) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  EXPECT_TRUE(db_->Delete(wo, cf(cf_name), key).ok());
}

std::vector<std::string> RawStore::Keys(const std::string& cf_name) {
  std::vector<std::string> keys;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(cf_name)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
  return keys;
}

std::string RawStore::GetEntry(uint64_t index) {
  std::string value;
  if (db_->Get(rocksdb::ReadOptions(), cf(kEntriesColumn), EntryKey(index), &value).ok())
    return value;
  std::string bundle = Get(kEntriesColumn, BundleKey(BundleStart(index)));
  Result<std::vector<Bytes>> entries = DecodeEntryBundle(AsBytes(bundle), kBundleEntries);
  EXPECT_TRUE(entries.ok() && entries->size() == kBundleEntries);
  if (!entries.ok() || entries->size() != kBundleEntries) return "";
  const Bytes& e = (*entries)[index - BundleStart(index)];
  return std::string(e.begin(), e.end());
}

void RawStore::SplitBundle(uint64_t first_index) {
  std::string bundle;
  if (!db_->Get(rocksdb::ReadOptions(), cf(kEntriesColumn), BundleKey(first_index), &bundle).ok())
    return;
  Result<std::vector<Bytes>> entries = DecodeEntryBundle(AsBytes(bundle), kBundleEntries);
  ASSERT_TRUE(entries.ok());
  rocksdb::WriteBatch batch;
  batch.Delete(cf(kEntriesColumn), BundleKey(first_index));
  for (size_t i = 0; i < entries->size(); ++i) {
    const Bytes& e = (*entries)[i];
    batch.Put(cf(kEntriesColumn), EntryKey(first_index + i),
              rocksdb::Slice(reinterpret_cast<const char*>(e.data()), e.size()));
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  ASSERT_TRUE(db_->Write(wo, &batch).ok());
}

void RawStore::PutEntry(uint64_t index, const std::string& bytes) {
  SplitBundle(BundleStart(index));
  Put(kEntriesColumn, EntryKey(index), bytes);
}

void RawStore::DeleteEntry(uint64_t index) {
  SplitBundle(BundleStart(index));
  Delete(kEntriesColumn, EntryKey(index));
}

void RawStore::RewriteAsSingles() {
  for (const std::string& key : Keys(kEntriesColumn)) {
    std::optional<EntriesKey> k = ParseEntriesKey(key);
    ASSERT_TRUE(k.has_value());
    if (k->bundle) SplitBundle(k->first_index);
  }
  Put(kMetaColumn, kMetaFormat, std::string(kLogFormatSingles));
}

}  // namespace fundledger::testing
