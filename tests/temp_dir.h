// A fresh directory under the system temp dir, removed when the object goes away. Shared by
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
