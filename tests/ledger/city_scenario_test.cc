// A city over one year: three funds, 2,000 beneficiaries, 12 monthly rolls of 低保 and the two
// disability subsidies, a death in June, a bank return that is reissued and one that is not,
// and a charity's restricted donation spent correctly while a misuse is rejected. Final
// balances are checked against totals computed by hand below.
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

constexpr int kPeople = 2000;
constexpr int64_t kDibao = 104500;       // 1,045 yuan per person per month
constexpr int64_t kDisabLiving = 10000;  // 100 yuan
constexpr int64_t kDisabCare = 15000;    // 150 yuan
constexpr int kDeceased = 7;             // dies 2025-06-15: paid January to June
constexpr int kReturnedReissued = 100;   // March 低保 returned by the bank, then reissued
constexpr int kReturnedKept = 200;       // April 低保 returned, not reissued

std::string Ben(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "B%04d", i);
  return buf;
}
bool Living(int i) { return i % 4 == 0; }
bool Care(int i) { return i % 10 == 0; }

class CityScenario : public LedgerFixture {};

TEST_F(CityScenario, AYearOfSubsidiesBalancesToTheFen) {
  const std::vector<std::string> districts{"110101", "110102", "110105", "110106"};
  DefineProgram("dibao", fb::ProgramCategory::dibao, kDibao, kDibao, 202501, {"tekun"});
  DefineProgram("disab-living", fb::ProgramCategory::disability_living, kDisabLiving, kDisabLiving);
  DefineProgram("disab-care", fb::ProgramCategory::disability_care, kDisabCare, kDisabCare);
  OpenFund("F-DIBAO", fb::FundKind::subsidy, {"dibao"});
  OpenFund("F-DISAB", fb::FundKind::subsidy, {"disab-living", "disab-care"});
  OpenFund("F-COATS", fb::FundKind::charity, {}, {}, "charity.warmth");

  const int64_t dibao_budget = int64_t{kPeople} * 12 * kDibao + 10'000'000;
  const int64_t disab_budget = 500LL * 12 * kDisabLiving + 200LL * 12 * kDisabCare + 1'000'000;
  Appropriate("F-DIBAO", "general", dibao_budget);
  Appropriate("F-DISAB", "general", disab_budget);

  for (int i = 0; i < kPeople; ++i) {
    Register(Ben(i), districts[i % districts.size()], 195001 + (i % 12), i);
    Enroll(Ben(i), "dibao", kDibao);
    if (Living(i)) Enroll(Ben(i), "disab-living", kDisabLiving);
    if (Care(i)) Enroll(Ben(i), "disab-care", kDisabCare);
  }
  Ok(ChangeStatus(Ben(kDeceased), fb::BeneficiaryStatus::deceased, 20250615));

  for (int32_t month = 202501; month <= 202512; ++month) {
    std::vector<RollLine> dibao, disab;
    for (int i = 0; i < kPeople; ++i) {
      if (i == kDeceased && month > 202506) continue;
      dibao.push_back({static_cast<uint32_t>(dibao.size() + 1), Ben(i), "dibao", month, kDibao});
      if (Living(i))
        disab.push_back(
            {static_cast<uint32_t>(disab.size() + 1), Ben(i), "disab-living", month, kDisabLiving});
      if (Care(i))
        disab.push_back(
            {static_cast<uint32_t>(disab.size() + 1), Ben(i), "disab-care", month, kDisabCare});
    }
    std::string d = "DIBAO-" + std::to_string(month), x = "DISAB-" + std::to_string(month);
    if (month == 202507) {
      // The clerk's July roll still lists the deceased person: the whole roll is refused.
      std::vector<RollLine> with_dead = dibao;
      with_dead.push_back(
          {static_cast<uint32_t>(with_dead.size() + 1), Ben(kDeceased), "dibao", month, kDibao});
      Result<AppendResult> r = Prepare(d, "F-DIBAO", "general", month, with_dead);
      Rejects(r, "lines_rejected");
      ASSERT_EQ(r.status().details().size(), 1u);
      EXPECT_EQ(r.status().details()[0].rule(), "deceased");
      EXPECT_EQ(r.status().details()[0].line(), with_dead.size());
    }
    Ok(Prepare(d, "F-DIBAO", "general", month, dibao));
    Ok(Approve(d));
    Ok(Prepare(x, "F-DISAB", "general", month, disab));
    Ok(Approve(x));
  }

  // Bank returns: line numbers are positions in that month's roll (1-based).
  fb::PaymentReturnedT ret;
  ret.batch_id = "DIBAO-202503";
  ret.line_no = kReturnedReissued + 1;
  ret.reason = "account frozen";
  ret.bank_ref = "BR-0311";
  Ok(Do(ret));
  fb::PaymentReissuedT reissue;
  reissue.batch_id = "DIBAO-202503";
  reissue.line_no = kReturnedReissued + 1;
  reissue.document = "reissued to the new account";
  Ok(Do(reissue));
  ret.batch_id = "DIBAO-202504";
  ret.line_no = kReturnedKept + 1;
  ret.bank_ref = "BR-0412";
  Ok(Do(ret));

  // The charity: a restricted donation for winter coats and an open one.
  fb::DonationReceivedT don;
  don.fund_id = "F-COATS";
  don.bucket = "winter-coats";
  don.donor_id = "D-1";
  don.amount_fen = 1'000'000;
  don.receipt_no = "RC-2025-001";
  Ok(Do(don));
  don.bucket = "general";
  don.donor_id = "";
  don.amount_fen = 300'000;
  don.receipt_no = "RC-2025-002";
  Ok(Do(don));
  Ok(Expense("F-COATS", "winter-coats", "winter-coats", 600'000));
  Rejects(Expense("F-COATS", "winter-coats", "office", 100'000, fb::ExpenseClass::admin),
          "restricted_purpose");
  Ok(Expense("F-COATS", "general", "office", 50'000, fb::ExpenseClass::admin));

  // Hand-computed totals.
  const int64_t dibao_paid = int64_t{kPeople} * 12 * kDibao - 6 * kDibao - kDibao;
  const int64_t disab_paid = 500LL * 12 * kDisabLiving + 200LL * 12 * kDisabCare;
  EXPECT_EQ(FundBalance("F-DIBAO", "general").posted_fen, dibao_budget - dibao_paid);
  EXPECT_EQ(FundBalance("F-DISAB", "general").posted_fen, disab_budget - disab_paid);
  EXPECT_EQ(disab_budget - disab_paid, 1'000'000);
  EXPECT_EQ(FundBalance("F-COATS", "winter-coats").posted_fen, 400'000);
  EXPECT_EQ(FundBalance("F-COATS", "general").posted_fen, 250'000);
  EXPECT_EQ(FundBalance("F-DIBAO", "general").pending_fen, 0);
  EXPECT_EQ(projections().BalanceOf(BeneficiaryAccount(Ben(kReturnedReissued))).posted_fen,
            12 * (kDibao + kDisabLiving + kDisabCare));
  EXPECT_EQ(projections().BalanceOf(BeneficiaryAccount(Ben(kReturnedKept))).posted_fen,
            11 * kDibao + 12 * (kDisabLiving + kDisabCare));
  EXPECT_EQ(projections().BalanceOf(BeneficiaryAccount(Ben(kDeceased))).posted_fen, 6 * kDibao);
  EXPECT_EQ(projections().PaidTo(Ben(kReturnedKept)).at("dibao/202504").lines, 0);
  EXPECT_EQ(projections().BalanceOf(ExternalAccount("payees/charitable")).posted_fen, 600'000);

  // People paid per district: in July, district 110106 (i % 4 == 3) lacks the deceased B0007.
  std::map<std::string, RegionTotal> july = projections().RegionTotals("dibao");
  EXPECT_EQ(july.at("202507/110106").beneficiaries, kPeople / 4 - 1);
  EXPECT_EQ(july.at("202507/110101").beneficiaries, kPeople / 4);
  EXPECT_EQ(july.at("202504/110101").beneficiaries, kPeople / 4 - 1);  // B0200 returned in April
  EXPECT_EQ(july.at("202507/110101").amount_fen, kPeople / 4 * kDibao);

  ExpectInvariants();
  Reopen();
  EXPECT_EQ(FundBalance("F-DIBAO", "general").posted_fen, dibao_budget - dibao_paid);
  ExpectInvariants();
}

}  // namespace
}  // namespace fundledger::testing
