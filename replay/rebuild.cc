#include "replay/rebuild.h"

namespace fundledger {

RebuildReport RebuildProjections(const LogSource& source, const RebuildOptions& options) {
  RebuildReport report;
  Projections projections;
  Domain domain({&projections});
  ApplyContext context{options.sink, nullptr};
  VerifyOptions verify;
  if (!options.snapshot_path.empty()) {
    // The key that must have signed the snapshot is the one genesis names (or the trusted one).
    NoteVerifier key;
    Status read = source.ScanEntries(0, 1, [&](uint64_t, ByteView bytes) -> Status {
      FL_ASSIGN_OR_RETURN(key, GenesisVerifier(bytes));
      return Status::Ok();
    });
    if (options.trusted_key) key = *options.trusted_key;
    Result<SnapshotInfo> info =
        read.ok() ? LoadSnapshot(options.snapshot_path, source, key, domain, projections)
                  : Result<SnapshotInfo>(read);
    if (!info.ok()) {
      report.verify.unusable = true;
      report.verify.reason = info.status().message();
      return report;
    }
    if (options.to_index && *options.to_index + 1 < info->size) {
      report.verify.unusable = true;
      report.verify.reason = "the snapshot covers " + std::to_string(info->size) +
                             " entries, past the requested index";
      return report;
    }
    report.snapshot_size = info->size;
    report.applied = info->size;
    verify.begin = info->size;
  }
  verify.trusted_key = options.trusted_key;
  verify.progress = options.progress;
  verify.on_entry = [&](uint64_t i, ByteView bytes) -> Status {
    if (options.to_index && i > *options.to_index) return Status::Ok();
    // The walk decoded and verified these very bytes (entry and payload) before handing them on.
    FL_RETURN_IF_ERROR(domain.ApplyVerified(i, bytes, context));
    report.applied = i + 1;
    return Status::Ok();
  };
  domain.BeginReplay();
  report.verify = VerifyChain(source, verify);
  // An entry the domain or the projections could not apply (a sum beyond 64 bits) makes the
  // log invalid there, as an entry that does not verify does; the first of them is reported.
  Status ended = domain.EndReplay(context);
  std::optional<uint64_t> failed = projections.failed_entry();
  if (failed && (report.verify.valid || *failed < report.verify.bad_index)) {
    report.verify.valid = false;
    report.verify.bad_index = *failed;
    report.verify.reason = projections.failure().message();
    report.verify.size = *failed;
  } else if (!ended.ok() && report.verify.valid) {
    report.verify.valid = false;
    report.verify.reason = ended.message();
  }
  Status sum = domain.Read([&](const DomainState& at) -> Status {
    report.digest = projections.digest(at);
    report.rows = projections.rows(at);
    report.fund_balances = projections.BalancesWithPrefix(at, "fund/");
    FL_ASSIGN_OR_RETURN(Amount total, projections.SumOfBalances(at));
    report.sum_of_balances = total.fen();
    return Status::Ok();
  });
  if (!sum.ok() && report.verify.valid) {
    report.verify.valid = false;
    report.verify.bad_index = report.applied == 0 ? 0 : report.applied - 1;
    report.verify.reason = sum.message();
  }
  return report;
}

}  // namespace fundledger
