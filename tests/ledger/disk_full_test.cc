// A disk that fills up, or turns read-only, under the ledger: writes are refused with a clear
// error and append nothing, reads keep working, and once space is back writes resume; nothing
// partial is ever left.
#include <fcntl.h>
#include <rocksdb/env.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "ledger/store_logger.h"
#include "replay/rebuild.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

// Fails every file write while `fault` is set: ENOSPC, or EROFS.
class FaultyEnv : public rocksdb::EnvWrapper {
 public:
  enum class Fault { kNone, kNoSpace, kReadOnly };
  FaultyEnv() : rocksdb::EnvWrapper(rocksdb::Env::Default()) {}
  const char* Name() const override { return "FaultyEnv"; }

  rocksdb::Status NewWritableFile(const std::string& f, std::unique_ptr<rocksdb::WritableFile>* r,
                                  const rocksdb::EnvOptions& o) override {
    if (fault == Fault::kReadOnly) return rocksdb::Status::IOError(f, "Read-only file system");
    std::unique_ptr<rocksdb::WritableFile> base;
    rocksdb::Status s = target()->NewWritableFile(f, &base, o);
    if (s.ok()) r->reset(new File(std::move(base), this));
    return s;
  }

  std::atomic<Fault> fault{Fault::kNone};
  // Runs once, on the thread that makes the next file write (the writer, inside a commit),
  // before the write fails or succeeds.
  std::function<void()> on_next_write;
  std::mutex hook_mu;

  void BeforeWrite() {
    std::function<void()> hook;
    {
      std::lock_guard lock(hook_mu);
      hook.swap(on_next_write);
    }
    if (hook) hook();
  }

 private:
  class File : public rocksdb::WritableFileWrapper {
   public:
    File(std::unique_ptr<rocksdb::WritableFile> base, FaultyEnv* env)
        : rocksdb::WritableFileWrapper(base.get()), base_(std::move(base)), env_(env) {}
    rocksdb::Status Append(const rocksdb::Slice& data) override {
      env_->BeforeWrite();
      return Check() ? base_->Append(data) : Error();
    }
    rocksdb::Status Append(const rocksdb::Slice& data,
                           const rocksdb::DataVerificationInfo& info) override {
      env_->BeforeWrite();
      return Check() ? base_->Append(data, info) : Error();
    }
    rocksdb::Status Sync() override { return Check() ? base_->Sync() : Error(); }
    rocksdb::Status Fsync() override { return Check() ? base_->Fsync() : Error(); }

   private:
    bool Check() const { return env_->fault == Fault::kNone; }
    rocksdb::Status Error() const {
      return env_->fault == Fault::kNoSpace
                 ? rocksdb::Status::NoSpace("write", "No space left on device")
                 : rocksdb::Status::IOError("write", "Read-only file system");
    }
    std::unique_ptr<rocksdb::WritableFile> base_;
    FaultyEnv* env_;
  };
};

class DiskFull : public ::testing::Test {
 protected:
  void Open() {
    LedgerOptions options = WithProjections(*projections_, {});
    options.log.env = &env_;
    Result<std::unique_ptr<Ledger>> l =
        create_ ? Ledger::Create(dir_, "disk.local", options) : Ledger::Open(dir_, options);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(l).value();
    create_ = false;
  }
  int64_t F1Balance() const {
    return ledger_->domain().Read([&](const DomainState& at) {
      return projections_->BalanceOf(at, FundAccount("F1", "general")).posted_fen;
    });
  }
  Result<AppendResult> Appropriate(const std::string& key) {
    fb::AppropriatedT a;
    a.fund_id = "F1";
    a.bucket = "general";
    a.amount_fen = 100;
    a.source = "treasury";
    a.document = key;
    return ledger_->Submit(kMaker, key, {a});
  }

  TempDir tmp_;
  std::string dir_ = tmp_.Sub("ledger");
  FaultyEnv env_;
  std::unique_ptr<Projections> projections_ = std::make_unique<Projections>();
  std::unique_ptr<Ledger> ledger_;
  bool create_ = true;
};

TEST_F(DiskFull, WritesAreRefusedClearlyReadsGoOnAndWritesResume) {
  Open();
  fb::FundOpenedT f;
  f.fund_id = "F1";
  f.name = "F1";
  f.organisation = "bureau";
  f.currency = "CNY";
  ASSERT_TRUE(ledger_->Submit(kAdmin, "fund", {f}).ok());
  ASSERT_TRUE(Appropriate("a1").ok());
  uint64_t size = ledger_->log().size();
  std::string checkpoint = *ledger_->log().LatestCheckpoint();
  int64_t balance = F1Balance();

  for (FaultyEnv::Fault fault :
       {FaultyEnv::Fault::kNoSpace, FaultyEnv::Fault::kNoSpace, FaultyEnv::Fault::kReadOnly}) {
    env_.fault = fault;
    for (int i = 0; i < 3; ++i) {
      Result<AppendResult> r =
          Appropriate("during-" + std::to_string(size) + "-" + std::to_string(i));
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kIoError) << r.status().ToString();
      if (fault == FaultyEnv::Fault::kNoSpace && i == 0) {
        EXPECT_NE(r.status().message().find("disk is full"), std::string::npos)
            << r.status().message();
      }
      EXPECT_NE(r.status().message().find("nothing was written"), std::string::npos)
          << r.status().message();
    }
    // Reads go on, and show nothing of the refused writes.
    EXPECT_EQ(ledger_->log().size(), size);
    EXPECT_EQ(*ledger_->log().LatestCheckpoint(), checkpoint);
    EXPECT_TRUE(ledger_->log().ReadEntry(size - 1).ok());
    EXPECT_EQ(F1Balance(), balance);
    env_.fault = FaultyEnv::Fault::kNone;
    if (fault == FaultyEnv::Fault::kReadOnly) {
      // A read-only disk is a fault an operator must look at: the store stays closed to writes
      // and says so, until the ledger is restarted.
      Result<AppendResult> r = Appropriate("after-read-only");
      ASSERT_FALSE(r.ok());
      EXPECT_NE(r.status().message().find("restart the ledger"), std::string::npos)
          << r.status().message();
      Status closed = ledger_->Close();  // reports the I/O error the store stopped on
      EXPECT_EQ(closed.code(), StatusCode::kIoError) << closed.ToString();
      ledger_.reset();
      projections_ = std::make_unique<Projections>();
      Open();
    }
    // Space is back: writes resume.
    static int round = 0;
    Result<AppendResult> r = Appropriate("after-" + std::to_string(++round));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->first_index, size);
    size = ledger_->log().size();
    checkpoint = *ledger_->log().LatestCheckpoint();
    balance += 100;
    EXPECT_EQ(F1Balance(), balance);
  }

  // Nothing partial: the reopened store verifies and its projections equal a replay.
  ASSERT_TRUE(ledger_->Close().ok());
  ledger_.reset();
  Projections fresh;
  Result<std::unique_ptr<Ledger>> reopened = Ledger::Open(dir_, WithProjections(fresh, {}));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->log().size(), size);
  RebuildReport replay = RebuildProjections((*reopened)->log(), {});
  EXPECT_TRUE(replay.verify.valid) << replay.verify.reason;
  EXPECT_EQ(replay.fund_balances.at("fund/F1/general").posted_fen, balance);
}

// Reads see only durable state: while a commit is being written, a reader cannot see its
// effects (the domain's read gate is held until the write returns), and after the write
// failed, nothing of it was ever visible.
// RocksDB's own info log writes a LOG file on the data disk, and its writer aborts the process
// once that disk is full; the store must keep no such file.
TEST_F(DiskFull, TheStoreKeepsNoInfoLogFileOnTheDataDisk) {
  Open();
  env_.fault = FaultyEnv::Fault::kNoSpace;
  EXPECT_FALSE(Appropriate("refused").ok());
  env_.fault = FaultyEnv::Fault::kNone;
  ASSERT_TRUE(ledger_->Close().ok());
  for (const auto& file : std::filesystem::directory_iterator(StorePath(dir_))) {
    EXPECT_NE(file.path().filename().string().rfind("LOG", 0), 0u) << file.path();
  }
}

// The store's info log on a device that is always full (/dev/full answers ENOSPC): every line
// is dropped and counted, and nothing stops the process.
TEST(StoreLoggerTest, DropsLinesItCannotWriteAndGoesOn) {
  int full = ::open("/dev/full", O_WRONLY);
  if (full < 0) GTEST_SKIP() << "/dev/full cannot be opened here";
  StoreLogger logger(rocksdb::InfoLogLevel::WARN_LEVEL, full);
  for (int i = 0; i < 100; ++i) rocksdb::Log(rocksdb::InfoLogLevel::ERROR_LEVEL, &logger, "l%d", i);
  rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, &logger, "below the level: not written");
  EXPECT_EQ(logger.dropped_lines(), 100u);
  ::close(full);
}

TEST(StoreLoggerTest, WritesEachLineWholeWithItsPrefix) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    StoreLogger logger(rocksdb::InfoLogLevel::WARN_LEVEL, fds[1]);
    rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, &logger, "compaction %s", "failed");
    rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, &logger, "routine");
    std::string very_long(4 * StoreLogger::kLineBytesMax, 'x');
    rocksdb::Log(rocksdb::InfoLogLevel::ERROR_LEVEL, &logger, "%s", very_long.c_str());
    EXPECT_EQ(logger.dropped_lines(), 0u);
  }
  ::close(fds[1]);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, n);
  ::close(fds[0]);
  ASSERT_NE(got.find('\n'), std::string::npos);
  std::string first = got.substr(0, got.find('\n'));
  EXPECT_EQ(first.rfind("rocksdb: ", 0), 0u) << first;
  EXPECT_NE(first.find("compaction failed"), std::string::npos) << first;
  EXPECT_EQ(got.find("routine"), std::string::npos);
  std::string second = got.substr(first.size() + 1);
  EXPECT_EQ(second.size(), StoreLogger::kLineBytesMax) << "cut to the limit, newline included";
  EXPECT_EQ(second.back(), '\n');
}

TEST_F(DiskFull, AReaderNeverSeesACommitThatIsNotDurable) {
  Open();
  fb::FundOpenedT f;
  f.fund_id = "F1";
  f.name = "F1";
  f.organisation = "bureau";
  f.currency = "CNY";
  ASSERT_TRUE(ledger_->Submit(kAdmin, "fund", {f}).ok());
  ASSERT_TRUE(Appropriate("a1").ok());
  const int64_t balance = F1Balance();
  const uint64_t size = ledger_->log().size();

  std::optional<bool> gate_free_during_write;
  std::optional<std::pair<int64_t, uint64_t>> seen_by_waiting_reader;
  std::thread waiting_reader;
  env_.fault = FaultyEnv::Fault::kNoSpace;
  {
    std::lock_guard lock(env_.hook_mu);
    env_.on_next_write = [&] {
      // The writer is inside the commit's write, its effects staged in memory.
      std::thread probe([&] {
        gate_free_during_write =
            ledger_->domain().TryRead([](const DomainState&) { return true; }).has_value();
      });
      probe.join();
      // This reader blocks until the commit has ended, and must then see the state before it.
      waiting_reader = std::thread([&] {
        seen_by_waiting_reader = ledger_->domain().Read([&](const DomainState& at) {
          return std::pair(projections_->BalanceOf(at, FundAccount("F1", "general")).posted_fen,
                           at.next_index);
        });
      });
    };
  }
  Result<AppendResult> r = Appropriate("during");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError) << r.status().ToString();
  ASSERT_TRUE(waiting_reader.joinable()) << "the commit wrote nothing";
  waiting_reader.join();
  ASSERT_TRUE(gate_free_during_write.has_value());
  EXPECT_FALSE(*gate_free_during_write) << "a reader could see a commit before its fsync";
  ASSERT_TRUE(seen_by_waiting_reader.has_value());
  EXPECT_EQ(seen_by_waiting_reader->first, balance) << "a reader saw money that never existed";
  EXPECT_EQ(seen_by_waiting_reader->second, size);

  // The same reader during a commit that succeeds sees it only once it is durable.
  env_.fault = FaultyEnv::Fault::kNone;
  seen_by_waiting_reader.reset();
  {
    std::lock_guard lock(env_.hook_mu);
    env_.on_next_write = [&] {
      waiting_reader = std::thread([&] {
        seen_by_waiting_reader = ledger_->domain().Read([&](const DomainState& at) {
          return std::pair(projections_->BalanceOf(at, FundAccount("F1", "general")).posted_fen,
                           at.next_index);
        });
      });
    };
  }
  ASSERT_TRUE(Appropriate("after").ok());
  waiting_reader.join();
  ASSERT_TRUE(seen_by_waiting_reader.has_value());
  EXPECT_EQ(seen_by_waiting_reader->first, balance + 100);
  EXPECT_EQ(seen_by_waiting_reader->second, size + 1);
}

}  // namespace
}  // namespace fundledger::testing
