// A ledger with projections in a temporary directory, and the finance staff's actions as
// calls (events built by api/city_builder.h), so that domain tests read like what they describe.
#pragma once

#include <gtest/gtest.h>

#include "api/city_builder.h"
#include "ledger/ledger.h"
#include "projections/projections.h"
#include "replay/rebuild.h"
#include "tests/test_util.h"

namespace fundledger::testing {

inline const Actor kMaker{"clerk.li", fb::Role::maker};
inline const Actor kChecker{"checker.wang", fb::Role::checker};
inline const Actor kAdmin{"admin.zhao", fb::Role::admin};

// A valid 18-character resident ID number (with its check character) for a test person.
inline std::string MakeIdNumber(const std::string& region, int32_t birth_date, int seq) {
  return ResidentIdNumber(region, birth_date, seq);
}

// An expense of fund `fund`'s general bucket far beyond what any test fund holds: in a
// submission, it is refused after what precedes it was applied (insufficient_funds), so the
// whole submission rolls back.
inline fb::ExpensedT ExpenseBeyondTheFund(const std::string& fund, const std::string& purpose) {
  fb::ExpensedT x;
  x.fund_id = fund;
  x.bucket = "general";
  x.payee = "p";
  x.purpose = purpose;
  x.amount_fen = 1'000'000'000;
  x.document = "inv";
  return x;
}

class LedgerFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  void Reopen();

  Result<AppendResult> Do(std::vector<DomainEvent> events, const Actor& actor = kMaker);
  Result<AppendResult> Do(DomainEvent event, const Actor& actor = kMaker) {
    return Do(std::vector<DomainEvent>{std::move(event)}, actor);
  }
  void Ok(Result<AppendResult> r) { ASSERT_TRUE(r.ok()) << r.status().ToString(); }
  // Expects a rule violation with this rule code.
  void Rejects(Result<AppendResult> r, const std::string& rule);

  void OpenFund(const std::string& id, fb::FundKind kind, std::vector<std::string> programs,
                std::vector<std::string> purposes = {}, const std::string& org = "bureau.city");
  void DefineProgram(const std::string& id, fb::ProgramCategory category, int64_t standard_fen,
                     int64_t cap_fen, int32_t effective_month = 202501,
                     std::vector<std::string> excludes = {}, int32_t age_min = 0,
                     int32_t age_max = 0);
  void Register(const std::string& ben, const std::string& region = "110105",
                int32_t birth_month = 196001,
                int seq = -1);  // -1: derived from the id
  void Enroll(const std::string& ben, const std::string& program, int64_t amount_fen,
              int32_t from = 202501, int32_t to = 0);
  void Appropriate(const std::string& fund, const std::string& bucket, int64_t amount_fen);
  Result<AppendResult> Prepare(const std::string& batch, const std::string& fund,
                               const std::string& bucket, int32_t period,
                               std::vector<RollLine> lines);
  Result<AppendResult> Approve(const std::string& batch, const Actor& checker = kChecker);
  Result<AppendResult> Expense(const std::string& fund, const std::string& bucket,
                               const std::string& purpose, int64_t amount_fen,
                               fb::ExpenseClass cls = fb::ExpenseClass::charitable);
  Result<AppendResult> ChangeStatus(const std::string& ben, fb::BeneficiaryStatus status,
                                    int32_t date);

  // The projections' queries as a reader makes them: inside the domain's read gate.
  struct GatedProjections {
    const Domain& domain;
    const Projections& projections;
    template <typename Fn>
    auto Read(Fn&& fn) const {
      return domain.Read([&](const DomainState& at) { return fn(projections, at); });
    }
    Hash digest() const {
      return Read([](const Projections& p, const DomainState& at) { return p.digest(at); });
    }
    uint64_t rows() const {
      return Read([](const Projections& p, const DomainState& at) { return p.rows(at); });
    }
    Result<Amount> SumOfBalances() const {
      return Read([](const Projections& p, const DomainState& at) { return p.SumOfBalances(at); });
    }
    Balance BalanceOf(const std::string& account) const {
      return Read(
          [&](const Projections& p, const DomainState& at) { return p.BalanceOf(at, account); });
    }
    std::map<std::string, Balance> BalancesWithPrefix(const std::string& prefix) const {
      return Read([&](const Projections& p, const DomainState& at) {
        return p.BalancesWithPrefix(at, prefix);
      });
    }
    std::map<std::string, PaidTotal> PaidTo(const std::string& beneficiary) const {
      return Read(
          [&](const Projections& p, const DomainState& at) { return p.PaidTo(at, beneficiary); });
    }
    std::map<std::string, RegionTotal> RegionTotals(const std::string& program) const {
      return Read(
          [&](const Projections& p, const DomainState& at) { return p.RegionTotals(at, program); });
    }
  };
  GatedProjections projections() const { return {ledger_->domain(), *projections_}; }

  Balance FundBalance(const std::string& fund, const std::string& bucket) {
    return projections().BalanceOf(FundAccount(fund, bucket));
  }
  // Invariants every state must keep: zero-sum, no negative fund, no doubly paid slot, and
  // the incremental projections equal a replay of the log.
  void ExpectInvariants();

  TempDir tmp_;
  std::string dir_;
  std::unique_ptr<Projections> projections_;
  std::unique_ptr<Ledger> ledger_;
  int key_ = 0;
};

}  // namespace fundledger::testing
