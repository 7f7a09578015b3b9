#include "tests/domain_fixture.h"

#include <set>

namespace fundledger::testing {

void LedgerFixture::SetUp() {
  dir_ = tmp_.Sub("ledger");
  projections_ = std::make_unique<Projections>();
  Result<std::unique_ptr<Ledger>> l =
      Ledger::Create(dir_, "city.fundledger.local", WithProjections(*projections_, {}));
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ledger_ = std::move(l).value();
}

void LedgerFixture::TearDown() {
  if (ledger_) {
    EXPECT_TRUE(ledger_->Close().ok());
  }
}

void LedgerFixture::Reopen() {
  if (ledger_) {
    ASSERT_TRUE(ledger_->Close().ok());
    ledger_.reset();
  }
  projections_ = std::make_unique<Projections>();
  Result<std::unique_ptr<Ledger>> l = Ledger::Open(dir_, WithProjections(*projections_, {}));
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ledger_ = std::move(l).value();
}

Result<AppendResult> LedgerFixture::Do(std::vector<DomainEvent> events, const Actor& actor) {
  return ledger_->Submit(actor, "k" + std::to_string(++key_), std::move(events));
}

void LedgerFixture::Rejects(Result<AppendResult> r, const std::string& rule) {
  ASSERT_FALSE(r.ok()) << "expected " << rule << " but it was accepted";
  EXPECT_EQ(r.status().code(), StatusCode::kRuleViolation) << r.status().ToString();
  EXPECT_EQ(r.status().rule(), rule) << r.status().ToString();
}

void LedgerFixture::OpenFund(const std::string& id, fb::FundKind kind,
                             std::vector<std::string> programs, std::vector<std::string> purposes,
                             const std::string& org) {
  Ok(Do(FundOpening(
            {id, "Fund " + id, kind, org, std::move(programs), std::move(purposes), "acct-" + id}),
        kAdmin));
}

void LedgerFixture::DefineProgram(const std::string& id, fb::ProgramCategory category,
                                  int64_t standard_fen, int64_t cap_fen, int32_t effective_month,
                                  std::vector<std::string> excludes, int32_t age_min,
                                  int32_t age_max) {
  Ok(Do(ProgramDefinition({id, "Program " + id, category, standard_fen, cap_fen, effective_month,
                           std::move(excludes), age_min, age_max}),
        kAdmin));
}

void LedgerFixture::Register(const std::string& ben, const std::string& region, int32_t birth_month,
                             int seq) {
  fb::BeneficiaryRegisteredT e;
  e.beneficiary_id = ben;
  e.household_id = "H-" + ben;
  e.region_code = region;
  e.birth_month = birth_month;
  e.payee_role = fb::PayeeRole::self;
  e.registered_date = 20250101;
  // A distinct person per (region, birth month, seq): the day of birth carries seq / 1000.
  int n = seq >= 0 ? seq : static_cast<int>(std::hash<std::string>{}(ben) % 28000);
  PersonalData person{"张三明",
                      ResidentIdNumber(region, birth_month * 100 + 1 + (n / 1000) % 28, n % 1000),
                      "62220202" + std::to_string(10000000 + n), "13800138000"};
  Ok(ledger_->RegisterBeneficiary(kMaker, "reg-" + ben, e, person));
}

void LedgerFixture::Enroll(const std::string& ben, const std::string& program, int64_t amount_fen,
                           int32_t from, int32_t to) {
  Ok(Do(Enrolment(ben, program, amount_fen, from, "approval-" + ben + "-" + program, to)));
}

void LedgerFixture::Appropriate(const std::string& fund, const std::string& bucket,
                                int64_t amount_fen) {
  Ok(Do(Appropriation(fund, bucket, amount_fen, "treasury", "budget-2025")));
}

Result<AppendResult> LedgerFixture::Prepare(const std::string& batch, const std::string& fund,
                                            const std::string& bucket, int32_t period,
                                            std::vector<RollLine> lines) {
  return ledger_->PrepareBatch(kMaker, "prep-" + batch + "-" + std::to_string(++key_), batch, fund,
                               bucket, period, "roll " + batch, lines);
}

Result<AppendResult> LedgerFixture::Approve(const std::string& batch, const Actor& checker) {
  return Do(RollApproval(batch, "approved"), checker);
}

Result<AppendResult> LedgerFixture::Expense(const std::string& fund, const std::string& bucket,
                                            const std::string& purpose, int64_t amount_fen,
                                            fb::ExpenseClass cls) {
  return Do(Expenditure({fund, bucket, "Supplier Co.", cls, purpose, amount_fen,
                         "invoice-" + std::to_string(++key_)}));
}

Result<AppendResult> LedgerFixture::ChangeStatus(const std::string& ben,
                                                 fb::BeneficiaryStatus status, int32_t date) {
  fb::BeneficiaryChangedT e;
  e.beneficiary_id = ben;
  e.status = status;
  e.effective_date = date;
  e.reason = "status report";
  return Do(e);
}

void LedgerFixture::ExpectInvariants() {
  Result<Amount> sum = projections().SumOfBalances();
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(sum->fen(), 0) << "double entry broken";
  for (const auto& [account, b] : projections().BalancesWithPrefix("fund/")) {
    EXPECT_GE(b.available_fen(), 0) << account << " is negative";
    EXPECT_GE(b.pending_fen, 0) << account;
  }
  ledger_->domain().Read([](const DomainState& s) {
    std::set<std::string> slots;
    for (const auto& [id, batch] : s.batches) {
      for (const BatchLine& l : batch.lines) {
        if (!HoldsPaymentSlot(l.state)) continue;
        EXPECT_TRUE(
            slots.insert(PaymentSlotKey(s.names[l.beneficiary], s.names[l.program], l.period))
                .second)
            << "slot paid twice: " << s.names[l.beneficiary] << " " << s.names[l.program] << " "
            << l.period;
      }
    }
    return 0;
  });
  // Every rule-checked change (and every rollback of a rejected submission) leaves the state
  // a replay of the log builds: compared as the bytes of a snapshot.
  Projections replayed_projections;
  Domain replayed({&replayed_projections});
  ASSERT_TRUE(replayed.Replay(ledger_->log()).ok());
  EXPECT_TRUE(replayed.SaveState() == ledger_->domain().SaveState())
      << "incremental domain state differs from a replay";
  RebuildReport replay = RebuildProjections(ledger_->log(), {});
  EXPECT_TRUE(replay.verify.valid) << replay.verify.reason;
  EXPECT_EQ(HashHex(replay.digest), HashHex(projections().digest()))
      << "incremental projections differ from a replay";
  EXPECT_EQ(replay.rows, projections().rows());
}

}  // namespace fundledger::testing
