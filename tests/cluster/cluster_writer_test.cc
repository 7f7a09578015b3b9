// The ledger's log with its log of record in PostgreSQL (cluster mode's writer): every commit
// group is in PostgreSQL, byte for byte as hashed with its signed checkpoint, before the local
// store has it; a writer another node superseded appends nothing, anywhere, and steps down.
#include <gtest/gtest.h>

#include <future>
#include <vector>

#include "cluster/pg_log_of_record.h"
#include "ledger/log.h"
#include "tests/cluster/cluster_fixture.h"

namespace fundledger::testing {
namespace {

class ClusterWriterTest : public PostgresSuite {
 protected:
  // A record holding node-a's writer lease; counts its step-downs.
  std::unique_ptr<PgLogOfRecord> Record(const std::string& origin) {
    std::unique_ptr<PgLogStore> store = Store(origin);
    if (store == nullptr) return nullptr;
    Result<WriterLease> lease = store->AcquireWriter("node-a");
    EXPECT_TRUE(lease.ok()) << lease.status().ToString();
    if (!lease.ok()) return nullptr;
    return std::make_unique<PgLogOfRecord>(std::move(store), lease->epoch,
                                           [this](const Status&) { ++step_downs_; });
  }

  static std::unique_ptr<Log> CreateLog(const std::string& dir, const std::string& origin,
                                        LogOfRecord* record) {
    LogOptions options;
    options.log_of_record = record;
    Result<std::unique_ptr<Log>> log = Log::Create(dir, origin, options);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }

  int step_downs_ = 0;
};

TEST_F(ClusterWriterTest, EveryGroupIsInPostgresAsHashedWithItsCheckpoint) {
  const std::string origin = "test.example/cluster-writer";
  TempDir dir;
  std::unique_ptr<PgLogOfRecord> record = Record(origin);
  ASSERT_NE(record, nullptr);
  std::unique_ptr<Log> log = CreateLog(dir.path(), origin, record.get());
  ASSERT_NE(log, nullptr);
  // Concurrent submissions, so that groups hold more than one.
  std::vector<std::future<Result<AppendResult>>> posted;
  for (int i = 0; i < 40; ++i)
    posted.push_back(log->Submit(MemoSubmission("k" + std::to_string(i), {"memo", "two"})));
  for (auto& f : posted) ASSERT_TRUE(f.get().ok());
  ASSERT_EQ(log->size(), 81u);

  std::vector<StoredEntry> stored = ReadAll(origin);
  ASSERT_EQ(stored.size(), log->size());
  for (uint64_t i = 0; i < stored.size(); ++i) {
    ASSERT_EQ(stored[i].index, i);
    ASSERT_EQ(stored[i].bytes, *log->ReadEntry(i)) << "entry " << i;
  }
  auto latest = Store(origin, true)->LatestCheckpoint();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->size, log->size());
  EXPECT_EQ((*latest)->note, *log->LatestCheckpoint());

  // A retry with the same key answers from the local index and appends nothing anywhere.
  Result<AppendResult> again = log->Append(MemoSubmission("k7", {"memo", "two"}));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(Store(origin, true)->Head()->next_index, 81u);
  EXPECT_TRUE(log->Close().ok());
  EXPECT_EQ(step_downs_, 0);
}

TEST_F(ClusterWriterTest, ASupersededWriterAppendsNothingAndStepsDown) {
  const std::string origin = "test.example/cluster-stale-writer";
  TempDir dir;
  std::unique_ptr<PgLogOfRecord> record = Record(origin);
  ASSERT_NE(record, nullptr);
  std::unique_ptr<Log> log = CreateLog(dir.path(), origin, record.get());
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(MemoSubmission("before", {"one"})).ok());

  // Another node takes over (ending this one's session, as after a pause).
  std::unique_ptr<PgLogStore> other = Store(origin);
  ASSERT_NE(other, nullptr);
  Result<WriterLease> lease = other->AcquireWriter("node-b", /*evict_holder=*/true);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_EQ(lease->head.next_index, 2u);

  Result<AppendResult> stale = log->Append(MemoSubmission("after", {"two"}));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), StatusCode::kOverloaded);
  EXPECT_EQ(stale.status().rule(), kWriterFenced);
  EXPECT_EQ(log->size(), 2u);  // not in the local store either
  EXPECT_EQ(Store(origin, true)->Head()->next_index, 2u);
  EXPECT_TRUE(record->stepped_down());
  EXPECT_EQ(step_downs_, 1);
  // Stays down: a later submission is refused the same way, and the step-down is told once.
  EXPECT_EQ(log->Append(MemoSubmission("later", {"three"})).status().rule(), kWriterFenced);
  EXPECT_EQ(step_downs_, 1);
  EXPECT_EQ(ReadAll(origin).size(), 2u);
}

}  // namespace
}  // namespace fundledger::testing
