// Against a Patroni cluster from scripts/cluster (3 etcd, 3 PostgreSQL 15, strict synchronous
// replication): a writer appends commit groups while the primary's postmaster and Patroni are
// killed with SIGKILL, and the writer of a second log is in the middle of a group the size of
// a 100,000-line roll (50 chunk entries of 40 KB). Afterwards, on each log, every acknowledged
// group is on the new primary exactly once, nothing else is (the roll in flight is wholly there
// or wholly absent), and both writers found the new primary through the multi-host DSN.
// Prints the single-entry group latency, a 65,536-entry group's commit time and the failover
// time (kill to the first acknowledged group after it).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "tests/cluster/cluster_fixture.h"

namespace fundledger::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kLatencySamples = 200;
constexpr int kAcksBeforeKill = 20;
constexpr int kAcksAfterKill = 20;
constexpr auto kWriterRunMax = std::chrono::seconds(180);
constexpr auto kAckWait = std::chrono::seconds(150);
// A 100,000-line roll: 50 DisbursementBatchPrepared chunks of 2,000 lines.
constexpr size_t kRollEntries = 50;
constexpr size_t kRollEntryBytes = 40'000;
constexpr int kRollsBeforeKill = 2;
constexpr int kRollsAfterKill = 2;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Appends groups of `entries` entries until stopped, settling every group in doubt and retrying
// every group not committed; records the time of each acknowledgement.
class FailoverWriter {
 public:
  FailoverWriter(PgLogStore& store, TestWriterLog& log, uint64_t epoch, size_t entries = 100,
                 size_t entry_bytes = 200)
      : store_(store),
        log_(log),
        epoch_(epoch),
        entries_(entries),
        entry_bytes_(entry_bytes),
        thread_([this] { Run(); }) {}
  ~FailoverWriter() { Stop(); }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Waits until `count` groups were acknowledged after `since`; false after kAckWait.
  bool WaitForAcks(size_t count, Clock::time_point since) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kAckWait, [&] { return AcksAfter(since) >= count || done_; }) &&
           AcksAfter(since) >= count;
  }
  std::optional<Clock::time_point> FirstAckAfter(Clock::time_point since) {
    std::lock_guard lock(mu_);
    auto it = std::find_if(acks_.begin(), acks_.end(), [&](auto t) { return t > since; });
    return it == acks_.end() ? std::nullopt : std::optional(*it);
  }
  // Waits (bounded) until a group is being appended.
  bool WaitInFlight() {
    const auto deadline = Clock::now() + kAckWait;
    while (!in_flight_ && !done() && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return in_flight_;
  }
  const Status& fatal() const { return fatal_; }
  int in_doubt() const { return in_doubt_; }
  int not_committed() const { return not_committed_; }

 private:
  size_t AcksAfter(Clock::time_point since) const {
    return static_cast<size_t>(
        std::count_if(acks_.begin(), acks_.end(), [&](auto t) { return t > since; }));
  }
  // Ok when the group is in the log, whether acknowledged at once or settled.
  Status AppendOrSettle(const TestGroup& group, Clock::time_point deadline) {
    in_flight_ = true;
    Status s = store_.AppendGroup(group.request);
    in_flight_ = false;
    if (s.rule() != kCommitInDoubt) return s;
    ++in_doubt_;
    Result<SettleOutcome> settled = store_.SettleInDoubt(group.request);
    while (!settled.ok() && settled.status().rule() == kCommitInDoubt && Clock::now() < deadline) {
      settled = store_.SettleInDoubt(group.request);
    }
    if (!settled.ok()) return settled.status();
    if (settled->committed) return Status::Ok();
    return Status(IoError("settled: not in the log")).WithRule(std::string(kNotCommitted));
  }
  void Run() {
    const auto deadline = Clock::now() + kWriterRunMax;
    std::unique_ptr<TestGroup> group;
    while (!stop_ && Clock::now() < deadline) {
      if (!group) group = log_.Next(epoch_, entries_, entry_bytes_, true);
      Status s = AppendOrSettle(*group, deadline);
      if (s.rule() == kNotCommitted) {  // nothing appended: the same group again
        ++not_committed_;
        continue;
      }
      if (!s.ok()) {
        fatal_ = s;
        break;
      }
      log_.Acknowledged(*group);
      group.reset();
      std::lock_guard lock(mu_);
      acks_.push_back(Clock::now());
      cv_.notify_all();
    }
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  }

  PgLogStore& store_;
  TestWriterLog& log_;
  bool done() {
    std::lock_guard lock(mu_);
    return done_;
  }

  const uint64_t epoch_;
  const size_t entries_;
  const size_t entry_bytes_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> in_flight_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Clock::time_point> acks_;
  bool done_ = false;
  Status fatal_;
  int in_doubt_ = 0;
  int not_committed_ = 0;
  std::thread thread_;  // last: starts after every other member exists
};

void MeasureGroups(PgLogStore& writer, TestWriterLog& log, uint64_t epoch) {
  std::vector<double> latencies_ms;
  for (int i = 0; i < kLatencySamples; ++i) {
    auto group = log.Next(epoch, 1, 200, true);
    auto start = Clock::now();
    Status s = writer.AppendGroup(group->request);
    latencies_ms.push_back(MsSince(start));
    ASSERT_TRUE(s.ok()) << s.ToString();
    log.Acknowledged(*group);
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::printf("single-entry group with checkpoint: p50 %.2f ms, p99 %.2f ms (%d groups)\n",
              latencies_ms[latencies_ms.size() / 2], latencies_ms[latencies_ms.size() * 99 / 100],
              kLatencySamples);
  auto big = log.Next(epoch, kPgGroupEntriesMax, 1'600, true);
  auto start = Clock::now();
  Status s = writer.AppendGroup(big->request);
  std::printf("65,536-entry group (%.1f MB): %.0f ms\n", kPgGroupEntriesMax * 1'600 / 1e6,
              MsSince(start));
  ASSERT_TRUE(s.ok()) << s.ToString();
  log.Acknowledged(*big);
}

// A follower on a standby, where LISTEN is refused, sees a new group by re-reading the head.
void FollowOnAStandby(TestCluster& cluster, PgLogStore& writer, TestWriterLog& log,
                      uint64_t epoch) {
  std::vector<ClusterMember> members = cluster.Status();
  auto standby = std::find_if(members.begin(), members.end(),
                              [](const ClusterMember& m) { return m.role == "standby"; });
  ASSERT_NE(standby, members.end());
  auto follower = PgLogStore::Connect(
      {.dsn = cluster.dsn() + " host=127.0.0.1 port=" + std::to_string(standby->port) +
              " target_session_attrs=any",
       .origin = log.origin(),
       .read_only = true,
       .notify_poll_ms = 50});
  ASSERT_TRUE(follower.ok()) << follower.status().ToString();
  const uint64_t size = log.size();
  Result<LogHead> woke = NotFound("not yet");
  std::thread wait([&] { woke = (*follower)->WaitForEntries(size, 30'000); });
  auto group = log.Next(epoch, 5, 200, true);
  Status s = writer.AppendGroup(group->request);
  wait.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  log.Acknowledged(*group);
  ASSERT_TRUE(woke.ok()) << woke.status().ToString();
  EXPECT_EQ(woke->next_index, log.size());
  auto entries = (*follower)->ReadEntries(size, 10);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 5u);
  EXPECT_EQ(entries->back().leaf_hash, log.last_leaf_hash());
  auto checkpoint = (*follower)->LatestCheckpoint();
  ASSERT_TRUE(checkpoint.ok() && checkpoint->has_value());
  EXPECT_EQ((*checkpoint)->size, log.size());
}

// On the current primary: exactly the log's acknowledged entries, in order, each once.
void ExpectExactlyTheAcknowledged(TestCluster& cluster, const TestWriterLog& log) {
  auto reader = PgLogStore::Connect({.dsn = cluster.dsn(), .origin = log.origin()});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto head = (*reader)->Head();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->next_index, log.size()) << log.origin();
  EXPECT_EQ(head->last_leaf_hash, log.last_leaf_hash()) << log.origin();
  uint64_t index = 0;
  for (;;) {
    auto batch = (*reader)->ReadEntries(index, kPgReadEntriesMax);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    if (batch->empty()) break;
    for (const StoredEntry& e : *batch) {
      ASSERT_LT(e.index, log.size()) << log.origin() << ": an entry no one acknowledged";
      ASSERT_EQ(e.leaf_hash, log.leaves()[e.index]) << log.origin() << " entry " << e.index;
      ++index;
    }
  }
  EXPECT_EQ(index, log.size()) << log.origin();
}

TEST(PatroniCluster, AcknowledgedGroupsSurviveSigkillOfThePrimary) {
  std::string missing = MissingForCluster(/*patroni=*/true);
  if (!missing.empty()) GTEST_SKIP() << missing;
  TestCluster cluster;
  ASSERT_TRUE(cluster.ok());
  std::printf("scripts/cluster up: %lld ms\n", static_cast<long long>(cluster.up_time().count()));

  TestWriterLog log("test.example/failover");
  auto writer = PgLogStore::Connect({.dsn = cluster.dsn(), .origin = log.origin()});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  auto lease = (*writer)->AcquireWriter("node-a");
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  ASSERT_NO_FATAL_FAILURE(MeasureGroups(**writer, log, lease->epoch));
  ASSERT_NO_FATAL_FAILURE(FollowOnAStandby(cluster, **writer, log, lease->epoch));

  std::vector<ClusterMember> before = cluster.Status();
  auto primary = std::find_if(before.begin(), before.end(),
                              [](const ClusterMember& m) { return m.role == "primary"; });
  ASSERT_NE(primary, before.end());
  ASSERT_GT(primary->pid, 0);
  ASSERT_GT(primary->patroni_pid, 0);

  TestWriterLog roll_log("test.example/failover-roll");
  auto roll_writer = PgLogStore::Connect({.dsn = cluster.dsn(), .origin = roll_log.origin()});
  ASSERT_TRUE(roll_writer.ok()) << roll_writer.status().ToString();
  auto roll_lease = (*roll_writer)->AcquireWriter("node-r");
  ASSERT_TRUE(roll_lease.ok()) << roll_lease.status().ToString();

  FailoverWriter appender(**writer, log, lease->epoch);
  FailoverWriter rolls(**roll_writer, roll_log, roll_lease->epoch, kRollEntries, kRollEntryBytes);
  ASSERT_TRUE(appender.WaitForAcks(kAcksBeforeKill, Clock::time_point()))
      << appender.fatal().ToString();
  ASSERT_TRUE(rolls.WaitForAcks(kRollsBeforeKill, Clock::time_point())) << rolls.fatal().ToString();
  ASSERT_TRUE(rolls.WaitInFlight()) << rolls.fatal().ToString();  // the kill lands in a roll
  const auto killed_at = Clock::now();
  ASSERT_EQ(::kill(primary->patroni_pid, SIGKILL), 0);
  ASSERT_EQ(::kill(primary->pid, SIGKILL), 0);
  const bool carried_on = appender.WaitForAcks(kAcksAfterKill, killed_at);
  const bool rolls_carried_on = rolls.WaitForAcks(kRollsAfterKill, killed_at);
  appender.Stop();
  rolls.Stop();
  ASSERT_TRUE(appender.fatal().ok()) << appender.fatal().ToString();
  ASSERT_TRUE(rolls.fatal().ok()) << rolls.fatal().ToString();
  ASSERT_TRUE(carried_on) << "no " << kAcksAfterKill << " groups acknowledged after the kill";
  ASSERT_TRUE(rolls_carried_on) << "no " << kRollsAfterKill << " rolls acknowledged after the kill";
  std::printf("rolls: %d in doubt, %d not committed and retried\n", rolls.in_doubt(),
              rolls.not_committed());
  std::printf(
      "failover: first group acknowledged %.1f s after the kill of %s (%d in doubt, %d "
      "not committed and retried)\n",
      std::chrono::duration<double>(*appender.FirstAckAfter(killed_at) - killed_at).count(),
      primary->name.c_str(), appender.in_doubt(), appender.not_committed());
  EXPECT_GE((*writer)->connections_made(), 2u);

  std::vector<ClusterMember> after = cluster.Status();
  auto new_primary = std::find_if(after.begin(), after.end(),
                                  [](const ClusterMember& m) { return m.role == "primary"; });
  ASSERT_NE(new_primary, after.end());
  EXPECT_NE(new_primary->name, primary->name);

  // Each roll was acknowledged whole or is wholly absent, on both logs.
  ASSERT_NO_FATAL_FAILURE(ExpectExactlyTheAcknowledged(cluster, log));
  ASSERT_NO_FATAL_FAILURE(ExpectExactlyTheAcknowledged(cluster, roll_log));

  // scripts/cluster up brings the killed member back, as a standby of the new primary.
  ASSERT_TRUE(cluster.Up());
  std::vector<ClusterMember> rejoined = cluster.Status();
  auto old_primary = std::find_if(rejoined.begin(), rejoined.end(),
                                  [&](const ClusterMember& m) { return m.name == primary->name; });
  ASSERT_NE(old_primary, rejoined.end());
  EXPECT_EQ(old_primary->role, "standby");
  std::printf("the killed member rejoined in %lld ms\n",
              static_cast<long long>(cluster.up_time().count()));
}

}  // namespace
}  // namespace fundledger::testing
