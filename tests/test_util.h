// Helpers shared by the test suites: temporary data directories, memo entries, running the
// CLI, and opening a store's RocksDB directly to tamper with it as an attacker would.
#pragma once

#include <rocksdb/db.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ledger/log.h"
#include "tests/temp_dir.h"

namespace fundledger::testing {

NewEntry MemoEntry(const std::string& text, const std::string& actor = "clerk.li");
Submission MemoSubmission(const std::string& key, const std::vector<std::string>& texts);
// Options that open a log read-only (to verify it as an auditor would).
inline LogOptions ReadOnlyLog() {
  LogOptions o;
  o.read_only = true;
  return o;
}

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};
// Runs a shell command line, capturing its output.
CommandResult RunCommand(const std::string& command_line);
std::string CliPath();

// The store's RocksDB opened read-write with all column families, for tampering.
class RawStore {
 public:
  explicit RawStore(const std::string& data_dir);
  ~RawStore();
  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(const std::string& name);
  std::string Get(const std::string& cf_name, const std::string& key);
  void Put(const std::string& cf_name, const std::string& key, const std::string& value);
  void Delete(const std::string& cf_name, const std::string& key);
  std::vector<std::string> Keys(const std::string& cf_name);

  // An entry's bytes wherever the store keeps them (its single value or its bundle).
  std::string GetEntry(uint64_t index);
  // Replaces or deletes entry `index`; a bundle holding it is first split into singles (a form
  // the log reads), so only that entry changes.
  void PutEntry(uint64_t index, const std::string& bytes);
  void DeleteEntry(uint64_t index);
  // Rewrites the store as a build before entry bundles wrote it: every entry its own value,
  // format kLogFormatSingles.
  void RewriteAsSingles();

 private:
  void SplitBundle(uint64_t first_index);

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::vector<std::string> names_;
};

}  // namespace fundledger::testing
