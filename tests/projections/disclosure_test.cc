// Disclosure reports reconcile: opening + every inflow - every outflow = closing, with returns,
// reissues, recoveries and reversals on lines of their own; spending is net of corrections;
// restricted money left is the period's end's; roll payments are charitable spending;
// percentages are never rounded to meet a limit. Every figure of every report of the demo city
// and of an imported log holding every kind of correction recomputes, to the fen, from a fold
// of the raw entries that shares no code with the projections (independent_books.h).
#include "projections/disclosure.h"

#include <boost/json.hpp>

#include "api/demo.h"
#include "api/disclosure_render.h"
#include "tests/domain_fixture.h"
#include "tests/projections/independent_books.h"
#include "tests/replay/imported_log.h"

namespace fundledger::testing {
namespace {

// Every report of `scopes` for `periods` reconciles and recomputes from the raw entries; the
// published text of each reads back reconciled. Returns how many were compared.
int CheckEveryReport(const LogSource& log, const Scopes& scopes,
                     const std::vector<std::string>& periods) {
  return ReconcileEveryReport(log, scopes, periods, [](const DisclosureReport& r) {
    Result<DisclosureReport> back = DisclosureFromJson(DisclosureJson(r));
    EXPECT_TRUE(back.ok()) << back.status().ToString();
  });
}

std::string ThisYear() {
  std::time_t secs = std::time(nullptr) + 8 * 3600;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return std::to_string(tm.tm_year + 1900);
}

class DemoDisclosures : public LedgerFixture {};

TEST_F(DemoDisclosures, EveryFigureOfEveryReportRecomputesFromTheRawEntries) {
  DemoOptions demo;
  demo.people = 300;
  demo.months = 12;
  ASSERT_TRUE(GenerateDemoCity(*ledger_, demo).ok());
  // Corrections the demo does not make: a partial recovery of a named payment, a reversed
  // expense and a reversed donation.
  std::string batch;
  uint32_t line_no = 0;
  std::string person;
  int64_t amount = 0;
  ledger_->domain().Read([&](const DomainState& s) {
    for (const auto& [id, b] : s.batches) {
      for (const BatchLine& l : b.lines) {
        if (b.fund == "F-SUBSIDY" && l.state == LineState::kPaid && batch.empty()) {
          batch = id, line_no = l.line_no, person = s.names[l.beneficiary];
          amount = l.amount_fen;
        }
      }
    }
    return 0;
  });
  ASSERT_FALSE(batch.empty());
  fb::RecoveredT rec;
  rec.beneficiary_id = person;
  rec.fund_id = "F-SUBSIDY";
  rec.bucket = "general";
  rec.amount_fen = amount / 2;
  rec.cause = "overpaid";
  rec.batch_id = batch;
  rec.line_no = line_no;
  rec.document = "追回决定书";
  Ok(Do(rec));
  Result<AppendResult> expense = Do(Expenditure(
      {"F-SUNSHINE", "general", "landlord", fb::ExpenseClass::admin, "office", 300'000, "inv"}));
  Ok(expense);
  fb::ReversalT rev;
  rev.entry_index = expense->first_index;
  rev.reason = "booked twice";
  Ok(Do(rev, kAdmin));
  Result<AppendResult> gift = Do(Donation({"F-WARMHEART", "general", "", 12'345, "WH-X"}));
  Ok(gift);
  rev.entry_index = gift->first_index;
  Ok(Do(rev, kAdmin));
  // The demo's money is dated 2025 (its rolls' periods, its value and receipt dates); the
  // corrections above carry no date and count when they were posted.
  std::string year = ThisYear();
  Scopes scopes = ledger_->domain().Read([](const DomainState& s) { return EveryScope(s); });
  int reports = CheckEveryReport(ledger_->log(), scopes,
                                 {"2025", "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", year,
                                  year + "-Q1", year + "-Q2", year + "-Q3", year + "-Q4"});
  EXPECT_GE(reports, 80);
}

// Business dates: a roll counts in the period it pays for, however late it was posted (the
// demo posts all of 2025 today).
TEST_F(DemoDisclosures, TheFirstQuarterHoldsJanuaryToMarchsRolls) {
  DemoOptions demo;
  demo.people = 60;
  demo.months = 6;
  ASSERT_TRUE(GenerateDemoCity(*ledger_, demo).ok());
  std::map<int32_t, int64_t> paid_by_month;
  std::map<int32_t, uint64_t> approved_at;
  ledger_->domain().Read([&](const DomainState& s) {
    for (const auto& [id, b] : s.batches) {
      if (b.fund != "F-SUBSIDY" || b.status != BatchStatus::kApproved) continue;
      paid_by_month[b.period] += b.total_fen;
      approved_at[b.period] = b.decided_index;
    }
    return 0;
  });
  ASSERT_EQ(paid_by_month.size(), 6u);
  const uint64_t size = ledger_->log().size();
  Result<DisclosureReport> q1 =
      ComputeDisclosure(ledger_->log(), size, {"fund", "F-SUBSIDY", "2025-Q1"}, nullptr);
  ASSERT_TRUE(q1.ok()) << q1.status().ToString();
  EXPECT_EQ(q1->outflows.at("payments"),
            paid_by_month[202501] + paid_by_month[202502] + paid_by_month[202503]);
  for (int32_t month : {202501, 202502, 202503}) {
    EXPECT_TRUE(std::binary_search(q1->entries.begin(), q1->entries.end(), approved_at[month]))
        << "the approval of the roll of " << month;
  }
  EXPECT_FALSE(std::binary_search(q1->entries.begin(), q1->entries.end(), approved_at[202504]));
  EXPECT_GT(q1->appropriations_fen, 0);  // January's appropriation, dated January
  EXPECT_GE(q1->closing_fen, 0);
  Result<DisclosureReport> q2 =
      ComputeDisclosure(ledger_->log(), size, {"fund", "F-SUBSIDY", "2025-Q2"}, nullptr);
  ASSERT_TRUE(q2.ok()) << q2.status().ToString();
  EXPECT_EQ(q2->opening_fen, q1->closing_fen);
  EXPECT_EQ(q2->outflows.at("payments"),
            paid_by_month[202504] + paid_by_month[202505] + paid_by_month[202506]);
  Result<DisclosureReport> now =
      ComputeDisclosure(ledger_->log(), size, {"fund", "F-SUBSIDY", ThisYear()}, nullptr);
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_EQ(now->outflows.at("payments"), 0) << "2025's rolls posted this year count in 2025";
}

class ImportedDisclosures : public ImportedLog {
 protected:
  Result<DisclosureReport> Report(const std::string& kind, const std::string& id,
                                  const std::string& period) {
    return ComputeDisclosure(*log_, log_->size(), {kind, id, period}, nullptr);
  }
  uint64_t Last() const { return log_->size() - 1; }
  void Reverse(uint64_t index) {
    fb::ReversalT rev;
    rev.entry_index = index;
    rev.reason = "r";
    Raw(rev);
  }
};

// The F-SUB: returns, reissues, recoveries and reversals appear as their own lines and
// the report's closing balance is what opening + inflows - outflows says.
TEST_F(ImportedDisclosures, CorrectionsAreLinesOfTheirOwnAndTheReportReconciles) {
  At(2026, 1, 10);
  Program("dibao", 80000, 80000);
  Fund("F-SUB", fb::FundKind::subsidy, {"dibao"});
  Fund("F-CH", fb::FundKind::charity, {"dibao"});
  Person("P1", "110101", 1);
  Person("P2", "110101", 2);
  Person("P3", "110102", 3);
  Money("F-SUB", "general", 100'000'100);
  Pay("R1", "F-SUB", "general",
      {{1, "P1", "dibao", 202601, 80000},
       {2, "P2", "dibao", 202601, 80000},
       {3, "P3", "dibao", 202601, 80000}});
  fb::PaymentReturnedT ret;
  ret.batch_id = "R1";
  ret.line_no = 1;
  ret.reason = "closed account";
  Raw(ret);  // returned and reissued
  fb::PaymentReissuedT re;
  re.batch_id = "R1";
  re.line_no = 1;
  re.document = "d";
  Raw(re);
  Reverse(Last());  // the reissue reversed: P1 is not paid after all
  ret.line_no = 2;
  Raw(ret);  // returned, not reissued
  fb::RecoveredT rec;
  rec.beneficiary_id = "P3";
  rec.fund_id = "F-SUB";
  rec.bucket = "general";
  rec.amount_fen = 30000;
  rec.cause = "overpaid";
  rec.batch_id = "R1";
  rec.line_no = 3;
  rec.document = "d";
  Raw(rec);
  Raw(Expenditure({"F-SUB", "general", "bank", fb::ExpenseClass::admin, "fees", 300'000, "d"}));
  Reverse(Last());  // a reversed 3,000.00 expense
  Result<DisclosureReport> r = Report("fund", "F-SUB", "2026");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->opening_fen, 0);
  EXPECT_EQ(r->inflows.at("appropriations"), 100'000'100);
  EXPECT_EQ(r->outflows.at("payments"), 240000);
  EXPECT_EQ(r->inflows.at("returns"), 160000);
  EXPECT_EQ(r->outflows.at("reissues"), 80000);
  EXPECT_EQ(r->inflows.at("recoveries"), 30000);
  EXPECT_EQ(r->inflows.at("reversals"), 80000 + 300'000);
  EXPECT_EQ(r->outflows.at("expenses"), 300'000);
  // What is left: only P3's line, less what was recovered.
  EXPECT_EQ(r->closing_fen, 100'000'100 - 50000);
  EXPECT_EQ(r->paid_by_program_region.at("dibao").at("110101").amount_fen, 0);
  EXPECT_EQ(r->paid_by_program_region.at("dibao").at("110102").amount_fen, 50000);
  EXPECT_EQ(r->spending_by_class.at("payments"), 50000);
  // The reversed expense left spending and the admin ratio.
  EXPECT_EQ(r->spending_by_class.at("admin"), 0);
  EXPECT_EQ(r->year_admin_fen, 0);
  EXPECT_EQ(r->year_spending_fen, 50000);
  EXPECT_TRUE(CheckReconciliation(*r).ok());
  CheckEveryReport(*log_, {{"fund", "F-SUB"}, {"org", "org.F-SUB"}}, {"2026", "2026-Q1"});
}

// A reversed return: the person holds the payment again, so it is spending and paid again.
TEST_F(ImportedDisclosures, AReversedReturnIsPaidAgain) {
  At(2026, 1, 10);
  Program("dibao", 80000, 80000);
  Fund("F-SUB", fb::FundKind::subsidy, {"dibao"});
  Person("P1", "110101", 1);
  Money("F-SUB", "general", 1'000'000);
  Pay("R1", "F-SUB", "general", {{1, "P1", "dibao", 202601, 80000}});
  fb::PaymentReturnedT ret;
  ret.batch_id = "R1";
  ret.line_no = 1;
  ret.reason = "closed account";
  Raw(ret);
  Reverse(Last());
  Result<DisclosureReport> r = Report("fund", "F-SUB", "2026");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inflows.at("returns"), 80000);
  EXPECT_EQ(r->outflows.at("reversals"), 80000);
  EXPECT_EQ(r->closing_fen, 1'000'000 - 80000);
  EXPECT_EQ(r->spending_by_class.at("payments"), 80000);
  EXPECT_EQ(r->paid_by_program_region.at("dibao").at("110101").amount_fen, 80000);
  EXPECT_EQ(r->year_charitable_fen, 80000);
  CheckEveryReport(*log_, {{"fund", "F-SUB"}}, {"2026", "2026-Q1"});
}

// Every kind of movement and correction, across two years, in funds, an organisation and a
// project bucket: each report recomputes from the raw entries.
TEST_F(ImportedDisclosures, EveryFigureOfAnImportedLogRecomputesFromTheRawEntries) {
  At(2025, 3, 5);
  Program("dibao", 80000, 80000);
  Fund("F-SUB", fb::FundKind::subsidy, {"dibao"});
  Fund("F-CH", fb::FundKind::charity, {"dibao"});
  Fund("F-LOT", fb::FundKind::lottery_welfare, {}, {"elderly-care"});
  Person("P1", "110101", 1);
  Person("P2", "110102", 2);
  Money("F-SUB", "general", 10'000'000);
  Money("F-LOT", "general", 10'000'000, "lottery_pool");
  Raw(Donation({.fund = "F-CH",
                .bucket = "meals",
                .donor = "d1",
                .amount_fen = 500'000,
                .receipt_no = "r1"}));
  const uint64_t gift = Last();
  Raw(Donation({.fund = "F-CH", .amount_fen = 300'000, .receipt_no = "r2"}));
  Pay("R1", "F-SUB", "general",
      {{1, "P1", "dibao", 202503, 80000}, {2, "P2", "dibao", 202503, 80000}});
  fb::LotteryGrantAwardedT g;
  g.from_fund_id = "F-LOT";
  g.from_bucket = "general";
  g.to_fund_id = "F-CH";
  g.project_id = "P-CARE";
  g.category = "elderly-care";
  g.amount_fen = 2'000'000;
  g.document = "g";
  Raw(g);
  At(2025, 8, 1);
  fb::TransferredBetweenFundsT t;
  t.from_fund_id = "F-SUB";
  t.from_bucket = "general";
  t.to_fund_id = "F-CH";
  t.to_bucket = "general";
  t.amount_fen = 70000;
  t.document = "t";
  Raw(t);
  const uint64_t transfer = Last();
  fb::RestrictionReleasedT rel;
  rel.fund_id = "F-CH";
  rel.bucket = "meals";
  rel.to_bucket = "general";
  rel.amount_fen = 100'000;
  rel.consent_ref = "consent-1";
  Raw(rel);
  Raw(Expenditure(
      {"F-CH", "P-CARE", "home", fb::ExpenseClass::charitable, "P-CARE", 900'000, "d"}));
  Pay("R2", "F-CH", "general", {{1, "P1", "dibao", 202508, 80000}});
  At(2026, 2, 1);
  fb::PaymentReturnedT ret;
  ret.batch_id = "R1";
  ret.line_no = 2;
  ret.reason = "closed";
  Raw(ret);  // an earlier year's payment returned
  fb::PaymentReissuedT re;
  re.batch_id = "R1";
  re.line_no = 2;
  re.document = "d";
  Raw(re);
  fb::RecoveredT rec;
  rec.beneficiary_id = "P1";
  rec.fund_id = "F-CH";
  rec.bucket = "general";
  rec.amount_fen = 20000;
  rec.cause = "no line named";
  rec.document = "d";
  Raw(rec);
  const uint64_t recovery = Last();
  Reverse(recovery);
  Reverse(gift);      // last year's donation, reversed this year
  Reverse(transfer);  // money back to F-SUB
  Raw(Expenditure({"F-CH", "general", "rent", fb::ExpenseClass::admin, "office", 105'000, "d"}));
  Raw(Donation({.fund = "F-CH", .amount_fen = 1000, .receipt_no = "r3"}));
  int reports = CheckEveryReport(*log_,
                                 {{"fund", "F-SUB"},
                                  {"fund", "F-CH"},
                                  {"fund", "F-LOT"},
                                  {"org", "org.F-CH"},
                                  {"project", "P-CARE"},
                                  {"project", "meals"}},
                                 {"2025", "2025-Q1", "2025-Q3", "2026", "2026-Q1", "2026-Q2"});
  EXPECT_EQ(reports, 36);
}

// A report whose figures do not add up is refused, naming them.
// Business dates out of log order: a donation received in March but posted in May, a roll of
// June approved in August, an expense of December posted in January. Each counts in its own
// period; every report still reconciles and recomputes, and a period opens where the one
// before it closed.
TEST_F(ImportedDisclosures, MoneyCountsAtItsBusinessDateWhateverItsPostingOrder) {
  At(2025, 1, 5);
  Program("dibao", 80000, 80000);
  Fund("F-CH", fb::FundKind::charity, {"dibao"});
  Person("P1", "110101", 1);
  Raw(Donation({.fund = "F-CH", .amount_fen = 1'000'000, .receipt_no = "r1"}));
  At(2025, 5, 10);
  fb::DonationReceivedT late =
      Donation({.fund = "F-CH", .amount_fen = 300'000, .receipt_no = "r2"});
  late.receipt_date = 20250320;  // received in March, posted in May
  Raw(late);
  At(2025, 8, 2);
  Pay("R6", "F-CH", "general", {{1, "P1", "dibao", 202506, 80000}});  // June's roll
  At(2026, 1, 8);
  fb::ExpensedT x = Expenditure(
      {"F-CH", "general", "printer", fb::ExpenseClass::admin, "office", 50'000, "invoice"});
  x.value_date = 20251228;  // December's bill, booked in January
  Raw(x);
  Result<DisclosureReport> q1 = Report("fund", "F-CH", "2025-Q1");
  ASSERT_TRUE(q1.ok()) << q1.status().ToString();
  EXPECT_EQ(q1->donations_fen, 1'300'000);
  EXPECT_EQ(q1->closing_fen, 1'300'000);
  Result<DisclosureReport> q2 = Report("fund", "F-CH", "2025-Q2");
  ASSERT_TRUE(q2.ok()) << q2.status().ToString();
  EXPECT_EQ(q2->opening_fen, 1'300'000);
  EXPECT_EQ(q2->donations_fen, 0);
  EXPECT_EQ(q2->outflows.at("payments"), 80000);
  Result<DisclosureReport> q3 = Report("fund", "F-CH", "2025-Q3");
  ASSERT_TRUE(q3.ok()) << q3.status().ToString();
  EXPECT_EQ(q3->outflows.at("payments"), 0);
  Result<DisclosureReport> year = Report("fund", "F-CH", "2025");
  ASSERT_TRUE(year.ok()) << year.status().ToString();
  EXPECT_EQ(year->year_admin_fen, 50'000);
  EXPECT_EQ(year->closing_fen, 1'300'000 - 80000 - 50'000);
  Result<DisclosureReport> next = Report("fund", "F-CH", "2026");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->opening_fen, year->closing_fen);
  EXPECT_EQ(next->outflows.at("expenses"), 0);
  CheckEveryReport(*log_, {{"fund", "F-CH"}, {"org", "org.F-CH"}},
                   {"2025", "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026", "2026-Q1"});
}

TEST(DisclosureReconciliation, AReportThatDoesNotReconcileIsRefused) {
  DisclosureReport r;
  r.scope = {"fund", "F-SUB", "2026"};
  r.opening_fen = 0;
  r.inflows = {{"donations", 100'000'100}};
  r.outflows = {{"payments", 4'015'000}};
  r.closing_fen = 97'245'000;
  Status s = CheckReconciliation(r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("fund F-SUB 2026 does not reconcile: opening 0.00 + inflows "
                             "1000001.00 - outflows 40150.00 = 959851.00, but the closing "
                             "balance is 972450.00"),
            std::string::npos)
      << s.message();
  r.closing_fen = 95'985'100;
  EXPECT_TRUE(CheckReconciliation(r).ok());
  // A stored report edited to break the identity does not read back.
  r.entries_digest = Hash{};
  std::string text = DisclosureJson(r);
  EXPECT_TRUE(DisclosureFromJson(text).ok());
  size_t at = text.find("\"closing_fen\":95985100");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 22, "\"closing_fen\":97245000");
  EXPECT_FALSE(DisclosureFromJson(text).ok());
}

TEST_F(ImportedDisclosures, RestrictedMoneyLeftIsTheBalanceAtThePeriodsEnd) {
  At(2025, 2, 1);
  Fund("F-CH", fb::FundKind::charity, {});
  Raw(Donation({.fund = "F-CH", .bucket = "meals", .amount_fen = 80000, .receipt_no = "r"}));
  At(2025, 5, 1);
  Raw(Expenditure({"F-CH", "meals", "school", fb::ExpenseClass::charitable, "meals", 50000, "d"}));
  Result<DisclosureReport> q1 = Report("fund", "F-CH", "2025-Q1");
  ASSERT_TRUE(q1.ok()) << q1.status().ToString();
  EXPECT_EQ(q1->restricted_left.at("F-CH/meals"), 80000);
  EXPECT_EQ(q1->closing_fen, 80000);
  Result<DisclosureReport> q2 = Report("fund", "F-CH", "2025-Q2");
  ASSERT_TRUE(q2.ok());
  EXPECT_EQ(q2->restricted_left.at("F-CH/meals"), 30000);
}

TEST_F(ImportedDisclosures, RollPaymentsAreCharitableSpending) {
  At(2024, 6, 1);
  Program("bursary", 800'000, 800'000);
  Fund("F-CH", fb::FundKind::charity, {"bursary"});
  Raw(Donation({.fund = "F-CH", .amount_fen = 1'000'000, .receipt_no = "r"}));
  Person("S1", "110101", 1, 200601);
  At(2025, 9, 1);
  Pay("R1", "F-CH", "general", {{1, "S1", "bursary", 202509, 800'000}});
  Result<DisclosureReport> r = Report("fund", "F-CH", "2025");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->previous_year_income_fen, 1'000'000);
  EXPECT_EQ(r->year_charitable_fen, 800'000);
}

TEST(DisclosurePercent, NeverRoundedToMeetALimit) {
  EXPECT_EQ(PercentText(105, 1000, PercentLimit::kAtMost), "10.5%");
  EXPECT_EQ(PercentText(105, 1000, PercentLimit::kAtLeast), "10.5%");
  EXPECT_EQ(PercentText(1001, 10000, PercentLimit::kAtMost), "10.1%");  // over 10%: shows it
  EXPECT_EQ(PercentText(1001, 10000, PercentLimit::kAtLeast), "10.0%");
  EXPECT_EQ(PercentText(6999, 10000, PercentLimit::kAtLeast), "69.9%");  // under 70%: shows it
  EXPECT_EQ(PercentText(7000, 10000, PercentLimit::kAtLeast), "70.0%");
  EXPECT_EQ(PercentText(1, 3, PercentLimit::kAtLeast), "33.3%");
  EXPECT_EQ(PercentText(0, 3, PercentLimit::kAtMost), "0.0%");
  EXPECT_EQ(PercentText(-1, 3, PercentLimit::kAtLeast), "-33.4%");
  EXPECT_EQ(PercentText(5, 0, PercentLimit::kAtMost), "-");
  EXPECT_EQ(PercentText(INT64_MAX, 1, PercentLimit::kAtMost), "922337203685477580700.0%");
}

}  // namespace
}  // namespace fundledger::testing
