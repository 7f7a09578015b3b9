// A fresh directory under the system temp dir, removed when the object goes away, together with
// its sibling `<path>.keys` (where a ledger created at path() keeps its vault key). Shared by
// every suite; depends on nothing of the project's.
#pragma once

#include <string>

namespace fundledger::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace fundledger::testing
