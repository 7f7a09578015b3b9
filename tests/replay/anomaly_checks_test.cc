// Anomaly checks over logs imported from elsewhere, written directly to the log with no rules
// applied (as another system might have produced them): every planted problem is found
// exactly once, and nothing else is reported.
#include "replay/anomaly_checks.h"

#include <map>
#include <regex>
#include <set>

#include "tests/replay/imported_log.h"

namespace fundledger::testing {
namespace {

// The figures of a sentence (amounts, percentages, dates, days, line numbers), in order of size.
std::multiset<std::string> Figures(const std::string& text) {
  static const std::regex figure("-?[0-9]+(\\.[0-9]+)?");
  std::multiset<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), figure);
       it != std::sregex_iterator(); ++it)
    out.insert(it->str());
  return out;
}

// A finding's Chinese sentence says what its English one says: the same figures, and no English
// words outside the names it quotes (“...”).
void ExpectChineseSaysTheSame(const Finding& f) {
  SCOPED_TRACE(f.check + ": " + f.detail + " / " + f.detail_zh);
  ASSERT_FALSE(f.detail_zh.empty());
  EXPECT_EQ(Figures(f.detail_zh), Figures(f.detail));
  const std::string unquoted = std::regex_replace(f.detail_zh, std::regex("“[^”]*”"), "");
  EXPECT_FALSE(std::regex_search(unquoted, std::regex("\\b[a-z]{3,}\\b"))) << unquoted;
}

class AnomalyChecks : public ImportedLog {
 protected:
  // As of the last entry's time unless told.
  std::multimap<std::string, std::string> Findings(int idle_days = 36500, int64_t as_of_ms = 0) {
    AnomalyOptions options;
    options.idle_days = idle_days;
    options.as_of_ms = as_of_ms != 0 ? as_of_ms : now_ms_;
    Result<std::vector<Finding>> f = RunAnomalyChecks(*log_, options);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    std::multimap<std::string, std::string> out;
    for (const Finding& x : *f) {
      EXPECT_FALSE(x.entries.empty()) << x.check;
      for (uint64_t e : x.entries) EXPECT_LT(e, log_->size()) << x.check;
      ExpectChineseSaysTheSame(x);
      out.emplace(x.check, x.subject);
    }
    return out;
  }

  // A lottery fund's money spent on a purpose it may not pay for (one lottery_misuse), the log
  // closed, and the CLI's `audit checks` over it, as of a day after.
  std::string LotteryMisuseChecks() {
    Fund("F-LOT", fb::FundKind::lottery_welfare, {}, {"elderly-care"});
    Money("F-LOT", "general", 1000, "lottery_pool");
    Raw(Expenditure(
        {.fund = "F-LOT", .payee = "p", .purpose = "stadium", .amount_fen = 10, .document = "d"}));
    EXPECT_TRUE(log_->Close().ok());
    return CliPath() + " audit checks --as-of 2024-06-01 --data " + dir();
  }
};

using Expected = std::multimap<std::string, std::string>;

TEST_F(AnomalyChecks, PaymentAndPeopleFindingsEachAppearOnce) {
  Program("dibao", 104500, 200000, {"tekun"});
  Program("tekun", 146300, 146300);
  Program("orphan", 228000, 228000, {}, 18);
  Fund("F-SUB", fb::FundKind::subsidy, {"dibao", "tekun", "orphan"});
  Money("F-SUB", "general", 100'000'000);
  std::vector<uint8_t> shared(32, 0xAB);
  Person("P1", "110101", 1);
  Person("P1b", "110102", 1);  // the same person in another district
  Person("P2", "110101", 2);
  Person("P2b", "110101", 2);  // the same person twice in one district
  Person("P3", "110101", 3, 196001, shared, "H-3");
  Person("P4", "110101", 4, 196001, shared, "H-4");  // another household, same account
  Person("D1", "110101", 5);
  Person("S1", "110101", 6);
  Person("K1", "110101", 7, 200501);  // 19 in 2024
  Person("A1", "110101", 8);
  Person("X1", "110101", 9);
  Person("OK", "110101", 10);
  fb::BeneficiaryChangedT death;
  death.beneficiary_id = "D1";
  death.status = fb::BeneficiaryStatus::deceased;
  death.effective_date = 20240310;
  death.reason = "r";
  Raw(death);
  fb::BeneficiaryChangedT suspend = death;
  suspend.beneficiary_id = "S1";
  suspend.status = fb::BeneficiaryStatus::suspended;
  suspend.effective_date = 20240401;
  Raw(suspend);
  Pay("R1", "F-SUB", "general",
      {{1, "P1", "dibao", 202403, 104500},
       {2, "P1b", "dibao", 202403, 104500},
       {3, "P2", "dibao", 202403, 104500},
       {4, "P2b", "dibao", 202403, 104500},
       {5, "P3", "dibao", 202403, 104500},
       {6, "P4", "dibao", 202403, 104500},
       {7, "D1", "dibao", 202403, 104500},
       {8, "K1", "orphan", 202403, 228000},
       {9, "A1", "dibao", 202403, 150000},
       {10, "X1", "dibao", 202403, 104500},
       {11, "X1", "tekun", 202403, 146300},
       {12, "OK", "dibao", 202403, 104500}});
  Pay("R2", "F-SUB", "general",
      {{1, "D1", "dibao", 202405, 104500}, {2, "S1", "dibao", 202404, 104500}});
  Expected expected{{"above_standard", "A1"},          {"excluded_combination", "X1"},
                    {"paid_after_death", "D1"},        {"paid_beyond_age_limit", "K1"},
                    {"paid_while_suspended", "S1"},    {"same_person_two_records", "P2"},
                    {"same_person_two_regions", "P1"}, {"shared_bank_account", "P3"}};
  EXPECT_EQ(Findings(), expected);
}

// A standard corrected back-dated after payments judges the lines prepared after it, never
// the ones paid under the term then in force; ages are counted from the birthday, half-open.
TEST_F(AnomalyChecks, PaymentsAreJudgedByTheStandardInForceWhenPreparedAndAgesByBirthday) {
  Program("dibao", 80000, 80000);
  Program("orphan", 228000, 228000, {}, 18);
  Fund("F-SUB", fb::FundKind::subsidy, {"dibao", "orphan"});
  Money("F-SUB", "general", 100'000'000);
  Person("E1", "110101", 1);
  Person("E2", "110101", 2);
  Person("T1", "110101", 3, 200603);  // 18 on 2024-03-01 (born in March 2006, counted from the 1st)
  Pay("R1", "F-SUB", "general", {{1, "E1", "dibao", 202401, 80000}});
  fb::ProgramStandardChangedT lower;
  lower.program_id = "dibao";
  lower.standard_fen = 70000;
  lower.cap_fen = 70000;
  lower.effective_month = 202401;
  lower.document = "correction of the 2024 standard";
  Raw(lower);
  Pay("R2", "F-SUB", "general",
      {{1, "E2", "dibao", 202402, 80000}, {2, "T1", "orphan", 202402, 228000}});
  Pay("R3", "F-SUB", "general", {{1, "T1", "orphan", 202403, 228000}});
  Expected expected{{"above_standard", "E2"}, {"paid_beyond_age_limit", "T1"}};
  EXPECT_EQ(Findings(), expected);
}

TEST_F(AnomalyChecks, MoneyMisuseFindingsEachAppearOnce) {
  Fund("F-SUB", fb::FundKind::subsidy, {});
  Fund("F-LOT", fb::FundKind::lottery_welfare, {}, {"elderly-care"});
  Fund("F-CH", fb::FundKind::charity, {});
  Fund("F-HOME", fb::FundKind::trust, {});
  Money("F-SUB", "general", 1'000'000);
  Money("F-LOT", "general", 1'000'000, "lottery_pool");
  Raw(Donation({.fund = "F-CH", .bucket = "meals", .amount_fen = 500'000, .receipt_no = "r"}));
  // Charitable, not admin: this test is about purpose, not ratios.
  ExpenseSpec misuse{.fund = "F-CH",
                     .bucket = "meals",
                     .payee = "landlord",
                     .purpose = "office",
                     .amount_fen = 1000,
                     .document = "inv"};
  Raw(Expenditure(misuse));
  ExpenseSpec proper = misuse;
  proper.purpose = "meals";
  proper.amount_fen = 400'000;
  Raw(Expenditure(proper));
  ExpenseSpec lottery = misuse;
  lottery.fund = "F-LOT";
  lottery.bucket = "general";
  lottery.purpose = "stadium";
  Raw(Expenditure(lottery));
  fb::LotteryGrantAwardedT grant;
  grant.from_fund_id = "F-LOT";
  grant.from_bucket = "general";
  grant.to_fund_id = "F-HOME";
  grant.project_id = "P1";
  grant.category = "racing";
  grant.amount_fen = 1000;
  grant.document = "g";
  Raw(grant);
  grant.category = "elderly-care";
  Raw(grant);
  fb::TransferredBetweenFundsT t;
  t.from_fund_id = "F-SUB";
  t.from_bucket = "general";
  t.to_fund_id = "F-HOME";
  t.to_bucket = "general";
  t.amount_fen = 1000;
  t.document = "t";
  Raw(t);
  Expected expected{{"lottery_misuse", "F-LOT"},
                    {"lottery_misuse", "F-LOT"},
                    {"restricted_misuse", "F-CH"},
                    {"transfer_out_of_fund", "F-SUB"}};
  std::multimap<std::string, std::string> found = Findings();
  // The charity had no quarterly disclosure: that is its own finding, checked below.
  found.erase("disclosure_overdue");
  EXPECT_EQ(found, expected);
}

TEST_F(AnomalyChecks, IdleMoneyCharityRatiosAndOverdueDisclosures) {
  At(2024, 1, 10);
  Fund("F-IDLE", fb::FundKind::subsidy, {});
  Fund("F-BUSY", fb::FundKind::subsidy, {});
  Fund("F-CH", fb::FundKind::charity, {});
  Money("F-IDLE", "general", 1000);
  Raw(Donation({.fund = "F-CH", .amount_fen = 1'000'000, .receipt_no = "r"}));  // 2024 income
  fb::DisclosurePublishedT q;
  q.organisation = "org.F-CH";
  q.fund_id = "F-CH";
  q.period = "2025-Q3";
  q.schedule_item = "quarterly";
  q.report_sha256.assign(32, 7);
  q.checkpoint_size = 1;
  At(2025, 3, 1);
  ExpenseSpec work{.fund = "F-CH",
                   .payee = "school",
                   .purpose = "meals",
                   .amount_fen = 500'000,  // 2025 charitable spending: 50% of 2024 income
                   .document = "inv"};
  Raw(Expenditure(work));
  ExpenseSpec admin = work;
  admin.expense_class = fb::ExpenseClass::admin;
  admin.purpose = "office";
  admin.amount_fen = 200'000;  // 200,000 of 700,000 spent in 2025: 28%
  Raw(Expenditure(admin));
  At(2025, 12, 20);
  Raw(q);  // a quarterly disclosure: not overdue; but no annual report for 2024 by 2025-05-31
  At(2026, 1, 10);
  Money("F-BUSY", "general", 1000);
  Expected expected{{"admin_above_10pct", "F-CH"},
                    {"charitable_below_70pct", "F-CH"},
                    {"disclosure_overdue", "F-CH"},    // the annual report for 2024
                    {"idle_balance", "F-CH/general"},  // 3,000 yuan left since March 2025
                    {"idle_balance", "F-IDLE/general"}};
  EXPECT_EQ(Findings(180), expected);
  // With a longer tolerance the idle money is not reported.
  Expected tolerant = expected;
  tolerant.erase("idle_balance");
  EXPECT_EQ(Findings(1000), tolerant);
}

TEST_F(AnomalyChecks, CliChecksPrintTableJsonAndCsv) {
  const std::string base = LotteryMisuseChecks();
  CommandResult table = RunCommand(base);
  EXPECT_EQ(table.exit_code, 0) << table.out;
  EXPECT_NE(table.out.find("lottery_misuse"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("1 finding(s)"), std::string::npos) << table.out;
  CommandResult json = RunCommand(base + " --format json");
  EXPECT_NE(json.out.find("\"check\":\"lottery_misuse\""), std::string::npos) << json.out;
  CommandResult csv = RunCommand(base + " --format csv");
  EXPECT_NE(csv.out.find("check,subject,detail,entries\nlottery_misuse,F-LOT,"), std::string::npos)
      << csv.out;
}

// --lang zh: the CSV for Excel (a BOM, Chinese headings, each detail in Chinese) and the table in
// Chinese; the checks' ids stay as they are; a language the CLI does not speak is refused.
TEST_F(AnomalyChecks, CliChecksSpeakChineseWhenAsked) {
  const std::string base = LotteryMisuseChecks();
  CommandResult csv = RunCommand(base + " --format csv --lang zh");
  EXPECT_EQ(csv.exit_code, 0) << csv.out;
  const std::string head = "\xEF\xBB\xBF检查项,对象,说明,相关日志条目\nlottery_misuse,F-LOT,";
  ASSERT_EQ(csv.out.substr(0, head.size()), head) << csv.out;
  const std::string row =
      csv.out.substr(head.size(), csv.out.find('\n', head.size()) - head.size());
  const std::string unquoted = std::regex_replace(row, std::regex("“[^”]*”"), "");
  EXPECT_NE(row.find("彩票公益金"), std::string::npos) << row;  // the Chinese detail
  EXPECT_FALSE(std::regex_search(unquoted, std::regex("[a-z]{3,}"))) << row;
  CommandResult table = RunCommand(base + " --lang zh");
  EXPECT_EQ(table.exit_code, 0) << table.out;
  EXPECT_EQ(table.out.rfind("检查项", 0), 0u) << table.out;
  EXPECT_NE(table.out.find("共 1 项"), std::string::npos) << table.out;
  CommandResult english = RunCommand(base + " --format csv --lang en");
  EXPECT_EQ(english.out.rfind("check,subject,detail,entries\nlottery_misuse,F-LOT,", 0), 0u)
      << english.out;
  CommandResult french = RunCommand(base + " --lang fr");
  EXPECT_NE(french.exit_code, 0) << french.out;
}

// The CSV writers quote what needs quoting, in either language, and fall back to the English
// detail where no Chinese one was written.
TEST(FindingsCsv, QuotesCellsAndFallsBackToEnglishDetail) {
  std::vector<Finding> findings = {{.check = "duplicate_payment",
                                    .subject = "B1",
                                    .detail = "paid \"twice\", 2025-03",
                                    .detail_zh = "重复发放，2025-03，金额 1,000.00 元",
                                    .entries = {3, 7}},
                                   {.check = "idle_balance",
                                    .subject = "F-1/general",
                                    .detail = "idle",
                                    .detail_zh = "",
                                    .entries = {9}}};
  EXPECT_EQ(FindingsCsv(findings, FindingsLanguage::kZh),
            "\xEF\xBB\xBF检查项,对象,说明,相关日志条目\n"
            "duplicate_payment,B1,\"重复发放，2025-03，金额 1,000.00 元\",3 7\n"
            "idle_balance,F-1/general,idle,9\n");
  EXPECT_EQ(FindingsCsv(findings),
            "check,subject,detail,entries\n"
            "duplicate_payment,B1,\"paid \"\"twice\"\", 2025-03\",3 7\n"
            "idle_balance,F-1/general,idle,9\n");
}

int64_t Day(int year, int month, int day) { return NoonInChina(year, month, day); }

// A log quiet since 2024-01 checked in 2026-12 shows its idle money; checked in 2024-02, not.
TEST_F(AnomalyChecks, ChecksRunAsOfTheDayTheyAreGivenNotTheLastEntry) {
  At(2024, 1, 10);
  Fund("F-IDLE", fb::FundKind::subsidy, {});
  Money("F-IDLE", "general", 1000);
  EXPECT_EQ(Findings(180, Day(2026, 12, 1)), (Expected{{"idle_balance", "F-IDLE/general"}}));
  EXPECT_EQ(Findings(180, Day(2024, 2, 1)), Expected{});
  // Entries after the instant are not read: money that arrives later is not there yet.
  At(2026, 11, 1);
  Money("F-IDLE", "general", 1000);
  EXPECT_EQ(Findings(180, Day(2026, 12, 1)), Expected{});
  EXPECT_EQ(Findings(180, Day(2026, 10, 1)), (Expected{{"idle_balance", "F-IDLE/general"}}));
}

TEST_F(AnomalyChecks, DisclosureClockStartsAtTheFirstActivityAndStaleReportsDoNotCount) {
  At(2025, 3, 15);
  Fund("F-CH", fb::FundKind::charity, {});
  Raw(Donation({.fund = "F-CH", .amount_fen = 1'000'000, .receipt_no = "r"}));
  EXPECT_EQ(Findings(36500, Day(2025, 3, 15)), Expected{});  // not overdue on its first day
  EXPECT_EQ(Findings(36500, Day(2025, 6, 10)), Expected{});  // 87 days
  EXPECT_EQ(Findings(36500, Day(2025, 6, 20)), (Expected{{"disclosure_overdue", "F-CH"}}));
  // A "quarterly" report for 2020-Q1 filed now does not clear the obligation.
  At(2025, 7, 1);
  fb::DisclosurePublishedT q;
  q.organisation = "org.F-CH";
  q.fund_id = "F-CH";
  q.period = "2020-Q1";
  q.schedule_item = "quarterly";
  q.report_sha256.assign(32, 7);
  q.checkpoint_size = 1;
  Raw(q);
  EXPECT_EQ(Findings(36500, Day(2025, 7, 2)), (Expected{{"disclosure_overdue", "F-CH"}}));
  q.period = "2025-Q2";  // a current one does
  Raw(q);
  EXPECT_EQ(Findings(36500, Day(2025, 7, 2)), Expected{});
}

// Years are counted by business dates: December's spending booked in January is that
// December's; an interim report (published before its quarter ended) meets no deadline.
TEST_F(AnomalyChecks, YearsCountByBusinessDateAndInterimReportsMeetNoDeadline) {
  At(2024, 3, 15);
  Fund("F-CH", fb::FundKind::charity, {});
  Raw(Donation({.fund = "F-CH", .amount_fen = 1'000'000, .receipt_no = "r"}));  // 2024 income
  At(2026, 1, 10);
  fb::ExpensedT x = Expenditure({.fund = "F-CH",
                                 .payee = "school",
                                 .purpose = "meals",
                                 .amount_fen = 800'000,
                                 .document = "i"});
  x.value_date = 20251220;  // 80% of 2024's income, spent in 2025
  Raw(x);
  Expected found = Findings(36500, Day(2026, 2, 1));
  found.erase("disclosure_overdue");
  EXPECT_EQ(found, Expected{});
  fb::DisclosurePublishedT q;
  q.organisation = "org.F-CH";
  q.fund_id = "F-CH";
  q.period = "2026-Q1";  // still running on 2026-01-10
  q.schedule_item = "quarterly";
  q.report_sha256.assign(32, 7);
  q.checkpoint_size = 1;
  Raw(q);
  q.period = "2024";  // the annual report of 2024, late but final
  q.schedule_item = "annual";
  Raw(q);
  q.period = "2025";
  Raw(q);
  // No current quarterly report: the interim one does not count.
  EXPECT_EQ(Findings(36500, Day(2026, 2, 1)), (Expected{{"disclosure_overdue", "F-CH"}}));
}

// Income in 2025 and nothing at all in 2026: the 70% rule is broken for 2026.
TEST_F(AnomalyChecks, ACharityInactiveAllYearIsReported) {
  At(2025, 3, 15);
  Fund("F-CH", fb::FundKind::charity, {});
  Raw(Donation({.fund = "F-CH", .amount_fen = 1'000'000, .receipt_no = "r"}));
  std::multimap<std::string, std::string> found = Findings(36500, Day(2027, 1, 10));
  found.erase("disclosure_overdue");
  EXPECT_EQ(found, (Expected{{"charitable_below_70pct", "F-CH"}}));
}

// Corrections that broke the one-payment rule in an imported log are reported.
TEST_F(AnomalyChecks, DuplicatePaymentsAndNegativeBalancesAreReported) {
  Program("dibao", 80000, 80000);
  Fund("F-SUB", fb::FundKind::subsidy, {"dibao"});
  Money("F-SUB", "general", 10'000'000);
  Person("P1", "110101", 1);
  Person("P2", "110101", 2);
  // Recover March in full, reverse the recovery, pay March again: 1,600.00 for one month.
  Pay("R1", "F-SUB", "general", {{1, "P1", "dibao", 202403, 80000}});
  fb::RecoveredT rec;
  rec.beneficiary_id = "P1";
  rec.fund_id = "F-SUB";
  rec.bucket = "general";
  rec.amount_fen = 80000;
  rec.cause = "c";
  rec.batch_id = "R1";
  rec.line_no = 1;
  rec.document = "d";
  Raw(rec);
  fb::ReversalT rev;
  rev.entry_index = log_->size() - 1;
  rev.reason = "r";
  Raw(rev);
  Pay("R2", "F-SUB", "general", {{1, "P1", "dibao", 202403, 80000}});
  // Return, reissue, reverse the reissue, return again: -800.00.
  Pay("R3", "F-SUB", "general", {{1, "P2", "dibao", 202403, 80000}});
  fb::PaymentReturnedT ret;
  ret.batch_id = "R3";
  ret.line_no = 1;
  ret.reason = "r";
  Raw(ret);
  fb::PaymentReissuedT re;
  re.batch_id = "R3";
  re.line_no = 1;
  re.document = "d";
  Raw(re);
  rev.entry_index = log_->size() - 1;
  Raw(rev);
  Raw(ret);
  EXPECT_EQ(Findings(), (Expected{{"duplicate_payment", "P1"}, {"negative_balance", "P2"}}));
}

TEST_F(AnomalyChecks, LotteryElderlyShareAndYearlyAnnouncement) {
  At(2025, 4, 1);
  Fund("F-LOT", fb::FundKind::lottery_welfare, {}, {"elderly-care", "child-welfare"});
  Fund("F-HOME", fb::FundKind::trust, {});
  Money("F-LOT", "general", 10'000'000, "lottery_pool");
  fb::LotteryGrantAwardedT grant;
  grant.from_fund_id = "F-LOT";
  grant.from_bucket = "general";
  grant.to_fund_id = "F-HOME";
  grant.project_id = "P1";
  grant.category = "elderly-care";
  grant.amount_fen = 549'999;  // of 1,000,000: 54.9999%, under 55%
  grant.document = "g";
  Raw(grant);
  grant.category = "child-welfare";
  grant.project_id = "P2";
  grant.amount_fen = 450'001;
  Raw(grant);
  // During the year nothing is due yet.
  EXPECT_EQ(Findings(36500, Day(2025, 12, 1)), Expected{});
  EXPECT_EQ(Findings(36500, Day(2026, 7, 2)), (Expected{{"lottery_announcement_missing", "F-LOT"},
                                                        {"lottery_elderly_below_55pct", "F-LOT"}}));
  At(2026, 6, 1);
  fb::DisclosurePublishedT a;
  a.organisation = "org.F-LOT";
  a.fund_id = "F-LOT";
  a.period = "2025";
  a.schedule_item = "annual";
  a.report_sha256.assign(32, 7);
  a.checkpoint_size = 1;
  Raw(a);
  EXPECT_EQ(Findings(36500, Day(2026, 7, 2)), (Expected{{"lottery_elderly_below_55pct", "F-LOT"}}));
}

}  // namespace
}  // namespace fundledger::testing
