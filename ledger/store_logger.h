// StoreLogger: RocksDB's info log for the store, written to stderr instead of a LOG file in the
// data directory.
//
// RocksDB's own file logger sits on the data disk's failure path: when the disk is full its
// buffered file writer fails, and in builds that keep assertions (Debian's librocksdb) it then
// aborts the process. This logger never touches the data disk, never asserts, and drops a line
// it cannot write (counted in dropped_lines()). Lines below `level` are not formatted at all;
// the default keeps warnings and errors (a full disk, a failed compaction), not RocksDB's
// routine chatter.
//
// Thread safety: RocksDB calls Logv from any of its threads; each line (newlines inside a
// message become spaces) is one write(2), so lines from different threads never interleave.
//
//   db_options.info_log = std::make_shared<StoreLogger>();
#pragma once

#include <rocksdb/env.h>

#include <atomic>
#include <cstdarg>
#include <cstdint>

namespace fundledger {

class StoreLogger final : public rocksdb::Logger {
 public:
  static constexpr size_t kLineBytesMax = 1024;  // longer lines are cut

  explicit StoreLogger(rocksdb::InfoLogLevel level = rocksdb::InfoLogLevel::WARN_LEVEL, int fd = 2);

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  uint64_t dropped_lines() const { return dropped_.load(std::memory_order_relaxed); }

 protected:
  rocksdb::Status CloseImpl() override { return rocksdb::Status::OK(); }  // nothing to close

 private:
  const int fd_;
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace fundledger
