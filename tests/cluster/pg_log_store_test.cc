// PgLogStore against one PostgreSQL 15 instance the suite starts itself: entries come back
// byte for byte, a superseded writer appends nothing, a 65,536-entry group is all or nothing,
// a checkpoint goes in with its group, a COMMIT that drew a warning is not acknowledged until
// settled, and a follower wakes on the append's NOTIFY.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "ledger/entry_codec.h"
#include "tests/cluster/cluster_fixture.h"

namespace fundledger::testing {
namespace {

static_assert(kPgEntryBytesMax == kEntryBytesMax, "the table takes every entry the log makes");

constexpr auto kBackendWait = std::chrono::seconds(120);

// The pid of the one backend matching `where` (a condition on pg_stat_activity), once there is
// one; 0 (and a failure) if none appears within kBackendWait.
int WaitForBackend(PgConnection& admin, const std::string& where) {
  auto deadline = std::chrono::steady_clock::now() + kBackendWait;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = admin.Exec("SELECT pid FROM pg_stat_activity WHERE " + where, DeadlineAfterMs(5'000));
    if (r.ok() && r->Rows() == 1) return r->Int32(0, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "no backend where " << where;
  return 0;
}

void Sql(PgConnection& admin, const std::string& sql) {
  Result<PgResult> r = admin.Exec(sql, DeadlineAfterMs(30'000));
  ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
}

class PgLogStoreTest : public PostgresSuite {
 protected:
  static std::unique_ptr<PgLogStore> Open(const std::string& origin, bool read_only = false,
                                          const std::string& dsn_extra = "",
                                          int64_t notify_poll_ms = kPgNotifyPollMs) {
    auto store = PgLogStore::Connect({.dsn = pg_->dsn() + dsn_extra,
                                      .origin = origin,
                                      .read_only = read_only,
                                      .reconnect_wait_ms = 10'000,
                                      .notify_poll_ms = notify_poll_ms});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  struct Writer {
    std::unique_ptr<PgLogStore> store;  // null when the lease could not be had
    WriterLease lease;
  };
  // A store of the log holding the writer lease of node-a.
  static Writer StartWriter(const std::string& origin) {
    Writer w{Open(origin), {}};
    if (w.store == nullptr) return w;
    auto lease = w.store->AcquireWriter("node-a");
    EXPECT_TRUE(lease.ok()) << lease.status().ToString();
    if (lease.ok()) {
      w.lease = *lease;
    } else {
      w.store.reset();
    }
    return w;
  }

  // Every entry of the log as a follower reads it.
  static std::vector<StoredEntry> ReadAll(const std::string& origin) {
    std::vector<StoredEntry> all;
    auto follower = Open(origin, /*read_only=*/true);
    for (;;) {
      auto batch = follower->ReadEntries(all.size(), kPgReadEntriesMax);
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok() || batch->empty()) return all;
      for (StoredEntry& e : *batch) all.push_back(std::move(e));
    }
  }
};

TEST_F(PgLogStoreTest, EntriesReadBackByteForByteInOrder) {
  TestWriterLog log("test.example/round-trip");
  Writer w = StartWriter(log.origin());
  ASSERT_NE(w.store, nullptr);
  EXPECT_EQ(w.lease.head.next_index, 0u);
  EXPECT_EQ(w.lease.head.last_leaf_hash, Hash{});  // entry 0's prev hash

  std::vector<std::unique_ptr<TestGroup>> groups;
  auto append = [&](std::unique_ptr<TestGroup> g) {
    Status s = w.store->AppendGroup(g->request);
    ASSERT_TRUE(s.ok()) << s.ToString();
    log.Acknowledged(*g);
    groups.push_back(std::move(g));
  };
  ASSERT_NO_FATAL_FAILURE(append(log.Next(w.lease.epoch, 1, 200, false)));
  ASSERT_NO_FATAL_FAILURE(append(log.Next(w.lease.epoch, 1'000, 300, false)));
  // Bytes a text protocol would mangle: NUL, 0xff, a backslash, an escape sequence.
  ASSERT_NO_FATAL_FAILURE(
      append(log.NextWith(w.lease.epoch, {{0x00}, {0xff, 0x00, '\\', 'x', '0', '0'}}, false)));
  ASSERT_NO_FATAL_FAILURE(append(log.Next(w.lease.epoch, 37, kPgEntryBytesMax, true)));
  // Either side of the size where a group goes as one statement rather than COPY.
  ASSERT_NO_FATAL_FAILURE(append(log.Next(w.lease.epoch, kPgOneStatementEntriesMax, 90, true)));
  ASSERT_NO_FATAL_FAILURE(
      append(log.Next(w.lease.epoch, kPgOneStatementEntriesMax + 1, 90, false)));

  std::vector<StoredEntry> read = ReadAll(log.origin());
  ASSERT_EQ(read.size(), log.size());
  size_t i = 0;
  for (const auto& g : groups) {
    for (size_t k = 0; k < g->bytes.size(); ++k, ++i) {
      EXPECT_EQ(read[i].index, i);
      EXPECT_EQ(read[i].bytes, g->bytes[k]) << "entry " << i;
      EXPECT_EQ(read[i].leaf_hash, g->entries[k].leaf_hash) << "entry " << i;
    }
  }
  auto follower = Open(log.origin(), /*read_only=*/true);
  auto middle = follower->ReadEntries(500, 10);
  ASSERT_TRUE(middle.ok());
  ASSERT_EQ(middle->size(), 10u);
  EXPECT_EQ(middle->front().index, 500u);
  EXPECT_EQ(middle->back().index, 509u);

  auto head = follower->Head();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->next_index, log.size());
  EXPECT_EQ(head->last_leaf_hash, log.last_leaf_hash());
  EXPECT_EQ(head->writer_epoch, w.lease.epoch);
  EXPECT_EQ(head->writer_node, "node-a");
  auto unknown = PgLogStore::Connect(
      {.dsn = pg_->dsn(), .origin = "test.example/no-such-log", .read_only = true});
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound) << unknown.status().ToString();
}

TEST_F(PgLogStoreTest, ASupersededWriterAppendsNothing) {
  TestWriterLog log("test.example/fencing");
  auto a = Open(log.origin());
  auto lease_a = a->AcquireWriter("node-a");
  ASSERT_TRUE(lease_a.ok()) << lease_a.status().ToString();
  auto first = log.Next(lease_a->epoch, 10, 100, false);
  ASSERT_TRUE(a->AppendGroup(first->request).ok());
  log.Acknowledged(*first);

  // While a's session lives, b cannot become the writer; ending that session, it can.
  auto b = Open(log.origin());
  auto refused = b->AcquireWriter("node-b");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().rule(), kWriterLockHeld) << refused.status().ToString();
  auto lease_b = b->AcquireWriter("node-b", /*evict_holder=*/true);
  ASSERT_TRUE(lease_b.ok()) << lease_b.status().ToString();
  EXPECT_GT(lease_b->epoch, lease_a->epoch);
  EXPECT_EQ(lease_b->head.next_index, 10u);

  auto stale = log.Next(lease_a->epoch, 5, 100, false);
  Status s = a->AppendGroup(stale->request);
  EXPECT_EQ(s.rule(), kWriterFenced) << s.ToString();
  EXPECT_EQ(ReadAll(log.origin()).size(), 10u);

  auto next = log.Next(lease_b->epoch, 5, 100, false);
  ASSERT_TRUE(b->AppendGroup(next->request).ok());
  log.Acknowledged(*next);
  std::vector<StoredEntry> read = ReadAll(log.origin());
  ASSERT_EQ(read.size(), 15u);
  EXPECT_EQ(read[10].leaf_hash, next->entries[0].leaf_hash);
}

TEST_F(PgLogStoreTest, TheEpochFencesAStaleWriterThatRetakesAFreeLock) {
  TestWriterLog log("test.example/epoch");
  auto a = Open(log.origin());
  auto lease_a = a->AcquireWriter("node-a");
  ASSERT_TRUE(lease_a.ok());
  {
    // b takes over (ending a's session) and goes away: the lock is free again.
    auto b = Open(log.origin());
    ASSERT_TRUE(b->AcquireWriter("node-b", /*evict_holder=*/true).ok());
  }
  auto stale = log.Next(lease_a->epoch, 3, 100, true);
  Status s = a->AppendGroup(stale->request);
  EXPECT_EQ(s.rule(), kWriterFenced) << s.ToString();
  EXPECT_NE(s.message().find("node-b"), std::string::npos) << s.message();
  EXPECT_TRUE(ReadAll(log.origin()).empty());
  auto checkpoint = Open(log.origin(), true)->LatestCheckpoint();
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_FALSE(checkpoint->has_value());
}

TEST_F(PgLogStoreTest, AGroupThatDoesNotContinueTheHeadIsRefused) {
  TestWriterLog log("test.example/head");
  Writer w = StartWriter(log.origin());
  ASSERT_NE(w.store, nullptr);
  auto group = log.Next(w.lease.epoch, 4, 100, false);
  AppendGroupRequest skipping = group->request;
  skipping.first_index = 1;
  EXPECT_EQ(w.store->AppendGroup(skipping).rule(), kHeadMoved);
  AppendGroupRequest forked = group->request;
  forked.prev_leaf_hash[0] ^= 1;
  EXPECT_EQ(w.store->AppendGroup(forked).rule(), kHeadMoved);
  EXPECT_TRUE(ReadAll(log.origin()).empty());
  Status s = w.store->AppendGroup(group->request);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ReadAll(log.origin()).size(), 4u);
}

TEST_F(PgLogStoreTest, AGroupIsCheckedBeforeAnythingIsSent) {
  TestWriterLog log("test.example/limits");
  Writer w = StartWriter(log.origin());
  ASSERT_NE(w.store, nullptr);
  auto group = log.Next(w.lease.epoch, 2, 100, false);

  AppendGroupRequest too_many = group->request;
  std::vector<GroupEntry> many(kPgGroupEntriesMax + 1, group->entries[0]);
  too_many.entries = many;
  Status s = w.store->AppendGroup(too_many);
  EXPECT_EQ(s.code(), StatusCode::kTooLarge);
  EXPECT_EQ(s.field(), "entries");

  Bytes huge(kPgEntryBytesMax + 1, 'x');
  std::vector<GroupEntry> with_huge = {group->entries[0], {huge, HashLeaf(huge)}};
  AppendGroupRequest oversized = group->request;
  oversized.entries = with_huge;
  s = w.store->AppendGroup(oversized);
  EXPECT_EQ(s.field(), "entries");
  EXPECT_EQ(s.line(), 2u);  // the second entry of the group

  AppendGroupRequest wrong_size = group->request;
  wrong_size.checkpoint_note = log.SignCheckpoint({group->entries[0].leaf_hash});  // size 1
  s = w.store->AppendGroup(wrong_size);
  EXPECT_EQ(s.field(), "checkpoint_note") << s.ToString();

  AppendGroupRequest empty = group->request;
  empty.entries = {};
  EXPECT_EQ(w.store->AppendGroup(empty).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ReadAll(log.origin()).empty());
}

TEST_F(PgLogStoreTest, ACheckpointIsStoredWithItsGroup) {
  TestWriterLog log("test.example/checkpoints");
  Writer w = StartWriter(log.origin());
  ASSERT_NE(w.store, nullptr);
  auto signed_group = log.Next(w.lease.epoch, 3, 100, true);
  ASSERT_TRUE(w.store->AppendGroup(signed_group->request).ok());
  log.Acknowledged(*signed_group);
  auto unsigned_group = log.Next(w.lease.epoch, 2, 100, false);
  ASSERT_TRUE(w.store->AppendGroup(unsigned_group->request).ok());
  log.Acknowledged(*unsigned_group);

  auto follower = Open(log.origin(), /*read_only=*/true);
  auto latest = follower->LatestCheckpoint();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->size, 3u);
  EXPECT_EQ((*latest)->note, signed_group->request.checkpoint_note);

  // A checkpoint alone (an idle writer signing what it appended earlier).
  auto checkpoint_only = log.NextWith(w.lease.epoch, {}, true);
  Status s = w.store->AppendGroup(checkpoint_only->request);
  ASSERT_TRUE(s.ok()) << s.ToString();
  latest = follower->LatestCheckpoint();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->size, 5u);
  EXPECT_EQ((*latest)->note, checkpoint_only->request.checkpoint_note);
}

TEST_F(PgLogStoreTest, AGroupOf65536EntriesIsAllOrNothing) {
  TestWriterLog log("test.example/atomic");
  Writer w = StartWriter(log.origin());
  ASSERT_NE(w.store, nullptr);
  auto group = log.Next(w.lease.epoch, kPgGroupEntriesMax, 1'600, true);  // ~105 MB

  // The writer sends every entry, then waits for the checkpoint table the test holds locked;
  // its session is ended there, mid-transaction. It tries once more on a new connection, and
  // that session is ended too.
  auto locker = pg_->Admin();
  ASSERT_NO_FATAL_FAILURE(Sql(*locker, "BEGIN"));
  ASSERT_NO_FATAL_FAILURE(Sql(*locker, "LOCK TABLE log_checkpoints IN ACCESS EXCLUSIVE MODE"));
  Status result;
  std::thread append([&] { result = w.store->AppendGroup(group->request); });
  auto admin = pg_->Admin();
  const std::string blocked =
      "wait_event_type = 'Lock' AND query LIKE 'INSERT INTO log_checkpoints%'";
  int first = WaitForBackend(*admin, blocked);
  ASSERT_NO_FATAL_FAILURE(
      Sql(*admin, "SELECT pg_terminate_backend(" + std::to_string(first) + ")"));
  int second = WaitForBackend(*admin, blocked + " AND pid <> " + std::to_string(first));
  auto visible = admin->Exec(
      "SELECT count(*) FROM log_entries JOIN log_heads USING (log_id) WHERE origin = $1",
      PgParams().Text(log.origin()), DeadlineAfterMs(30'000));
  ASSERT_TRUE(visible.ok()) << visible.status().ToString();
  EXPECT_EQ(visible->Int64(0, 0), 0) << "rows of an ended or open transaction are visible";
  ASSERT_NO_FATAL_FAILURE(
      Sql(*admin, "SELECT pg_terminate_backend(" + std::to_string(second) + ")"));
  append.join();
  Sql(*locker, "ROLLBACK");
  EXPECT_EQ(result.rule(), kNotCommitted) << result.ToString();
  EXPECT_TRUE(ReadAll(log.origin()).empty());
  auto follower = Open(log.origin(), /*read_only=*/true);
  EXPECT_EQ(follower->Head()->next_index, 0u);
  EXPECT_FALSE(follower->LatestCheckpoint()->has_value());

  // The writer reconnects, and the same group goes in whole, with its checkpoint.
  auto start = std::chrono::steady_clock::now();
  Status again = w.store->AppendGroup(group->request);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  ASSERT_TRUE(again.ok()) << again.ToString();
  std::printf("65,536 entries (%.1f MB) in one group on one instance: %lld ms\n",
              kPgGroupEntriesMax * 1'600 / 1e6, static_cast<long long>(took.count()));
  std::vector<StoredEntry> read = ReadAll(log.origin());
  ASSERT_EQ(read.size(), kPgGroupEntriesMax);
  for (size_t i = 0; i < read.size(); ++i) {
    ASSERT_EQ(read[i].bytes, group->bytes[i]) << "entry " << i;
  }
  EXPECT_EQ((*follower->LatestCheckpoint())->size, kPgGroupEntriesMax);
}

TEST_F(PgLogStoreTest, ACommitThatDrewAWarningIsInDoubtUntilSettled) {
  TestWriterLog log("test.example/in-doubt");
  Writer w = StartWriter(log.origin());
  ASSERT_NE(w.store, nullptr);
  auto admin = pg_->Admin();
  // While set, commits wait for a synchronous standby that never comes; cancelling that wait
  // makes PostgreSQL commit locally and say so in a WARNING.
  auto wait_for_absent_standby = [&](bool on) {
    Sql(*admin, on ? "ALTER SYSTEM SET synchronous_standby_names = 'absent'"
                   : "ALTER SYSTEM RESET synchronous_standby_names");
    Sql(*admin, "SELECT pg_reload_conf()");
  };
  wait_for_absent_standby(true);

  // Groups go in until the setting reaches the server's processes and one waits.
  std::unique_ptr<TestGroup> waiting;
  Status result;
  std::thread append([&] {
    for (int i = 0; i < 1'000; ++i) {
      waiting = log.Next(w.lease.epoch, 3, 100, false);
      result = w.store->AppendGroup(waiting->request);
      if (!result.ok()) return;
      log.Acknowledged(*waiting);
    }
  });
  int pid = WaitForBackend(*admin, "wait_event = 'SyncRep'");
  if (pid != 0) Sql(*admin, "SELECT pg_cancel_backend(" + std::to_string(pid) + ")");
  wait_for_absent_standby(false);  // later commits return at once, acknowledged or not
  append.join();
  ASSERT_EQ(result.rule(), kCommitInDoubt) << result.ToString();
  EXPECT_NE(result.message().find("canceling wait for synchronous replication"), std::string::npos)
      << result.message();

  auto next = log.Next(w.lease.epoch, 1, 100, false);
  EXPECT_EQ(w.store->AppendGroup(next->request).rule(), kCommitInDoubt)
      << "appended while in doubt";

  auto settled = w.store->SettleInDoubt(waiting->request);
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  EXPECT_TRUE(settled->committed);
  EXPECT_EQ(settled->head.next_index, waiting->request.first_index + 3);
  log.Acknowledged(*waiting);
  auto after = log.Next(w.lease.epoch, 1, 100, false);
  Status s = w.store->AppendGroup(after->request);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(PgLogStoreTest, AFollowerWakesOnTheAppendsNotify) {
  TestWriterLog log("test.example/notify");
  Writer w = StartWriter(log.origin());
  ASSERT_NE(w.store, nullptr);
  // The head is re-read only every 10 minutes: within the 60 s wait, only NOTIFY wakes it.
  auto follower = Open(log.origin(), /*read_only=*/true, " application_name=follower", 600'000);
  Result<LogHead> woke = NotFound("not yet");
  std::thread wait([&] { woke = follower->WaitForEntries(0, 60'000); });
  auto admin = pg_->Admin();
  WaitForBackend(*admin,
                 "application_name = 'follower' AND state = 'idle' AND query LIKE 'SELECT next_%'");
  auto group = log.Next(w.lease.epoch, 2, 100, false);
  ASSERT_TRUE(w.store->AppendGroup(group->request).ok());
  wait.join();
  ASSERT_TRUE(woke.ok()) << woke.status().ToString();
  EXPECT_EQ(woke->next_index, 2u);
}

}  // namespace
}  // namespace fundledger::testing
