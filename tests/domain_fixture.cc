#include "tests/domain_fixture.h"

#include <set>

namespace fundledger::testing {

std::string MakeIdNumber(const std::string& region, int32_t birth_date, int seq) {
  static constexpr int kWeights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  char body[18];
  std::snprintf(body, sizeof body, "%s%08d%03d", region.c_str(), birth_date, seq % 1000);
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (body[i] - '0') * kWeights[i];
  return std::string(body, 17) + kCheck[sum % 11];
}

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
  fb::FundOpenedT e;
  e.fund_id = id;
  e.name = "Fund " + id;
  e.kind = kind;
  e.organisation = org;
  e.currency = "CNY";
  e.programs = std::move(programs);
  e.purposes = std::move(purposes);
  e.bank_account_token = "acct-" + id;
  Ok(Do(e, kAdmin));
}

void LedgerFixture::DefineProgram(const std::string& id, fb::ProgramCategory category,
                                  int64_t standard_fen, int64_t cap_fen, int32_t effective_month,
                                  std::vector<std::string> excludes, int32_t age_min,
                                  int32_t age_max) {
  fb::ProgramDefinedT e;
  e.program_id = id;
  e.name = "Program " + id;
  e.category = category;
  e.period = category == fb::ProgramCategory::temporary ? fb::PaymentPeriod::one_off
                                                        : fb::PaymentPeriod::monthly;
  e.standard_fen = standard_fen;
  e.cap_fen = cap_fen;
  e.effective_month = effective_month;
  e.excludes = std::move(excludes);
  e.age_min_years = age_min;
  e.age_max_years = age_max;
  Ok(Do(e, kAdmin));
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
                      MakeIdNumber(region, birth_month * 100 + 1 + (n / 1000) % 28, n % 1000),
                      "62220202" + std::to_string(10000000 + n), "13800138000"};
  Ok(ledger_->RegisterBeneficiary(kMaker, "reg-" + ben, e, person));
}

void LedgerFixture::Enroll(const std::string& ben, const std::string& program, int64_t amount_fen,
                           int32_t from, int32_t to) {
  fb::EnrolledT e;
  e.beneficiary_id = ben;
  e.program_id = program;
  e.monthly_amount_fen = amount_fen;
  e.from_month = from;
  e.to_month = to;
  e.approval_doc = "approval-" + ben + "-" + program;
  Ok(Do(e));
}

void LedgerFixture::Appropriate(const std::string& fund, const std::string& bucket,
                                int64_t amount_fen) {
  fb::AppropriatedT e;
  e.fund_id = fund;
  e.bucket = bucket;
  e.amount_fen = amount_fen;
  e.source = "treasury";
  e.document = "budget-2025";
  Ok(Do(e));
}

Result<AppendResult> LedgerFixture::Prepare(const std::string& batch, const std::string& fund,
                                            const std::string& bucket, int32_t period,
                                            std::vector<RollLine> lines) {
  return ledger_->PrepareBatch(kMaker, "prep-" + batch + "-" + std::to_string(++key_), batch, fund,
                               bucket, period, "roll " + batch, lines);
}

Result<AppendResult> LedgerFixture::Approve(const std::string& batch, const Actor& checker) {
  fb::DisbursementBatchApprovedT e;
  e.batch_id = batch;
  e.document = "approved";
  return Do(e, checker);
}

Result<AppendResult> LedgerFixture::Expense(const std::string& fund, const std::string& bucket,
                                            const std::string& purpose, int64_t amount_fen,
                                            fb::ExpenseClass cls) {
  fb::ExpensedT e;
  e.fund_id = fund;
  e.bucket = bucket;
  e.payee = "Supplier Co.";
  e.class_ = cls;
  e.purpose = purpose;
  e.amount_fen = amount_fen;
  e.document = "invoice-" + std::to_string(++key_);
  return Do(e);
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
