#include "tests/temp_dir.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

namespace fundledger::testing {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  std::filesystem::path base = std::filesystem::temp_directory_path();
  path_ = (base / ("fundledger_test_" + std::to_string(::getpid()) + "_" +
                   std::to_string(counter.fetch_add(1))))
              .string();
  std::filesystem::remove_all(path_);
  std::filesystem::remove_all(path_ + ".keys");
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  // A ledger created at path() itself keeps its vault key beside it (ledger/vault.h).
  std::filesystem::remove_all(path_ + ".keys", ec);
}

}  // namespace fundledger::testing
