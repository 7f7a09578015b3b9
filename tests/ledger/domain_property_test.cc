// A seeded random stream of valid and invalid commands. After every step: all accounts sum to
// zero, no fund is negative, no (beneficiary, program, period) is paid twice, and the
// incremental projections equal a full replay of the log. FUNDLEDGER_PROPERTY_STEPS sets the
// number of steps (default 300); the seed is printed so a failure can be replayed.
#include <random>

#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

int Steps() {
  const char* env = std::getenv("FUNDLEDGER_PROPERTY_STEPS");
  return env != nullptr ? std::atoi(env) : 300;
}

class Property : public LedgerFixture {};

TEST_F(Property, RandomCommandsKeepTheInvariants) {
  const uint64_t seed = 20261122;
  std::mt19937_64 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  auto pick = [&](auto& v) -> auto& { return v[rng() % v.size()]; };

  std::vector<std::string> funds{"F0", "F1", "F2"};
  std::vector<std::string> buckets{"general", "dibao", "meals"};
  std::vector<std::string> programs{"dibao", "tekun", "disab"};
  DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
  DefineProgram("tekun", fb::ProgramCategory::tekun, 146300, 146300, 202501, {"dibao"});
  DefineProgram("disab", fb::ProgramCategory::disability_living, 10000, 20000);
  for (const std::string& f : funds) OpenFund(f, fb::FundKind::subsidy, programs);
  std::vector<std::string> bens;
  for (int i = 0; i < 12; ++i) {
    bens.push_back("B" + std::to_string(i));
    Register(bens.back(), "11010" + std::to_string(1 + i % 5), 195001 + i, i);
  }
  std::vector<std::string> batches;
  int accepted = 0, rejected = 0;
  const int steps = Steps();
  for (int step = 0; step < steps; ++step) {
    Result<AppendResult> r = InvalidArgument("no command");
    int kind = static_cast<int>(rng() % 10);
    int64_t amount = static_cast<int64_t>(rng() % 300'000) - 20'000;  // sometimes not positive
    int32_t period = 202501 + static_cast<int32_t>(rng() % 6);
    switch (kind) {
      case 0: {
        fb::AppropriatedT a;
        a.fund_id = pick(funds);
        a.bucket = pick(buckets);
        a.amount_fen = amount * 10;
        a.source = "treasury";
        a.document = "d";
        r = Do(a);
        break;
      }
      case 1: {
        fb::EnrolledT e;
        e.beneficiary_id = pick(bens);
        e.program_id = pick(programs);
        e.monthly_amount_fen = 10000;
        e.from_month = period;
        e.to_month = rng() % 2 ? 0 : period + 2;
        e.approval_doc = "a";
        r = Do(e);
        break;
      }
      case 2:
      case 3: {
        std::string id = "R" + std::to_string(step);
        std::vector<RollLine> lines;
        int n = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < n; ++i) {
          lines.push_back({static_cast<uint32_t>(i + 1), pick(bens), pick(programs), period,
                           5000 + amount % 20000});
        }
        r = Prepare(id, pick(funds), pick(buckets), period, lines);
        if (r.ok()) batches.push_back(id);
        break;
      }
      case 4:
        if (!batches.empty()) r = Approve(pick(batches), rng() % 5 == 0 ? kMaker : kChecker);
        break;
      case 5:
        r = Expense(pick(funds), pick(buckets), pick(buckets), amount);
        break;
      case 6:
        r = ChangeStatus(
            pick(bens),
            rng() % 3 == 0 ? fb::BeneficiaryStatus::deceased : fb::BeneficiaryStatus::suspended,
            period * 100 + 1 + static_cast<int32_t>(rng() % 28));
        break;
      case 7:
        if (!batches.empty()) {
          fb::PaymentReturnedT ret;
          ret.batch_id = pick(batches);
          ret.line_no = 1 + static_cast<uint32_t>(rng() % 4);
          ret.reason = "returned";
          r = Do(ret);
        }
        break;
      case 8: {
        fb::TransferredBetweenFundsT t;
        t.from_fund_id = pick(funds);
        t.from_bucket = pick(buckets);
        t.to_fund_id = pick(funds);
        t.to_bucket = pick(buckets);
        t.amount_fen = amount;
        t.document = "t";
        r = Do(t);
        break;
      }
      case 9: {
        fb::ReversalT rev;
        rev.entry_index = 1 + rng() % ledger_->log().size();
        rev.reason = "r";
        r = Do(rev, kAdmin);
        break;
      }
    }
    (r.ok() ? accepted : rejected)++;
    {
      ExpectInvariants();
      if (HasFailure()) FAIL() << "invariant broken after step " << step;
    }
  }
  std::cout << "property: " << steps << " steps, " << accepted << " accepted, " << rejected
            << " rejected\n";
  EXPECT_GT(accepted, steps / 5);
  EXPECT_GT(rejected, steps / 5);
  Reopen();
  ExpectInvariants();
}

}  // namespace
}  // namespace fundledger::testing
