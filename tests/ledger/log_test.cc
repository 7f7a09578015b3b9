// The log store as its users see it: appends are durable, ordered, idempotent and bounded;
// a reopened store is the same store; an inconsistent store refuses to open.
#include "ledger/log.h"

#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <filesystem>
#include <future>
#include <optional>
#include <set>
#include <thread>

#include "crypto/checkpoint.h"
#include "ledger/log_clock.h"
#include "replay/chain_verifier.h"
#include "tests/test_util.h"

namespace fundledger {
namespace {

using testing::MemoEntry;
using testing::MemoSubmission;
using testing::RawStore;
using testing::TempDir;

std::unique_ptr<Log> CreateLog(const std::string& dir, LogOptions options = {}) {
  Result<std::unique_ptr<Log>> log = Log::Create(dir, "test.fundledger.local", options);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return std::move(log).value();
}

std::unique_ptr<Log> OpenLog(const std::string& dir, LogOptions options = {}) {
  Result<std::unique_ptr<Log>> log = Log::Open(dir, options);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::move(log).value() : nullptr;
}

void AppendMemos(Log& log, int count, const std::string& prefix) {
  for (int i = 0; i < count; ++i) {
    Result<AppendResult> r =
        log.Append(MemoSubmission(prefix + std::to_string(i), {prefix + std::to_string(i)}));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

TEST(Log, CreateWritesGenesisAndASignedCheckpoint) {
  TempDir dir;
  std::unique_ptr<Log> log = CreateLog(dir.path());
  EXPECT_EQ(log->size(), 1u);
  Result<Checkpoint> cp = OpenCheckpoint(*log->LatestCheckpoint(), log->verifier());
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->origin, "test.fundledger.local");
  EXPECT_EQ(cp->size, 1u);
  Bytes genesis_bytes = *log->ReadEntry(0);
  Result<EntryView> genesis = DecodeEntry(genesis_bytes);
  ASSERT_TRUE(genesis.ok());
  EXPECT_EQ(genesis->event_type, fb::EventType::Genesis);
  EXPECT_EQ(DecodeGenesis(genesis->payload)->origin, "test.fundledger.local");
  EXPECT_EQ(Log::Create(dir.path(), "other").status().code(), StatusCode::kConflict);
}

// A new ledger's first start says nothing alarming: the store's log (stderr) stays quiet.
TEST(Log, CreatingAndReopeningALedgerLogsNoStoreError) {
  TempDir dir;
  ::testing::internal::CaptureStderr();
  { CreateLog(dir.path() + "/ledger"); }
  { OpenLog(dir.path() + "/ledger"); }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(Log, ReopenKeepsEntriesRootsAndProofs) {
  TempDir dir;
  std::vector<Hash> roots;
  std::vector<std::vector<Hash>> proofs;
  std::string checkpoint;
  {
    std::unique_ptr<Log> log = CreateLog(dir.path());
    AppendMemos(*log, 150, "m");
    for (uint64_t size = 1; size <= log->size(); size += 7) {
      roots.push_back(*TreeRoot(*log, size));
      proofs.push_back(*log->ProveInclusion(size / 2, size));
      if (size > 1) proofs.push_back(*log->ProveConsistency(size / 3 + 1, size));
    }
    checkpoint = *log->LatestCheckpoint();
    ASSERT_TRUE(log->Close().ok());
  }
  std::unique_ptr<Log> log = OpenLog(dir.path());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->size(), 151u);
  EXPECT_EQ(*log->LatestCheckpoint(), checkpoint);
  size_t r = 0, p = 0;
  for (uint64_t size = 1; size <= log->size(); size += 7, ++r) {
    EXPECT_EQ(*TreeRoot(*log, size), roots[r]);
    EXPECT_EQ(*log->ProveInclusion(size / 2, size), proofs[p++]);
    if (size > 1) {
      EXPECT_EQ(*log->ProveConsistency(size / 3 + 1, size), proofs[p++]);
    }
  }
  // And it keeps growing from where it was.
  AppendMemos(*log, 10, "after");
  VerifyReport report = VerifyChain(*log, {});
  EXPECT_TRUE(report.valid) << report.reason;
  EXPECT_EQ(report.size, 161u);
}

// Upper tree levels are served from memory once read: proofs must equal those of an
// independent in-memory tree while the cache is loaded, extended by new commits, and reloaded.
TEST(Log, ProofsFromTheNodeCacheEqualAnIndependentTree) {
  TempDir dir;
  MemoryTree expected;
  auto append = [&](Log& log, int count, const std::string& prefix) {
    for (int i = 0; i < count; ++i) {
      Submission s = MemoSubmission(prefix + std::to_string(i),
                                    {prefix + std::to_string(i), prefix + "b" + std::to_string(i)});
      ASSERT_TRUE(log.Append(s).ok());
    }
  };
  auto check = [&](Log& log) {
    expected = MemoryTree();
    ASSERT_TRUE(log.ScanEntries(0, log.size(),
                                [&](uint64_t, ByteView b) {
                                  expected.Append(HashLeaf(b));
                                  return Status::Ok();
                                })
                    .ok());
    for (uint64_t size = 1; size <= log.size(); size += 13) {
      for (uint64_t index = 0; index < size; index += 1 + size / 5) {
        EXPECT_EQ(*log.ProveInclusion(index, size), *InclusionProof(expected, index, size))
            << index << "/" << size;
      }
      if (size > 1) {
        EXPECT_EQ(*log.ProveConsistency(size / 3 + 1, size),
                  *ConsistencyProof(expected, size / 3 + 1, size));
      }
      EXPECT_EQ(*TreeRoot(log, size), *TreeRoot(expected, size));
    }
  };
  {
    std::unique_ptr<Log> log = CreateLog(dir.path());
    append(*log, 100, "a");  // 201 entries
    check(*log);             // loads the cache
    append(*log, 70, "b");   // extends it commit by commit
    check(*log);
    ASSERT_TRUE(log->Close().ok());
  }
  std::unique_ptr<Log> log = OpenLog(dir.path());
  ASSERT_NE(log, nullptr);
  check(*log);  // loaded from the store again
}

// Verification reads the stored tree through one cursor, every level's nodes in the order they
// complete, each tile read once for its eight levels: it must see exactly what ReadNode sees,
// for tiles of the two lowest tile levels and for the edge, writable and read-only, in any order;
// and a tile of the wrong length is named.
TEST(Log, TreeCursorReadsEveryNodeAsReadNodeDoes) {
  TempDir dir;
  constexpr uint64_t kSize = kTileWidth * kTileWidth + 300;  // a complete tile of tile level 1
  constexpr int kEntriesPerAppend = 1024;
  {
    LogOptions fast;
    fast.sync = false;
    std::unique_ptr<Log> log = CreateLog(dir.path(), fast);
    std::vector<std::string> texts(kEntriesPerAppend, "memo");
    for (int s = 0; log->size() + kEntriesPerAppend <= kSize; ++s)
      ASSERT_TRUE(log->Append(MemoSubmission("m" + std::to_string(s), texts)).ok());
    texts.resize(kSize - log->size());
    ASSERT_TRUE(log->Append(MemoSubmission("last", texts)).ok());
    ASSERT_EQ(log->size(), kSize);
    ASSERT_TRUE(log->Close().ok());
  }
  for (bool read_only : {true, false}) {
    LogOptions options;
    options.read_only = read_only;
    std::unique_ptr<Log> log = OpenLog(dir.path(), options);
    ASSERT_NE(log, nullptr);
    std::unique_ptr<TreeCursor> cursor = log->OpenTreeCursor();
    MerkleFrontier tree;
    uint64_t nodes = 0;
    ASSERT_TRUE(log->ScanEntries(0, kSize,
                                 [&](uint64_t, ByteView bytes) {
                                   tree.Append(HashLeaf(bytes), [&](uint8_t level, uint64_t index,
                                                                    const Hash& h) {
                                     Result<Hash> stored = cursor->Node(level, index);
                                     ASSERT_TRUE(stored.ok()) << stored.status().message();
                                     EXPECT_EQ(*stored, h) << int(level) << "/" << index;
                                     ++nodes;
                                   });
                                   return Status::Ok();
                                 })
                    .ok());
    EXPECT_EQ(nodes, 2 * kSize - std::popcount(kSize));
    // Out of order, and past the tree.
    std::unique_ptr<TreeCursor> jumping = log->OpenTreeCursor();
    for (auto [level, index] : {std::pair<uint8_t, uint64_t>{9, 100},
                                {0, 65'000},
                                {0, 3},
                                {16, 0},
                                {0, 65'600},
                                {3, 8'220},
                                {8, 255},
                                {1, 0}}) {
      Result<Hash> expected = log->ReadNode(level, index);
      ASSERT_TRUE(expected.ok()) << int(level) << "/" << index;
      Result<Hash> read = jumping->Node(level, index);
      ASSERT_TRUE(read.ok()) << int(level) << "/" << index << ": " << read.status().message();
      EXPECT_EQ(*read, *expected) << int(level) << "/" << index;
    }
    EXPECT_EQ(jumping->Node(0, kSize).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(jumping->Node(17, 0).status().code(), StatusCode::kNotFound);
  }
  // A stored tile that is not a tile is reported, naming the tile, for each of its levels.
  {
    RawStore raw(dir.path());
    std::string tile = raw.Get(kTreeColumn, TileKey(0, 1));
    tile.pop_back();
    raw.Put(kTreeColumn, TileKey(0, 1), tile);
  }
  LogOptions options;
  options.read_only = true;
  options.check_tail_on_open = false;
  std::unique_ptr<Log> log = OpenLog(dir.path(), options);
  ASSERT_NE(log, nullptr);
  std::unique_ptr<TreeCursor> cursor = log->OpenTreeCursor();
  EXPECT_TRUE(cursor->Node(0, 255).ok());
  Result<Hash> bad = cursor->Node(0, 256);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("tree tile (0, 1) holds 16321 bytes"), std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(cursor->Node(7, 2).ok());  // the same tile's top row
}

TEST(Log, CloseLeavesNoWriteAheadLogToReplay) {
  // Every CLI command and server start opens the store; a clean close flushes, so an open
  // never replays writes that were already acknowledged and closed.
  TempDir dir;
  {
    std::unique_ptr<Log> log = CreateLog(dir.path());
    AppendMemos(*log, 50, "m");
    ASSERT_TRUE(log->Close().ok());
  }
  uint64_t wal_bytes = 0;
  for (const auto& file : std::filesystem::directory_iterator(StorePath(dir.path()))) {
    if (file.path().extension() == ".log") wal_bytes += file.file_size();
  }
  EXPECT_EQ(wal_bytes, 0u);
  std::unique_ptr<Log> log = OpenLog(dir.path());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->size(), 51u);
}

TEST(Log, EveryCheckpointVerifiesAndProofsCheckAgainstIt) {
  TempDir dir;
  std::unique_ptr<Log> log = CreateLog(dir.path());
  AppendMemos(*log, 40, "m");
  int checked = 0;
  ASSERT_TRUE(
      log->ScanCheckpoints([&](uint64_t size, std::string_view note) {
           Result<Checkpoint> cp = OpenCheckpoint(note, log->verifier());
           EXPECT_TRUE(cp.ok());
           EXPECT_EQ(cp->size, size);
           uint64_t index = size - 1;
           std::vector<Hash> proof = *log->ProveInclusion(index, size);
           EXPECT_TRUE(
               VerifyInclusion(index, size, *log->ReadNode(0, index), proof, cp->root).ok());
           ++checked;
           return Status::Ok();
         })
          .ok());
  EXPECT_EQ(checked, 41);
}

TEST(Log, ConcurrentSubmittersGetDistinctContiguousIndexes) {
  TempDir dir;
  std::unique_ptr<Log> log = CreateLog(dir.path());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 60;
  std::vector<std::vector<AppendResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        Result<AppendResult> r = log->Append(MemoSubmission(key, {key + "a", key + "b"}));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        results[t].push_back(*r);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> indexes;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const AppendResult& r = results[t][i];
      EXPECT_EQ(r.count, 2u);
      EXPECT_FALSE(r.replayed);
      // Both entries of a submission are adjacent, and hold what was submitted.
      std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
      EXPECT_EQ(DecodeMemo(DecodeEntry(*log->ReadEntry(r.first_index))->payload)->text, key + "a");
      EXPECT_EQ(DecodeMemo(DecodeEntry(*log->ReadEntry(r.first_index + 1))->payload)->text,
                key + "b");
      indexes.insert(r.first_index);
      indexes.insert(r.first_index + 1);
    }
  }
  EXPECT_EQ(indexes.size(), size_t{kThreads * kPerThread * 2});
  EXPECT_EQ(*indexes.begin(), 1u);
  EXPECT_EQ(*indexes.rbegin(), uint64_t{kThreads * kPerThread * 2});
  EXPECT_TRUE(VerifyChain(*log, {}).valid);
}

// Answers go out on the writer's answering thread: each only once its group is stored and
// published, so a submitter reads what it was told was committed.
TEST(Log, AnAnswerComesOnlyOnceItsEntriesAreReadable) {
  TempDir dir;
  std::unique_ptr<Log> log = CreateLog(dir.path());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = "r" + std::to_string(t) + "-" + std::to_string(i);
        Result<AppendResult> r = log->Append(MemoSubmission(key, {key}));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        EXPECT_GE(log->size(), r->first_index + r->count) << key;
        Result<Bytes> entry = log->ReadEntry(r->first_index);
        ASSERT_TRUE(entry.ok()) << key << ": " << entry.status().ToString();
        EXPECT_EQ(DecodeMemo(DecodeEntry(*entry)->payload)->text, key);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(log->stats().submissions, uint64_t{kThreads * kPerThread});
}

TEST(Log, CloseAnswersEverySubmissionItTook) {
  TempDir dir;
  std::unique_ptr<Log> log = CreateLog(dir.path());
  constexpr int kSubmissions = 300;
  std::vector<std::future<Result<AppendResult>>> futures;
  for (int i = 0; i < kSubmissions; ++i)
    futures.push_back(log->Submit(MemoSubmission("c" + std::to_string(i), {"c"})));
  ASSERT_TRUE(log->Close().ok());
  uint64_t appended = 0;
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    Result<AppendResult> r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    appended += r->count;
  }
  EXPECT_EQ(appended, uint64_t{kSubmissions});
}

TEST(Log, IdempotencyKeyReturnsTheOriginalAndRejectsADifferentBody) {
  TempDir dir;
  std::unique_ptr<Log> log = CreateLog(dir.path());
  Result<AppendResult> first = log->Append(MemoSubmission("roll-2025-03", {"a", "b"}));
  ASSERT_TRUE(first.ok());
  Result<AppendResult> again = log->Append(MemoSubmission("roll-2025-03", {"a", "b"}));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->first_index, first->first_index);
  EXPECT_EQ(again->count, 2u);
  EXPECT_EQ(log->size(), 3u);

  Result<AppendResult> changed = log->Append(MemoSubmission("roll-2025-03", {"a", "c"}));
  EXPECT_EQ(changed.status().code(), StatusCode::kConflict);
  EXPECT_EQ(changed.status().field(), "idempotency_key");
  EXPECT_EQ(log->size(), 3u);

  // Two submissions with one key in flight together: exactly one is appended.
  auto f1 = log->Submit(MemoSubmission("same", {"x"}));
  auto f2 = log->Submit(MemoSubmission("same", {"x"}));
  Result<AppendResult> r1 = f1.get(), r2 = f2.get();
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_NE(r1->replayed, r2->replayed);
  EXPECT_EQ(r1->first_index, r2->first_index);
  EXPECT_EQ(log->size(), 4u);

  // The record survives a restart.
  ASSERT_TRUE(log->Close().ok());
  log = OpenLog(dir.path());
  EXPECT_TRUE(log->Append(MemoSubmission("roll-2025-03", {"a", "b"}))->replayed);
  EXPECT_EQ(log->size(), 4u);
}

TEST(Log, RejectsBadSubmissionsWithTheFieldAndLineAndAppendsNothing) {
  TempDir dir;
  std::unique_ptr<Log> log = CreateLog(dir.path());
  EXPECT_EQ(log->Append(Submission{}).status().code(), StatusCode::kInvalidArgument);

  Submission bad_second = MemoSubmission("k", {"ok", "ok"});
  bad_second.entries[1].payload = Bytes{1, 2, 3};
  Result<AppendResult> r = log->Append(bad_second);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().line(), 2u);

  Submission no_actor = MemoSubmission("k2", {"ok"});
  no_actor.entries[0].actor = "";
  EXPECT_EQ(log->Append(no_actor).status().field(), "actor");

  Submission unknown = MemoSubmission("k3", {"ok"});
  unknown.entries[0].event_type = fb::EventType::Unknown;
  EXPECT_EQ(log->Append(unknown).status().field(), "event_type");

  Submission long_key = MemoSubmission(std::string(kIdempotencyKeyBytesMax + 1, 'k'), {"ok"});
  EXPECT_EQ(log->Append(long_key).status().field(), "idempotency_key");

  Submission huge;
  huge.entries.resize(kSubmissionEntriesMax + 1, MemoEntry("x"));
  EXPECT_EQ(log->Append(huge).status().code(), StatusCode::kTooLarge);

  EXPECT_EQ(log->size(), 1u);
}

TEST(Log, TimestampsNeverGoBackwards) {
  TempDir dir;
  int64_t now = 1'700'000'000'000;
  LogOptions options;
  options.now_ms = [&] { return now; };
  std::unique_ptr<Log> log = CreateLog(dir.path(), options);
  AppendMemos(*log, 1, "a");
  now -= 60'000;  // the clock steps back a minute
  AppendMemos(*log, 1, "b");
  now += 120'000;
  AppendMemos(*log, 1, "c");
  EXPECT_EQ(DecodeEntry(*log->ReadEntry(1))->timestamp_ms, 1'700'000'000'000);
  EXPECT_EQ(DecodeEntry(*log->ReadEntry(2))->timestamp_ms, 1'700'000'000'000);
  EXPECT_EQ(DecodeEntry(*log->ReadEntry(3))->timestamp_ms, 1'700'000'060'000);
}

TEST(Log, CheckpointIntervalStillSignsOnClose) {
  TempDir dir;
  int64_t now = 1'700'000'000'000;
  LogOptions options;
  options.now_ms = [&] { return now; };
  options.checkpoint_interval_ms = 60'000;
  {
    std::unique_ptr<Log> log = CreateLog(dir.path(), options);
    AppendMemos(*log, 5, "a");  // within the interval: no new checkpoint
    EXPECT_EQ(OpenCheckpoint(*log->LatestCheckpoint(), log->verifier())->size, 1u);
    now += 60'000;
    AppendMemos(*log, 1, "b");
    EXPECT_EQ(OpenCheckpoint(*log->LatestCheckpoint(), log->verifier())->size, 7u);
    AppendMemos(*log, 2, "c");
    ASSERT_TRUE(log->Close().ok());
  }
  std::unique_ptr<Log> log = OpenLog(dir.path(), options);
  EXPECT_EQ(OpenCheckpoint(*log->LatestCheckpoint(), log->verifier())->size, 9u);
  EXPECT_TRUE(VerifyChain(*log, {}).valid);
}

// With a checkpoint interval, entries committed just before the ledger goes quiet get a signed
// checkpoint once the interval runs out, without waiting for another submission; and an idle
// ledger with nothing unsigned signs nothing more. The writer's timer runs on a manual clock:
// the test moves the time and waits for the writer to be idle again, never for real time.
TEST(Log, CheckpointIntervalSignsTheTailWhenTheLedgerGoesQuiet) {
  TempDir dir;
  constexpr int64_t kStart = 1'700'000'000'000, kInterval = 60'000;
  ManualLogClock clock(kStart);
  LogOptions options;
  options.clock = &clock;
  options.checkpoint_interval_ms = kInterval;
  std::unique_ptr<Log> log = CreateLog(dir.path(), options);  // signs size 1 at kStart
  AppendMemos(*log, 3, "a");
  auto latest = [&] { return OpenCheckpoint(*log->LatestCheckpoint(), log->verifier())->size; };
  auto count = [&] {
    uint64_t n = 0;
    EXPECT_TRUE(log->ScanCheckpoints([&](uint64_t, std::string_view) {
                     ++n;
                     return Status::Ok();
                   })
                    .ok());
    return n;
  };
  // Idle with three entries unsigned, until the interval after the last checkpoint runs out.
  EXPECT_EQ(clock.AwaitWaiter(), kStart + kInterval);
  EXPECT_EQ(latest(), 1u);
  clock.Advance(kInterval - 1);
  EXPECT_EQ(clock.AwaitWaiter(), kStart + kInterval);
  EXPECT_EQ(latest(), 1u);
  clock.Advance(1);
  // The writer signed the tail alone, and now waits with nothing to sign.
  EXPECT_EQ(clock.AwaitWaiter(), LogClock::kNoDeadline);
  EXPECT_EQ(latest(), 4u);
  EXPECT_EQ(log->size(), 4u);
  const uint64_t signed_so_far = count();
  EXPECT_EQ(signed_so_far, 2u);
  clock.Advance(4 * kInterval);  // four intervals with nothing new
  EXPECT_EQ(clock.AwaitWaiter(), LogClock::kNoDeadline);
  EXPECT_EQ(count(), signed_so_far);
  EXPECT_TRUE(VerifyChain(*log, {}).valid);
}

TEST(Log, ReadOnlyOpenServesReadsBesideAWriterAndRefusesWrites) {
  TempDir dir;
  std::unique_ptr<Log> writer = CreateLog(dir.path());
  AppendMemos(*writer, 3, "a");
  LogOptions ro;
  ro.read_only = true;
  std::unique_ptr<Log> reader = OpenLog(dir.path(), ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->size(), 4u);
  EXPECT_EQ(*reader->LatestCheckpoint(), *writer->LatestCheckpoint());
  // 503, not 400: the request was fine; this store takes no writes now (serve on a full disk).
  EXPECT_EQ(reader->Append(MemoSubmission("x", {"x"})).status().code(), StatusCode::kOverloaded);
}

TEST(Log, SubmitAfterCloseIsRefused) {
  TempDir dir;
  std::unique_ptr<Log> log = CreateLog(dir.path());
  ASSERT_TRUE(log->Close().ok());
  EXPECT_EQ(log->Append(MemoSubmission("x", {"x"})).status().code(), StatusCode::kOverloaded);
}

TEST(Log, OpenRefusesAStoreWhoseTailDisagreesAndNamesTheIndex) {
  TempDir dir;
  {
    std::unique_ptr<Log> log = CreateLog(dir.path());
    AppendMemos(*log, 20, "m");
  }
  std::string original;
  {
    RawStore raw(dir.path());
    original = raw.GetEntry(17);
    std::string flipped = original;
    flipped[flipped.size() / 2] ^= 0x20;
    raw.PutEntry(17, flipped);
  }
  Result<std::unique_ptr<Log>> bad = Log::Open(dir.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_NE(bad.status().message().find("entry 17"), std::string::npos) << bad.status().message();
  {
    RawStore raw(dir.path());
    raw.PutEntry(17, original);
    raw.DeleteEntry(20);
  }
  bad = Log::Open(dir.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("entry 20 is missing"), std::string::npos)
      << bad.status().message();
  {
    RawStore raw(dir.path());
    raw.PutEntry(20, std::string("junk"));
    raw.PutEntry(21, std::string("extra"));
  }
  bad = Log::Open(dir.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("entry 21 exists beyond"), std::string::npos)
      << bad.status().message();
}

// A store whose metadata names another format or tree layout (an older build's, or none) is
// refused, read-only too, with what was found, what this build reads, and how to recover.
TEST(Log, OpenRefusesAStoreOfAnotherFormatOrTreeLayoutAndSaysHowToRecreateIt) {
  TempDir dir;
  { CreateLog(dir.path()); }
  struct Case {
    const char* key;
    std::optional<std::string> value;  // nullopt: the row is missing
    std::string found;
  };
  for (const Case& c : {Case{"tree_layout", "1", "format 'fundledger-log-v2' with tree layout '1'"},
                        Case{"tree_layout", std::nullopt, "with tree layout (none)"},
                        Case{"format", "fundledger-log-v0", "format 'fundledger-log-v0'"}}) {
    std::string original;
    {
      RawStore raw(dir.path());
      original = raw.Get(kMetaColumn, c.key);
      if (c.value) {
        raw.Put(kMetaColumn, c.key, *c.value);
      } else {
        raw.Delete(kMetaColumn, c.key);
      }
    }
    LogOptions read_only;
    read_only.read_only = true;
    for (const LogOptions& options : {LogOptions{}, read_only}) {
      Result<std::unique_ptr<Log>> log = Log::Open(dir.path(), options);
      ASSERT_FALSE(log.ok()) << c.found;
      EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
      const std::string& m = log.status().message();
      EXPECT_NE(m.find(c.found), std::string::npos) << m;
      EXPECT_NE(m.find("this build reads only format 'fundledger-log-v2' (or "
                       "'fundledger-log-v1') with tree layout '2'"),
                std::string::npos)
          << m;
      EXPECT_NE(m.find("Recreate the store from its log"), std::string::npos) << m;
      EXPECT_NE(m.find("fundledger audit export"), std::string::npos) << m;
    }
    RawStore(dir.path()).Put(kMetaColumn, c.key, original);
    EXPECT_NE(OpenLog(dir.path()), nullptr);
  }
}

TEST(Log, OpenRefusesAForeignSigningKey) {
  TempDir a, b;
  { CreateLog(a.path()); }
  { CreateLog(b.path()); }
  std::filesystem::copy_file(SigningKeyPath(b.path()), SigningKeyPath(a.path()),
                             std::filesystem::copy_options::overwrite_existing);
  Result<std::unique_ptr<Log>> log = Log::Open(a.path());
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("not the key named in the genesis"), std::string::npos);
}

// Counts the syncs of the write-ahead log's files (what WriteOptions::sync costs).
class WalSyncCountingEnv : public rocksdb::EnvWrapper {
 public:
  WalSyncCountingEnv() : rocksdb::EnvWrapper(rocksdb::Env::Default()) {}
  const char* Name() const override { return "WalSyncCountingEnv"; }
  rocksdb::Status NewWritableFile(const std::string& f, std::unique_ptr<rocksdb::WritableFile>* r,
                                  const rocksdb::EnvOptions& o) override {
    rocksdb::Status s = target()->NewWritableFile(f, r, o);
    if (s.ok() && f.ends_with(".log")) r->reset(new File(std::move(*r), syncs));
    return s;
  }
  std::atomic<int> syncs{0};

 private:
  class File : public rocksdb::WritableFileWrapper {
   public:
    File(std::unique_ptr<rocksdb::WritableFile> base, std::atomic<int>& syncs)
        : rocksdb::WritableFileWrapper(base.get()), base_(std::move(base)), syncs_(syncs) {}
    rocksdb::Status Sync() override { return ++syncs_, base_->Sync(); }
    rocksdb::Status Fsync() override { return ++syncs_, base_->Fsync(); }

   private:
    std::unique_ptr<rocksdb::WritableFile> base_;
    std::atomic<int>& syncs_;
  };
};

// A log of record that acknowledges every group.
class AcknowledgingRecord : public LogOfRecord {
 public:
  Status Append(const RecordGroup& group) override {
    entries += group.entries.size();
    return Status::Ok();
  }
  size_t entries = 0;
};

TEST(Log, AGroupTheLogOfRecordHoldsIsNotSyncedLocallyUnlessItCarriesVaultRows) {
  TempDir dir;
  WalSyncCountingEnv env;
  AcknowledgingRecord record;
  LogOptions options;
  options.env = &env;
  options.log_of_record = &record;
  std::unique_ptr<Log> log = CreateLog(dir.path(), options);
  ASSERT_GT(env.syncs.load(), 0) << "the genesis group is synced";
  const int after_genesis = env.syncs.load();
  AppendMemos(*log, 3, "m");
  EXPECT_EQ(record.entries, 4u);
  EXPECT_EQ(env.syncs.load(), after_genesis) << "the log of record holds these groups";
  Log::Stats stats = log->stats();
  EXPECT_GT(stats.record_ns, 0u);
  EXPECT_GT(stats.store_ns, 0u);
  EXPECT_GE(stats.commit_ns, stats.stage_ns + stats.record_ns + stats.store_ns);

  // Personal data exists only in the local store: its group is synced.
  Submission registration = MemoSubmission("r", {"r"});
  registration.vault.push_back(VaultWrite{"person-1", "sealed"});
  ASSERT_TRUE(log->Append(std::move(registration)).ok());
  EXPECT_GT(env.syncs.load(), after_genesis);
  ASSERT_TRUE(log->Close().ok());  // the answerer counts a group once its answers are out
  EXPECT_GT(log->stats().answer_ns, 0u);
}

TEST(Log, EveryGroupIsSyncedWhenTheLocalStoreIsTheLogOfRecord) {
  TempDir dir;
  WalSyncCountingEnv env;
  LogOptions options;
  options.env = &env;
  std::unique_ptr<Log> log = CreateLog(dir.path(), options);
  const int after_genesis = env.syncs.load();
  AppendMemos(*log, 3, "m");
  EXPECT_GE(env.syncs.load(), after_genesis + 3);
  Log::Stats stats = log->stats();
  EXPECT_EQ(stats.record_ns, 0u) << "no log of record";
  EXPECT_GT(stats.stage_ns, 0u);
  EXPECT_GE(stats.commit_ns, stats.stage_ns + stats.store_ns);
}

}  // namespace
}  // namespace fundledger
