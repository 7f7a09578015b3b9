#include "replay/rebuild.h"

namespace fundledger {

RebuildReport RebuildProjections(const LogSource& source, const RebuildOptions& options) {
  RebuildReport report;
  Projections projections;
  Domain domain({&projections});
  ApplyContext context{options.sink, nullptr};
  VerifyOptions verify;
  verify.trusted_key = options.trusted_key;
  verify.progress = options.progress;
  verify.on_entry = [&](uint64_t i, ByteView bytes) -> Status {
    if (options.to_index && i > *options.to_index) return Status::Ok();
    FL_RETURN_IF_ERROR(domain.ApplyCommitted(i, bytes, context));
    report.applied = i + 1;
    return Status::Ok();
  };
  report.verify = VerifyChain(source, verify);
  report.digest = projections.digest();
  report.rows = projections.rows();
  report.fund_balances = projections.BalancesWithPrefix("fund/");
  report.sum_of_balances = projections.SumOfBalances();
  return report;
}

}  // namespace fundledger
