// AccessLog: who looked people up, kept beside the store (`DIR/access.log`, 0600), one JSON
// line per search, appended and synced before the answer is sent:
//
//   {"ts_ms": 1764979200000, "actor": "clerk.li", "role": "maker", "search": "name",
//    "results": 2}
//
// `search` is the kind ("name" or "id_number"); nothing of what was searched for is written:
// a name, a number, even a keyed hash of either, is personal data (a hash of a name can be
// tested against guesses), and this file outlives erasures. The actor, the kind, the time and
// the count are what an auditor needs to ask "who searched, how often, and found whom".
//
// Why a file and not log entries: a search is a read. An entry per search would make every GET
// a write (an Idempotency-Key, a signature, refused on a read-only store), copy staff habits
// into every audit bundle and witness forever, and grow the log of public money with reads.
// The file is append-only (O_APPEND, never rewritten) and read by `GET /v1/access-log`.
//
// Thread safety: Record may be called from many threads; each line is one write(2).
//
//   AccessLog log(dir + "/access.log");
//   FL_RETURN_IF_ERROR(log.Record(who, "name", rows.size(), now_ms));
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "api/tokens.h"
#include "crypto/mutex.h"

namespace fundledger {

class AccessLog {
 public:
  explicit AccessLog(std::string path) : path_(std::move(path)) {}

  // Appends one line and syncs it; an error means the search must not be answered.
  Status Record(const Principal& who, std::string_view search, uint64_t results, int64_t ts_ms);
  // The newest `lines_max` lines, oldest first ("" when nothing was recorded yet).
  Result<std::string> Tail(size_t lines_max) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  mutable Mutex mu_;  // one append at a time, so lines never interleave within this process
};

}  // namespace fundledger
