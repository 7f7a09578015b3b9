// ScanEntriesAhead reads on a second thread; what fn sees must not differ from ScanEntries:
// the same entries in the same order, and an error from either side stops at the same entry.
#include "ledger/log_source.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace fundledger {
namespace {

// Entries of varying sizes (some empty, some odd-sized) held in memory; fails reading `broken`.
class FakeSource final : public LogSource {
 public:
  FakeSource(uint64_t size, uint64_t broken) : broken_(broken) {
    for (uint64_t i = 0; i < size; ++i)
      entries_.push_back(std::string(i % 37, static_cast<char>('a' + i % 26)) + std::to_string(i));
  }
  explicit FakeSource(std::vector<std::string> entries)
      : entries_(std::move(entries)), broken_(~0ull) {}
  Result<Hash> ReadNode(uint8_t, uint64_t) const override { return NotFound("no tree"); }
  uint64_t size() const override { return entries_.size(); }
  Status ScanEntries(uint64_t begin, uint64_t end,
                     const std::function<Status(uint64_t, ByteView)>& fn) const override {
    for (uint64_t i = begin; i < std::min<uint64_t>(end, entries_.size()); ++i) {
      if (i == broken_) return Corruption("entry " + std::to_string(i) + " is unreadable");
      FL_RETURN_IF_ERROR(fn(i, AsBytes(entries_[i])));
    }
    return Status::Ok();
  }
  Status ScanCheckpoints(const std::function<Status(uint64_t, std::string_view)>&) const override {
    return Status::Ok();
  }

 private:
  std::vector<std::string> entries_;
  uint64_t broken_;
};

struct Seen {
  std::vector<uint64_t> indexes;
  std::vector<std::string> bodies;
};

Status Collect(const FakeSource& source, uint64_t begin, uint64_t end, bool ahead, Seen* seen,
               uint64_t fail_at = ~0ull) {
  auto fn = [&](uint64_t i, ByteView bytes, const Hash& leaf) -> Status {
    EXPECT_EQ(leaf, HashLeaf(bytes)) << "entry " << i;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(bytes.data()) % 8, 0u)
        << "entry " << i << " is not aligned";
    if (i == fail_at) return RuleViolation("stop at " + std::to_string(i));
    seen->indexes.push_back(i);
    seen->bodies.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return Status::Ok();
  };
  if (ahead) return ScanEntriesAhead(source, begin, end, fn);
  return source.ScanEntries(
      begin, end, [&](uint64_t i, ByteView bytes) { return fn(i, bytes, HashLeaf(bytes)); });
}

TEST(ScanEntriesAhead, SeesWhatScanEntriesSeesForShortAndLongRanges) {
  FakeSource source(10'000, ~0ull);
  for (auto [begin, end] : std::vector<std::pair<uint64_t, uint64_t>>{
           {0, 0}, {0, 10}, {5, 300}, {0, 10'000}, {4095, 8193}, {9'000, 20'000}}) {
    Seen direct, ahead;
    ASSERT_TRUE(Collect(source, begin, end, false, &direct).ok());
    ASSERT_TRUE(Collect(source, begin, end, true, &ahead).ok());
    EXPECT_EQ(ahead.indexes, direct.indexes) << begin << ".." << end;
    EXPECT_EQ(ahead.bodies, direct.bodies) << begin << ".." << end;
  }
}

TEST(ScanEntriesAhead, TheCallersErrorStopsTheScanAndIsReturned) {
  FakeSource source(20'000, ~0ull);
  Seen seen;
  Status s = Collect(source, 0, 20'000, true, &seen, 5'000);
  EXPECT_EQ(s.code(), StatusCode::kRuleViolation);
  EXPECT_EQ(s.message(), "stop at 5000");
  ASSERT_EQ(seen.indexes.size(), 5'000u);
  EXPECT_EQ(seen.indexes.back(), 4'999u);
}

// The reading thread fills batches of about 1 MiB and reuses those the caller is done with:
// large entries, one larger than any batch keeps room for, and many more bytes than the
// batches in flight hold must all arrive whole, none overwritten by a later batch.
TEST(ScanEntriesAhead, LargeEntriesArriveWholeThroughReusedBatches) {
  std::vector<std::string> entries;
  for (uint64_t i = 0; i < 400; ++i) {
    const size_t bytes = i == 150 ? 1'500'000 : (i % 3 == 0 ? 60'000 + i : i % 50);
    entries.push_back(std::string(bytes, static_cast<char>('a' + i % 26)) + std::to_string(i));
  }
  FakeSource source(std::move(entries));
  Seen direct, ahead;
  ASSERT_TRUE(Collect(source, 0, 400, false, &direct).ok());
  ASSERT_TRUE(Collect(source, 0, 400, true, &ahead).ok());
  EXPECT_EQ(ahead.indexes, direct.indexes);
  EXPECT_EQ(ahead.bodies, direct.bodies);
}

TEST(ScanEntriesAhead, AReadErrorComesAfterEveryEntryBeforeIt) {
  for (uint64_t broken : {0ull, 700ull, 4096ull, 9'999ull}) {
    FakeSource source(10'000, broken);
    Seen seen;
    Status s = Collect(source, 0, 10'000, true, &seen);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << broken;
    EXPECT_EQ(s.message(), "entry " + std::to_string(broken) + " is unreadable");
    EXPECT_EQ(seen.indexes.size(), broken);
  }
}

}  // namespace
}  // namespace fundledger
