#include "api/cli_state.h"

#include <fmt/core.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <future>

#include "api/cli_exit.h"
#include "api/cli_ledger.h"
#include "crypto/key_file.h"
#include "projections/fund_balances.h"
#include "replay/rebuild.h"
#include "replay/snapshot.h"

namespace fundledger {
namespace {

// Writes rebuilt projection rows into the store in batches.
class RepairSink final : public KeyValueSink {
 public:
  explicit RepairSink(Log& log) : log_(log) {}
  void Put(std::string_view key, std::string_view value) override {
    batch_.Put(log_.projections_column(), rocksdb::Slice(key.data(), key.size()),
               rocksdb::Slice(value.data(), value.size()));
    if (batch_.Count() >= 100'000) status_ = Flush();
  }
  Status Flush() {
    if (batch_.Count() == 0) return status_;
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = log_.db()->Write(wo, &batch_);
    batch_.Clear();
    if (!s.ok()) return IoError("cannot write projections: " + s.ToString());
    return status_;
  }

 private:
  Log& log_;
  rocksdb::WriteBatch batch_;
  Status status_;
};

}  // namespace

int CmdReplay(const std::string& dir, std::optional<uint64_t> to_index, bool repair,
              const std::string& snapshot) {
  RebuildOptions options;
  options.to_index = to_index;
  options.snapshot_path = snapshot;
  if (repair && !snapshot.empty())
    return ExitFailure(
        InvalidArgument("--repair replays from entry 0; it takes no --from-snapshot"));
  bool tty = ::isatty(STDERR_FILENO);
  if (tty)
    options.progress = [](uint64_t done) { fmt::print(stderr, "\rreplayed {} entries", done); };
  std::unique_ptr<Log> log;
  std::optional<RepairSink> sink;
  if (repair) {
    if (to_index)
      return ExitFailure(InvalidArgument("--repair rebuilds the whole log; it takes no --to"));
    if (Status free = CheckStoreNotInUse(dir); !free.ok()) return ExitFailure(free);
    Result<std::unique_ptr<Log>> opened = Log::Open(dir);  // exclusive: no server may run
    if (!opened.ok()) return ExitFailure(opened.status());
    log = std::move(opened).value();
    std::string begin(1, '\0'), end(1, '\xff');
    rocksdb::Status s = log->db()->DeleteRange(rocksdb::WriteOptions(), log->projections_column(),
                                               begin, end + end);
    if (!s.ok()) return ExitFailure(IoError("cannot clear projections: " + s.ToString()));
    sink.emplace(*log);
    options.sink = &*sink;
  } else {
    Result<std::unique_ptr<Log>> opened = OpenLogReadOnly(dir, /*check_tail=*/false);
    if (!opened.ok()) return ExitFailure(opened.status());
    log = std::move(opened).value();
  }
  // The stored projections are at rest (read-only open): their digest, a scan of every row, is
  // taken beside the replay instead of after it.
  std::future<Result<std::pair<Hash, uint64_t>>> stored_digest;
  if (!to_index && !repair) {
    stored_digest =
        std::async(std::launch::async, [&log] { return Projections::StoredDigest(*log); });
  }
  RebuildReport r = RebuildProjections(*log, options);
  if (tty) fmt::print(stderr, "\n");
  if (r.verify.unusable) return ExitFailure(Corruption(r.verify.reason));
  if (r.snapshot_size > 0)
    fmt::print("from snapshot at {} entries; verified the tail\n", r.snapshot_size);
  if (!r.verify.valid) {
    fmt::print("INVALID at entry {}: {}\n", r.verify.bad_index, r.verify.reason);
    return kExitFailed;
  }
  if (sink) {
    Status flushed = sink->Flush();
    if (!flushed.ok()) return ExitFailure(flushed);
  }
  fmt::print("replayed {} of {} entries; chain valid\nprojection digest: {} ({} rows)\n", r.applied,
             r.verify.size, HashHex(r.digest), r.rows);
  fmt::print("sum of all balances: {} (double entry {})\n", FormatFen(r.sum_of_balances),
             r.sum_of_balances == 0 ? "holds" : "BROKEN");
  for (const auto& [account, b] : r.fund_balances) {
    fmt::print("  {:<40} posted {:>16}  pending {:>14}\n", account, FormatFen(b.posted_fen),
               FormatFen(b.pending_fen));
  }
  if (stored_digest.valid()) {
    Result<std::pair<Hash, uint64_t>> stored = stored_digest.get();
    if (!stored.ok()) return ExitFailure(stored.status());
    bool same = stored->first == r.digest && stored->second == r.rows;
    fmt::print("stored projections: {} ({} rows): {}\n", HashHex(stored->first), stored->second,
               same ? "identical to the replay" : "DIFFER from the replay (run replay --repair)");
    if (!same) return kExitFailed;
  }
  if (repair) fmt::print("projections rebuilt from the log\n");
  return r.sum_of_balances == 0 ? kExitOk : kExitFailed;
}

int CmdBalance(const std::string& dir, const std::string& fund, const std::string& as_of_text) {
  Result<AsOf> as_of = ParseAsOf(as_of_text, "--as-of");
  if (!as_of.ok()) return ExitFailure(as_of.status());
  Result<OpenedLedger> opened = OpenLedgerReadOnly(dir);
  if (!opened.ok()) return ExitFailure(opened.status());
  Result<FundBalanceReport> report =
      FundBalances(*opened->ledger, *opened->projections).Of(fund, *as_of);
  if (!report.ok()) return ExitFailure(report.status());
  if (as_of->kind == AsOf::Kind::kNow) {
    fmt::print("fund {} now (entry {})\n", fund, report->as_of_index);
  } else {
    fmt::print("fund {} as of entry {}\n", fund, report->as_of_index);
  }
  auto row = [](std::string_view name, Amount posted, Amount pending, Amount available) {
    fmt::print("  {:<24} {:>16} {:>16} {:>16}\n", name, posted.ToYuan(), pending.ToYuan(),
               available.ToYuan());
  };
  fmt::print("  {:<24} {:>16} {:>16} {:>16}\n", "bucket", "posted", "pending", "available");
  for (const BucketBalance& b : report->buckets) {
    row(b.bucket, Amount::Fen(b.balance.posted_fen), Amount::Fen(b.balance.pending_fen),
        Amount::Fen(b.balance.available_fen()));
  }
  row("total", report->posted, report->pending, report->available);
  return kExitOk;
}

int CmdSnapshot(const std::string& dir) {
  Result<OpenedLedger> opened = OpenLedgerReadOnly(dir);  // may run beside a server
  if (!opened.ok()) return ExitFailure(opened.status());
  const Ledger& ledger = *opened->ledger;
  Result<NoteSigner> signer = ReadSignerKeyFile(SigningKeyPath(dir));
  if (!signer.ok()) return ExitFailure(signer.status());
  Result<SnapshotInfo> info =
      WriteSnapshot(dir, ledger.log(), *signer, ledger.domain(), *opened->projections);
  if (!info.ok()) return ExitFailure(info.status());
  fmt::print("snapshot of {} entries written to {}\n", info->size, info->path);
  return kExitOk;
}

}  // namespace fundledger
