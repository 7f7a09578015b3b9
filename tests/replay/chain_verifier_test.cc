// Verification in chunks on several threads must report exactly what checking one entry
// after another reports: from any starting entry, for any chunk size and thread count.
// (Tampered stores are compared the same way in tests/ledger/tamper_test.cc.)
#include "replay/chain_verifier.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace fundledger {
namespace {

using testing::MemoSubmission;
using testing::TempDir;

// A log of 315 entries (past the 256 where scans read ahead on a second thread) with a signed
// checkpoint after every submission of 1 to 7 entries, so checkpoints fall anywhere inside
// chunks and on their edges.
class ChunkedVerifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    log_ = std::move(Log::Create(dir_->Sub("ledger"), "chunks.fundledger.local")).value().release();
    for (int s = 0; s < 80; ++s) {
      std::vector<std::string> texts;
      for (int e = 0; e <= s % 7; ++e)
        texts.push_back("memo " + std::to_string(s) + "." + std::to_string(e));
      ASSERT_TRUE(log_->Append(MemoSubmission("s" + std::to_string(s), texts)).ok());
    }
  }
  static void TearDownTestSuite() {
    delete log_;
    delete dir_;
  }

  // Every field of the report, and the progress calls, as checking entry by entry gives them.
  static void ExpectSameAsInOrder(VerifyOptions options) {
    std::vector<uint64_t> progress, in_order_progress;
    options.progress_every = 10;
    VerifyOptions in_order = options;
    in_order.chunk_log2 = 63;  // one chunk: entry after entry
    in_order.progress = [&](uint64_t n) { in_order_progress.push_back(n); };
    options.progress = [&](uint64_t n) { progress.push_back(n); };
    VerifyReport want = VerifyChain(*log_, in_order);
    VerifyReport got = VerifyChain(*log_, options);
    std::string where = "begin " + std::to_string(options.begin) + ", chunks of 2^" +
                        std::to_string(options.chunk_log2) + ", " +
                        std::to_string(options.threads) + " threads";
    EXPECT_EQ(got.valid, want.valid) << where << ": " << got.reason;
    EXPECT_EQ(got.unusable, want.unusable) << where;
    EXPECT_EQ(got.bad_index, want.bad_index) << where;
    EXPECT_EQ(got.reason, want.reason) << where;
    EXPECT_EQ(got.size, want.size) << where;
    EXPECT_EQ(got.root, want.root) << where;
    EXPECT_EQ(got.checkpoints, want.checkpoints) << where;
    EXPECT_EQ(got.latest_checkpoint_size, want.latest_checkpoint_size) << where;
    EXPECT_EQ(got.origin, want.origin) << where;
    EXPECT_EQ(got.vkey, want.vkey) << where;
    EXPECT_EQ(progress, in_order_progress) << where;
  }

  static TempDir* dir_;
  static Log* log_;
};
TempDir* ChunkedVerifyTest::dir_ = nullptr;
Log* ChunkedVerifyTest::log_ = nullptr;

TEST_F(ChunkedVerifyTest, TheWholeLogVerifiesAsInOrderForEveryChunkSizeAndThreadCount) {
  ASSERT_GT(log_->size(), 200u);
  for (uint8_t chunk_log2 : {0, 1, 2, 3, 5, 7}) {
    for (unsigned threads : {1u, 2u, 4u}) {
      VerifyOptions options;
      options.chunk_log2 = chunk_log2;
      options.threads = threads;
      ExpectSameAsInOrder(options);
    }
  }
  VerifyReport r = VerifyChain(*log_, {});
  EXPECT_TRUE(r.valid) << r.reason;
  EXPECT_EQ(r.size, log_->size());
  EXPECT_EQ(r.checkpoints, 81u);  // genesis and one per submission
}

TEST_F(ChunkedVerifyTest, AResumedVerificationChunksFromWhereItStarts) {
  const uint64_t size = log_->size();
  for (uint64_t begin : {uint64_t{1}, uint64_t{7}, uint64_t{8}, uint64_t{9}, uint64_t{63},
                         uint64_t{64}, uint64_t{65}, uint64_t{100}, size - 1, size}) {
    for (uint8_t chunk_log2 : {0, 3, 6}) {
      VerifyOptions options;
      options.begin = begin;
      options.chunk_log2 = chunk_log2;
      options.threads = 3;
      ExpectSameAsInOrder(options);
    }
  }
}

// Replay checks entries ahead on a second thread while on_entry applies the checked ones: a
// failure to apply is reported at its own entry, and nothing after it is applied.
TEST_F(ChunkedVerifyTest, AFailureToApplyIsReportedAtItsEntryAndStopsTheWalk) {
  for (uint64_t bad : {uint64_t{0}, uint64_t{5}, uint64_t{100}, log_->size() - 1}) {
    VerifyOptions options;
    std::vector<uint64_t> seen;
    options.on_entry = [&](uint64_t i, ByteView) {
      seen.push_back(i);
      return i == bad ? RuleViolation("no such fund") : Status::Ok();
    };
    VerifyReport r = VerifyChain(*log_, options);
    EXPECT_FALSE(r.valid);
    EXPECT_EQ(r.bad_index, bad);
    EXPECT_EQ(r.reason, "no such fund");
    ASSERT_EQ(seen.size(), bad + 1);
    for (uint64_t i = 0; i <= bad; ++i) EXPECT_EQ(seen[i], i);
  }
}

// A cluster follower stores the leaf hashes its verification computed instead of hashing each
// entry again: they must be each entry's, from where the walk begins, on one thread or two.
TEST_F(ChunkedVerifyTest, KeptLeafHashesAreEachEntrysFromWhereTheWalkBegins) {
  for (uint64_t begin : {uint64_t{0}, uint64_t{1}, uint64_t{100}}) {
    for (unsigned threads : {0u, 1u}) {
      VerifyOptions options;
      options.begin = begin;
      options.threads = threads;
      options.keep_leaf_hashes = true;
      ExpectSameAsInOrder(options);
      VerifyReport r = VerifyChain(*log_, options);
      ASSERT_TRUE(r.valid) << r.reason;
      ASSERT_EQ(r.leaf_hashes.size(), log_->size() - begin);
      for (uint64_t i = begin; i < log_->size(); ++i)
        ASSERT_EQ(r.leaf_hashes[i - begin], HashLeaf(*log_->ReadEntry(i))) << "entry " << i;
    }
  }
  EXPECT_TRUE(VerifyChain(*log_, {}).leaf_hashes.empty());  // kept only when asked for
}

TEST_F(ChunkedVerifyTest, KeptLeafHashesEndBeforeTheEntryAtFault) {
  for (uint64_t bad : {uint64_t{0}, uint64_t{5}, uint64_t{300}}) {
    VerifyOptions options;
    options.keep_leaf_hashes = true;
    options.on_entry = [&](uint64_t i, ByteView) {
      return i == bad ? RuleViolation("no such fund") : Status::Ok();
    };
    VerifyReport r = VerifyChain(*log_, options);
    ASSERT_FALSE(r.valid);
    EXPECT_EQ(r.bad_index, bad);
    ASSERT_EQ(r.leaf_hashes.size(), bad);
    for (uint64_t i = 0; i < bad; ++i) ASSERT_EQ(r.leaf_hashes[i], HashLeaf(*log_->ReadEntry(i)));
  }
}

TEST_F(ChunkedVerifyTest, ATrustedKeyThatIsNotTheLogsIsRejectedAtGenesisInChunksToo) {
  NoteSigner other = *MakeNoteSigner("chunks.fundledger.local", Ed25519PrivateKey::Generate());
  VerifyOptions options;
  options.trusted_key = VerifierFor(other);
  options.chunk_log2 = 4;
  options.threads = 2;
  ExpectSameAsInOrder(options);
  VerifyReport r = VerifyChain(*log_, options);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.bad_index, 0u);
  EXPECT_NE(r.reason.find("not the trusted key"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace fundledger
