// StoreScrub: the watermark makes a restart verify only what is new; the background passes
// find damage that appears while they run, at the damaged entry, and stop there.
#include "replay/store_scrub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>

#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

// The store as a failing disk shows it: entry `damaged` reads back altered once `failing`.
class FailingDisk : public LogSource {
 public:
  FailingDisk(const Log& log, uint64_t damaged) : log_(log), damaged_(damaged) {}
  std::atomic<bool> failing{false};

  Result<Hash> ReadNode(uint8_t level, uint64_t index) const override {
    return log_.ReadNode(level, index);
  }
  std::unique_ptr<NodeCursor> OpenNodeCursor(uint8_t level, uint64_t start) const override {
    return log_.OpenNodeCursor(level, start);
  }
  uint64_t size() const override { return log_.size(); }
  Status ScanEntries(uint64_t begin, uint64_t end,
                     const std::function<Status(uint64_t, ByteView)>& fn) const override {
    return log_.ScanEntries(begin, end, [&](uint64_t i, ByteView bytes) {
      if (i != damaged_ || !failing) return fn(i, bytes);
      Bytes altered(bytes.begin(), bytes.end());
      altered[altered.size() - 3] ^= 1;
      return fn(i, altered);
    });
  }
  Status ScanCheckpoints(
      const std::function<Status(uint64_t, std::string_view)>& fn) const override {
    return log_.ScanCheckpoints(fn);
  }

 private:
  const Log& log_;
  const uint64_t damaged_;
};

class StoreScrubTest : public LedgerFixture {
 protected:
  void Grow(int people) {
    for (int i = 0; i < people; ++i) Register("S" + std::to_string(next_++));
  }
  int next_ = 0;
};

TEST_F(StoreScrubTest, ARestartVerifiesOnlyWhatIsNewSinceTheWatermark) {
  Grow(10);
  ScrubOptions options;
  options.watermark_path = dir_ + "/verified";
  {
    StoreScrub first(ledger_->log(), options);
    ASSERT_TRUE(first.VerifyNew().ok());
    EXPECT_EQ(first.report().entries_checked, ledger_->log().size());
  }
  const uint64_t verified = ledger_->log().size();
  Grow(5);
  StoreScrub second(ledger_->log(), options);
  ASSERT_TRUE(second.VerifyNew().ok());
  EXPECT_EQ(second.report().entries_checked, ledger_->log().size() - verified);
  EXPECT_EQ(second.report().verified_through, ledger_->log().size());
}

TEST_F(StoreScrubTest, APassFindsDamageThatAppearsWhileItRuns) {
  Grow(40);
  const uint64_t damaged = 7;
  FailingDisk disk(ledger_->log(), damaged);
  ScrubOptions options;
  options.interval = std::chrono::milliseconds(1);
  options.entries_per_step = 8;
  options.step_pause = std::chrono::milliseconds(0);
  StoreScrub scrub(disk, options);
  ASSERT_TRUE(scrub.VerifyNew().ok());
  scrub.Start();
  // A complete pass over the sound store, then the disk fails under the next ones.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (scrub.report().passes == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_GT(scrub.report().passes, 0u);
  EXPECT_FALSE(scrub.damage().has_value());
  disk.failing = true;
  while (!scrub.damage() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ScrubReport report = scrub.report();
  ASSERT_TRUE(report.bad_index.has_value()) << "not found within 30 s";
  EXPECT_EQ(*report.bad_index, damaged) << report.reason;
  EXPECT_NE(scrub.damage()->find("damaged at entry 7"), std::string::npos);
  EXPECT_NE(scrub.MetricsText().find("fundledger_scrub_first_bad_index 7"), std::string::npos);
  scrub.Stop();
}

}  // namespace
}  // namespace fundledger::testing
