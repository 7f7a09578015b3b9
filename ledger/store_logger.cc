#include "ledger/store_logger.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace fundledger {

StoreLogger::StoreLogger(rocksdb::InfoLogLevel level, int fd) : rocksdb::Logger(level), fd_(fd) {}

void StoreLogger::Logv(const char* format, va_list ap) {
  static constexpr char kPrefix[] = "rocksdb: ";
  char line[kLineBytesMax];
  size_t used = sizeof kPrefix - 1;
  std::copy(kPrefix, kPrefix + used, line);
  // The terminating NUL's place takes the newline.
  int n = std::vsnprintf(line + used, sizeof line - used, format, ap);
  if (n < 0) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  size_t end = used + std::min(static_cast<size_t>(n), sizeof line - used - 1);
  std::replace(line + used, line + end, '\n', ' ');  // RocksDB's multi-line dumps stay one line
  used = end;
  line[used++] = '\n';
  ssize_t written = ::write(fd_, line, used);
  if (written != static_cast<ssize_t>(used)) dropped_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace fundledger
