#include "api/cli_state.h"

#include <fmt/core.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "api/cli_exit.h"
#include "api/cli_ledger.h"
#include "crypto/key_file.h"
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

// Parses --as-of: an entry index, or a UTC time "2025-03-31T23:59:59Z" / "2025-03-31".
Result<uint64_t> AsOfIndex(const Log& log, const std::string& as_of) {
  if (!as_of.empty() &&
      std::all_of(as_of.begin(), as_of.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::stoull(as_of);
  }
  std::tm tm{};
  const char* end = strptime(as_of.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) end = strptime(as_of.c_str(), "%Y-%m-%d", &tm);
  if (end == nullptr || (*end != '\0' && std::string_view(end) != "Z")) {
    return InvalidArgument(
        "--as-of takes an entry index or a UTC time like 2025-03-31T23:59:59Z, got '" + as_of +
        "'");
  }
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000 + 999;
  return log.IndexAtTime(ms);
}

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
  if (!to_index && !repair) {
    Result<std::pair<Hash, uint64_t>> stored = Projections::StoredDigest(*log);
    if (!stored.ok()) return ExitFailure(stored.status());
    bool same = stored->first == r.digest && stored->second == r.rows;
    fmt::print("stored projections: {} ({} rows): {}\n", HashHex(stored->first), stored->second,
               same ? "identical to the replay" : "DIFFER from the replay (run replay --repair)");
    if (!same) return kExitFailed;
  }
  if (repair) fmt::print("projections rebuilt from the log\n");
  return r.sum_of_balances == 0 ? kExitOk : kExitFailed;
}

int CmdBalance(const std::string& dir, const std::string& fund, const std::string& as_of) {
  Result<OpenedLedger> opened = OpenLedgerReadOnly(dir);
  if (!opened.ok()) return ExitFailure(opened.status());
  const Projections& projections = *opened->projections;
  std::unique_ptr<Ledger>* ledger = &opened->ledger;
  std::optional<std::map<std::string, Balance>> current = (*ledger)->domain().Read(
      [&](const DomainState& s) -> std::optional<std::map<std::string, Balance>> {
        if (!s.funds.count(fund)) return std::nullopt;
        return projections.BalancesWithPrefix(s, FundAccount(fund, ""));
      });
  if (!current) return ExitFailure(NotFound("fund '" + fund + "' does not exist"));
  std::map<std::string, Balance> balances = std::move(*current);
  std::string when = "now (entry " + std::to_string((*ledger)->log().size() - 1) + ")";
  if (!as_of.empty()) {
    Result<uint64_t> index = AsOfIndex((*ledger)->log(), as_of);
    if (!index.ok()) return ExitFailure(index.status());
    when = "as of entry " + std::to_string(*index);
    for (auto& [account, b] : balances) {
      Result<Balance> past = Projections::BalanceAsOf((*ledger)->log(), account, *index);
      if (!past.ok()) return ExitFailure(past.status());
      b = *past;
    }
  }
  fmt::print("fund {} {}\n", fund, when);
  fmt::print("  {:<24} {:>16} {:>16} {:>16}\n", "bucket", "posted", "pending", "available");
  int64_t posted = 0, pending = 0;
  for (const auto& [account, b] : balances) {
    fmt::print("  {:<24} {:>16} {:>16} {:>16}\n", account.substr(FundAccount(fund, "").size()),
               FormatFen(b.posted_fen), FormatFen(b.pending_fen), FormatFen(b.available_fen()));
    posted += b.posted_fen;
    pending += b.pending_fen;
  }
  fmt::print("  {:<24} {:>16} {:>16} {:>16}\n", "total", FormatFen(posted), FormatFen(pending),
             FormatFen(posted - pending));
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
