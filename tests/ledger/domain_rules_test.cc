// One test per ledger rule: each shows the rejection a finance clerk gets (a stable rule code,
// the field, the line) and that nothing was appended.
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

using fb::BeneficiaryStatus;
using fb::FundKind;
using fb::ProgramCategory;

class Rules : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    DefineProgram("dibao", ProgramCategory::dibao, 104500, 104500);
    DefineProgram("tekun", ProgramCategory::tekun, 146300, 146300, 202501, {"dibao"});
    DefineProgram("orphan", ProgramCategory::orphan, 228000, 228000, 202501, {}, 0, 18);
    DefineProgram("elderly80", ProgramCategory::elderly_allowance, 10000, 10000, 202501, {}, 80, 0);
    OpenFund("F-SUB", FundKind::subsidy, {"dibao", "tekun", "orphan", "elderly80"});
    Appropriate("F-SUB", "general", 100'000'000);
    Register("B1");
    Enroll("B1", "dibao", 104500);
  }
  uint64_t Size() { return ledger_->log().size(); }
  // An expense F-SUB cannot pay: it fails a submission after what precedes it was applied.
  static fb::ExpensedT TooLargeExpense() { return ExpenseBeyondTheFund("F-SUB", "dibao"); }
};

TEST_F(Rules, ApprovedRollPaysAndMovesMoney) {
  Ok(Prepare("R1", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}}));
  EXPECT_EQ(FundBalance("F-SUB", "general").pending_fen, 104500);
  Ok(Approve("R1"));
  EXPECT_EQ(FundBalance("F-SUB", "general").posted_fen, 100'000'000 - 104500);
  EXPECT_EQ(FundBalance("F-SUB", "general").pending_fen, 0);
  EXPECT_EQ(projections().BalanceOf(BeneficiaryAccount("B1")).posted_fen, 104500);
  EXPECT_EQ(projections().PaidTo("B1").at("dibao/202503").amount_fen, 104500);
  ExpectInvariants();
}

TEST_F(Rules, APersonRegisteredByARejectedSubmissionIsNotThere) {
  fb::BeneficiaryRegisteredT b;
  b.beneficiary_id = "GONE";
  b.household_id = "HG";
  b.region_code = "110105";
  Hash h = ledger_->vault().IdLookup("gone-1");
  b.id_commitment.assign(h.begin(), h.end());
  b.birth_month = 196001;
  b.registered_date = 20250101;
  fb::ExpensedT x = TooLargeExpense();  // fails after the registration was applied
  EXPECT_FALSE(Do({b, x}, kAdmin).ok());
  Rejects(Prepare("RG", "F-SUB", "general", 202503, {{1, "GONE", "dibao", 202503, 104500}}),
          "lines_rejected");
  ledger_->domain().Read([](const DomainState& s) {
    EXPECT_EQ(s.FindBeneficiary("GONE"), nullptr) << "the rolled-back person is still found";
  });
}

TEST_F(Rules, AmountsMustBePositive) {
  fb::AppropriatedT e;
  e.fund_id = "F-SUB";
  e.bucket = "general";
  e.amount_fen = 0;
  e.source = "treasury";
  e.document = "d";
  uint64_t before = Size();
  Result<AppendResult> r = Do(e);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), "amount_fen");
  EXPECT_EQ(Size(), before);
}

TEST_F(Rules, FundsNeverGoNegativeAndReservationsCount) {
  OpenFund("F-SMALL", FundKind::subsidy, {"dibao"});
  Appropriate("F-SMALL", "general", 150000);
  Ok(Prepare("R1", "F-SMALL", "general", 202503, {{1, "B1", "dibao", 202503, 104500}}));
  // 104,500 reserved: only 455.00 yuan is available for anything else.
  Rejects(Expense("F-SMALL", "general", "dibao", 50000), "insufficient_funds");
  Ok(Expense("F-SMALL", "general", "dibao", 45500));
  Register("B2");
  Enroll("B2", "dibao", 104500);
  Rejects(Prepare("R2", "F-SMALL", "general", 202503, {{1, "B2", "dibao", 202503, 100}}),
          "insufficient_funds");
  ExpectInvariants();
}

TEST_F(Rules, NoPaymentForThePeriodAfterDeath) {
  Ok(ChangeStatus("B1", BeneficiaryStatus::deceased, 20250415));
  // Died mid-April: April is still paid (active on its first day), May is not.
  Ok(Prepare("R4", "F-SUB", "general", 202504, {{1, "B1", "dibao", 202504, 104500}}));
  Result<AppendResult> may =
      Prepare("R5", "F-SUB", "general", 202505, {{1, "B1", "dibao", 202505, 104500}});
  Rejects(may, "lines_rejected");
  ASSERT_EQ(may.status().details().size(), 1u);
  EXPECT_EQ(may.status().details()[0].rule(), "deceased");
  EXPECT_EQ(may.status().details()[0].line(), 1u);
  EXPECT_EQ(may.status().details()[0].field(), "beneficiary_id");
}

TEST_F(Rules, SuspendedOrExitedBeneficiaryIsNotPaid) {
  Ok(ChangeStatus("B1", BeneficiaryStatus::suspended, 20250301));
  Result<AppendResult> r =
      Prepare("R3", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}});
  Rejects(r, "lines_rejected");
  EXPECT_EQ(r.status().details()[0].rule(), "not_active");
  Ok(ChangeStatus("B1", BeneficiaryStatus::active, 20250401));
  Ok(Prepare("R4", "F-SUB", "general", 202504, {{1, "B1", "dibao", 202504, 104500}}));
}

TEST_F(Rules, LineNeedsAnEnrollmentForThatMonth) {
  Register("B2");
  Enroll("B2", "dibao", 104500, 202503, 202503);
  Ok(Prepare("R3", "F-SUB", "general", 202503, {{1, "B2", "dibao", 202503, 104500}}));
  Result<AppendResult> r =
      Prepare("R4", "F-SUB", "general", 202504, {{1, "B2", "dibao", 202504, 104500}});
  EXPECT_EQ(r.status().details()[0].rule(), "not_enrolled");
}

TEST_F(Rules, AmountAboveTheCapOfThatMonthIsRejected) {
  Result<AppendResult> r =
      Prepare("R3", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104501}});
  EXPECT_EQ(r.status().details()[0].rule(), "over_cap");
  EXPECT_EQ(r.status().details()[0].field(), "amount_fen");
  // The standard rises in July: the higher amount is fine from then on.
  fb::ProgramStandardChangedT change;
  change.program_id = "dibao";
  change.standard_fen = 110000;
  change.cap_fen = 110000;
  change.effective_month = 202507;
  change.document = "standard-2025";
  Ok(Do(change, kAdmin));
  Ok(Do(EnrolmentChange("B1", "dibao", 110000, 202507, "approval-raise")));
  Ok(Prepare("R7", "F-SUB", "general", 202507, {{1, "B1", "dibao", 202507, 110000}}));
  r = Prepare("R6", "F-SUB", "general", 202506, {{1, "B1", "dibao", 202506, 110000}});
  EXPECT_EQ(r.status().details()[0].rule(), "over_cap");
}

TEST_F(Rules, FundMustBeAllowedToPayTheProgram) {
  OpenFund("F-OTHER", FundKind::subsidy, {"tekun"});
  Appropriate("F-OTHER", "general", 1'000'000);
  Result<AppendResult> r =
      Prepare("R3", "F-OTHER", "general", 202503, {{1, "B1", "dibao", 202503, 104500}});
  EXPECT_EQ(r.status().details()[0].rule(), "program_not_allowed");
}

TEST_F(Rules, OnePaidLinePerPersonProgramAndPeriodUnlessReturned) {
  Ok(Prepare("R1", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}}));
  // A pending line already holds the slot: a second roll cannot pay it again.
  Result<AppendResult> r =
      Prepare("R2", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}});
  EXPECT_EQ(r.status().details()[0].rule(), "duplicate_payment");
  Ok(Approve("R1"));
  r = Prepare("R2", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}});
  EXPECT_EQ(r.status().details()[0].rule(), "duplicate_payment");
  // Twice in one roll.
  r = Prepare("R3", "F-SUB", "general", 202504,
              {{1, "B1", "dibao", 202504, 1000}, {2, "B1", "dibao", 202504, 1000}});
  EXPECT_EQ(r.status().details()[0].rule(), "duplicate_payment");
  EXPECT_EQ(r.status().details()[0].line(), 2u);
  // The bank returns it: a new roll may pay it, and the returned line may not be reissued on top.
  fb::PaymentReturnedT ret;
  ret.batch_id = "R1";
  ret.line_no = 1;
  ret.reason = "account closed";
  ret.bank_ref = "BR-1";
  Ok(Do(ret));
  EXPECT_EQ(projections().BalanceOf(BeneficiaryAccount("B1")).posted_fen, 0);
  Ok(Prepare("R2b", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}}));
  Ok(Approve("R2b"));
  fb::PaymentReissuedT re;
  re.batch_id = "R1";
  re.line_no = 1;
  re.document = "reissue";
  Rejects(Do(re), "duplicate_payment");
  ExpectInvariants();
}

TEST_F(Rules, ReturnedPaymentCanBeReissuedOnce) {
  Ok(Prepare("R1", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}}));
  Ok(Approve("R1"));
  fb::PaymentReturnedT ret;
  ret.batch_id = "R1";
  ret.line_no = 1;
  ret.reason = "wrong account";
  Ok(Do(ret));
  Rejects(Do(ret), "line_not_paid");
  fb::PaymentReissuedT re;
  re.batch_id = "R1";
  re.line_no = 1;
  Ok(Do(re));
  Rejects(Do(re), "line_not_returned");
  EXPECT_EQ(projections().BalanceOf(BeneficiaryAccount("B1")).posted_fen, 104500);
  ExpectInvariants();
}

TEST_F(Rules, ExcludedProgramsAreNotCombinedInOneMonth) {
  // Refused at enrolment, in both directions (tekun names dibao), while the months overlap.
  Result<AppendResult> r = Do(Enrolment("B1", "tekun", 146300, 202503, "approval-tekun"));
  Rejects(r, "excluded_combination");
  EXPECT_EQ(r.status().field(), "program_id");
  Register("B2");
  Enroll("B2", "tekun", 146300);
  Rejects(Do(Enrolment("B2", "dibao", 104500, 202506, "approval-dibao")), "excluded_combination");
  // Once dibao ends (February), tekun may follow it (March), and each is paid in its months.
  Ok(Do(EnrolmentChange("B1", "dibao", 104500, 202501, "dibao-ends", 202502)));
  Ok(Do(Enrolment("B1", "tekun", 146300, 202503, "approval-tekun")));
  Ok(Prepare("R2", "F-SUB", "general", 202502, {{1, "B1", "dibao", 202502, 104500}}));
  Ok(Prepare("R3", "F-SUB", "general", 202503, {{1, "B1", "tekun", 202503, 146300}}));
  r = Prepare("R3b", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}});
  Rejects(r, "lines_rejected");
  EXPECT_EQ(r.status().details()[0].rule(), "not_enrolled");
}

TEST_F(Rules, AgeLimitsAreHonoured) {
  // Ages are judged on the period's first day. Sequence 1000 is born on the 2nd.
  Register("KID", "110105", 200704, 1000);  // 18 on 2 April 2025: 17 on 1 April
  Enroll("KID", "orphan", 228000);
  Ok(Prepare("O4", "F-SUB", "general", 202504, {{1, "KID", "orphan", 202504, 228000}}));
  Result<AppendResult> r =
      Prepare("O5", "F-SUB", "general", 202505, {{1, "KID", "orphan", 202505, 228000}});
  EXPECT_EQ(r.status().details()[0].rule(), "age_limit");
  Register("OLD", "110105", 194506, 1000);  // 80 on 2 June 2025: from July on 1st
  Enroll("OLD", "elderly80", 10000);
  r = Prepare("E6", "F-SUB", "general", 202506, {{1, "OLD", "elderly80", 202506, 10000}});
  EXPECT_EQ(r.status().details()[0].rule(), "age_limit");
  Ok(Prepare("E7", "F-SUB", "general", 202507, {{1, "OLD", "elderly80", 202507, 10000}}));
}

TEST_F(Rules, RestrictedMoneyIsSpentOnlyOnItsPurpose) {
  OpenFund("F-CHARITY", FundKind::charity, {}, {}, "charity.sunshine");
  fb::DonationReceivedT d;
  d.fund_id = "F-CHARITY";
  d.bucket = "school-meals";
  d.donor_id = "D-100";
  d.amount_fen = 500000;
  d.receipt_no = "RC-1";
  Ok(Do(d));
  Rejects(Expense("F-CHARITY", "school-meals", "office-rent", 1000, fb::ExpenseClass::admin),
          "restricted_purpose");
  Ok(Expense("F-CHARITY", "school-meals", "school-meals", 200000));
  // Moving it to another fund keeps the restriction; a release with consent frees it.
  OpenFund("F-CHARITY2", FundKind::charity, {});
  Rejects(Do(Transfer("F-CHARITY", "school-meals", "F-CHARITY2", "general", 1000, "transfer")),
          "restricted_purpose");
  fb::RestrictionReleasedT rel;
  rel.fund_id = "F-CHARITY";
  rel.bucket = "school-meals";
  rel.to_bucket = "general";
  rel.amount_fen = 100000;
  rel.consent_ref = "consent:donor-letter-2025-07";
  Ok(Do(rel));
  Ok(Expense("F-CHARITY", "general", "office-rent", 1000, fb::ExpenseClass::admin));
  ExpectInvariants();
}

TEST_F(Rules, LotteryMoneyGoesOnlyToApprovedCategories) {
  OpenFund("F-LOTTERY", FundKind::lottery_welfare, {}, {"elderly-care", "child-welfare"});
  fb::AppropriatedT a;
  a.fund_id = "F-LOTTERY";
  a.bucket = "general";
  a.amount_fen = 10'000'000;
  a.source = "lottery_pool";
  a.document = "lottery 2025";
  Ok(Do(a));
  OpenFund("F-HOME", FundKind::charity, {});
  fb::LotteryGrantAwardedT g;
  g.from_fund_id = "F-LOTTERY";
  g.from_bucket = "general";
  g.to_fund_id = "F-HOME";
  g.project_id = "P-NURSING-1";
  g.category = "stadium";
  g.amount_fen = 1'000'000;
  g.document = "grant";
  Rejects(Do(g), "lottery_category");
  g.category = "elderly-care";
  Ok(Do(g));
  EXPECT_EQ(FundBalance("F-HOME", "P-NURSING-1").posted_fen, 1'000'000);
  Rejects(Expense("F-LOTTERY", "general", "stadium", 1000), "lottery_category");
  Rejects(Expense("F-HOME", "P-NURSING-1", "office-rent", 1000), "restricted_purpose");
  fb::TransferredBetweenFundsT t;
  t.from_fund_id = "F-LOTTERY";
  t.from_bucket = "general";
  t.to_fund_id = "F-HOME";
  t.to_bucket = "general";
  t.amount_fen = 1000;
  t.document = "move";
  Rejects(Do(t), "lottery_ring_fenced");
  ExpectInvariants();
}

TEST_F(Rules, CheckerMustDifferFromMaker) {
  Ok(Prepare("R1", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}}));
  Rejects(Approve("R1", Actor{kMaker.name, fb::Role::checker}), "same_maker_checker");
  Ok(Approve("R1"));
  Rejects(Approve("R1", kAdmin), "batch_not_prepared");
}

TEST_F(Rules, RejectedBatchReleasesItsReservationAndSlots) {
  Ok(Prepare("R1", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}}));
  fb::DisbursementBatchRejectedT rej;
  rej.batch_id = "R1";
  rej.reason = "wrong month";
  Ok(Do(rej, kChecker));
  EXPECT_EQ(FundBalance("F-SUB", "general").pending_fen, 0);
  Ok(Prepare("R1b", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}}));
  ExpectInvariants();
}

TEST_F(Rules, ARejectedRollAppendsNothingAndReportsEveryBadLine) {
  Register("B2");
  Enroll("B2", "dibao", 104500);
  uint64_t before = Size();
  Result<AppendResult> r = Prepare("R3", "F-SUB", "general", 202503,
                                   {{1, "B1", "dibao", 202503, 104500},
                                    {2, "NOBODY", "dibao", 202503, 104500},
                                    {3, "B2", "dibao", 202503, 999999},
                                    {4, "B2", "nothing", 202503, 100}});
  Rejects(r, "lines_rejected");
  ASSERT_EQ(r.status().details().size(), 3u);
  EXPECT_EQ(r.status().details()[0].line(), 2u);
  EXPECT_EQ(r.status().details()[0].rule(), "unknown_beneficiary");
  EXPECT_EQ(r.status().details()[1].line(), 3u);
  EXPECT_EQ(r.status().details()[1].rule(), "over_cap");
  EXPECT_EQ(r.status().details()[2].line(), 4u);
  EXPECT_EQ(r.status().details()[2].rule(), "unknown_program");
  EXPECT_EQ(Size(), before);
  EXPECT_EQ(FundBalance("F-SUB", "general").pending_fen, 0);
}

// A large roll is checked on two threads; the report must still list every bad line once, in
// line order, with the batch-level checks (duplicates) in both halves.
TEST_F(Rules, ALargeRollReportsEveryBadLineInOrder) {
  std::vector<RollLine> lines;
  for (uint32_t i = 1; i <= 6000; ++i)
    lines.push_back(
        {i, i % 1000 == 0 ? "B1" : "NOBODY-" + std::to_string(i), "dibao", 202503, 104500});
  lines.push_back({6001, "NOBODY-10", "dibao", 202503, 104500});  // paid twice in this roll
  lines.push_back({6001, "B1", "dibao", 202503, 104500});         // line number repeated
  uint64_t before = Size();
  Result<AppendResult> r = Prepare("R-BIG", "F-SUB", "general", 202503, lines);
  Rejects(r, "lines_rejected");
  const std::vector<Status>& details = r.status().details();
  ASSERT_EQ(details.size(),
            6000u - 6 + 2 + 5);  // unknown people, the duplicates, B1 five more times
  for (size_t i = 1; i < details.size(); ++i) ASSERT_LE(details[i - 1].line(), details[i].line());
  EXPECT_EQ(details.front().line(), 1u);
  EXPECT_EQ(details.front().rule(), "unknown_beneficiary");
  EXPECT_EQ(details[details.size() - 2].rule(), "duplicate_payment");
  EXPECT_EQ(details.back().rule(), "duplicate_line_no");
  EXPECT_EQ(Size(), before);
}

TEST_F(Rules, AMultiEntrySubmissionIsAllOrNothing) {
  fb::FundOpenedT f;
  f.fund_id = "F-NEW";
  f.name = "New";
  f.organisation = "bureau.city";
  f.currency = "CNY";
  f.programs = {"dibao"};
  fb::AppropriatedT a;
  a.fund_id = "F-NEW";
  a.bucket = "general";
  a.amount_fen = 1000;
  a.source = "treasury";
  a.document = "d";
  fb::ExpensedT x;
  x.fund_id = "F-NEW";
  x.bucket = "general";
  x.payee = "p";
  x.purpose = "dibao";
  x.amount_fen = 5000;  // more than the appropriation
  x.document = "inv";
  uint64_t before = Size();
  Result<AppendResult> r = Do({f, a, x}, kAdmin);
  Rejects(r, "insufficient_funds");
  EXPECT_EQ(r.status().line(), 3u);
  EXPECT_EQ(Size(), before);
  ledger_->domain().Read([](const DomainState& s) {
    EXPECT_EQ(s.funds.count("F-NEW"), 0u);  // the fund opened by entry 1 was rolled back
    return 0;
  });
  x.amount_fen = 500;
  Ok(Do({f, a, x}, kAdmin));
  ExpectInvariants();
}

TEST_F(Rules, ARejectedSubmissionRestoresTheBatchesItTouched) {
  Register("B2");
  Enroll("B2", "dibao", 104500);
  Ok(Prepare("R1", "F-SUB", "general", 202503,
             {{1, "B1", "dibao", 202503, 104500}, {2, "B2", "dibao", 202503, 104500}}));
  std::string before = ledger_->domain().SaveState();
  fb::DisbursementBatchApprovedT ok;
  ok.batch_id = "R1";
  fb::PaymentReturnedT ret;
  ret.batch_id = "R1";
  ret.line_no = 2;
  ret.reason = "closed account";
  fb::ExpensedT x = TooLargeExpense();  // fails: the approval and the return roll back
  Rejects(Do({ok, ret, x}, kChecker), "insufficient_funds");
  EXPECT_TRUE(ledger_->domain().SaveState() == before)
      << "the batch kept changes of a rejected submission";
  ledger_->domain().Read([](const DomainState& s) {
    const BatchState& b = s.batches.at("R1");
    EXPECT_EQ(b.status, BatchStatus::kPrepared);
    EXPECT_EQ(b.lines.size(), 2u);
    EXPECT_EQ(b.lines[1].state, LineState::kPending);
    return 0;
  });
  // A batch prepared by a rejected submission is gone again, with its reservation.
  std::vector<DomainEvent> events;
  for (auto& chunk :
       PackBatch("R2", "F-SUB", "general", 202504, "roll", {{1, "B1", "dibao", 202504, 104500}}))
    events.emplace_back(chunk);
  events.emplace_back(x);
  Rejects(Do(events, kMaker), "insufficient_funds");
  EXPECT_TRUE(ledger_->domain().SaveState() == before);
  Ok(Approve("R1"));
  ExpectInvariants();
}

// An approval's balances change by account id (domain and projections alike); a refused one
// puts every balance back, by id and by name: an account it paid first has none again (its id
// stays interned, unused), one it paid again has what it had.
TEST_F(Rules, ARefusedApprovalRestoresBalancesByIdAndByName) {
  Register("B2");
  Enroll("B2", "dibao", 104500);
  Ok(Prepare("R0", "F-SUB", "general", 202502, {{1, "B1", "dibao", 202502, 104500}}));
  Ok(Approve("R0"));
  Ok(Prepare("R1", "F-SUB", "general", 202503,
             {{1, "B2", "dibao", 202503, 104500}, {2, "B1", "dibao", 202503, 104500}}));
  const std::string before = ledger_->domain().SaveState();
  const Hash digest_before = projections().digest();
  fb::DisbursementBatchApprovedT approval;
  approval.batch_id = "R1";
  Rejects(Do({approval, TooLargeExpense()}, kChecker), "insufficient_funds");

  EXPECT_TRUE(ledger_->domain().SaveState() == before) << "a refused approval changed state";
  EXPECT_EQ(HashHex(projections().digest()), HashHex(digest_before));
  struct Seen {
    const Balance* b1;
    const Balance* b2;
    Balance fund;
  };
  auto by_id = [](const DomainState& s) {
    const std::optional<AccountId> b1 = s.accounts.Find("ben/B1"), b2 = s.accounts.Find("ben/B2");
    const std::optional<AccountId> fund = s.accounts.Find(FundAccount("F-SUB", "general"));
    EXPECT_TRUE(b1 && b2 && fund) << "an account id was taken back";
    return Seen{s.accounts.Get(*b1), s.accounts.Get(*b2), *s.accounts.Get(*fund)};
  };
  ledger_->domain().Read([&](const DomainState& s) {
    Seen seen = by_id(s);
    EXPECT_EQ(seen.b2, nullptr) << "a first payment undone left a balance";
    EXPECT_EQ(seen.b1->posted_fen, 104500);
    EXPECT_EQ(seen.fund.pending_fen, 2 * 104500);
    EXPECT_EQ(s.BalanceOf("ben/B1").posted_fen, 104500);
    EXPECT_EQ(s.BalanceOf("ben/B2").posted_fen, 0);
    return 0;
  });
  EXPECT_EQ(projections().BalanceOf("ben/B1").posted_fen, 104500);
  EXPECT_EQ(projections().BalanceOf("ben/B2").posted_fen, 0);
  EXPECT_EQ(projections().BalancesWithPrefix("ben/").count("ben/B2"), 0u);

  Ok(Approve("R1"));
  ledger_->domain().Read([&](const DomainState& s) {
    Seen seen = by_id(s);
    EXPECT_EQ(seen.b1->posted_fen, 2 * 104500);
    EXPECT_EQ(seen.b2->posted_fen, 104500);
    EXPECT_EQ(seen.fund.pending_fen, 0);
    return 0;
  });
  EXPECT_EQ(projections().BalanceOf("ben/B1").posted_fen, 2 * 104500);
  EXPECT_EQ(projections().BalanceOf("ben/B2").posted_fen, 104500);
  ExpectInvariants();
}

TEST_F(Rules, ALargeApprovalFeedsTheProjectionsBesideTheDomainAndRollsBackWhole) {
  // From 4,096 lines an approval's projections run on a second thread (Domain::Apply).
  constexpr int kPeople = 4200;
  Appropriate("F-SUB", "general", int64_t{kPeople} * 104500);
  std::vector<DomainEvent> people;
  std::vector<RollLine> lines;
  for (int i = 0; i < kPeople; ++i) {
    fb::BeneficiaryRegisteredT b;
    b.beneficiary_id = "L" + std::to_string(i);
    b.household_id = "HL" + std::to_string(i);
    b.region_code = i % 2 == 0 ? "110105" : "110106";
    Hash h = ledger_->vault().IdLookup("large-" + std::to_string(i));
    b.id_commitment.assign(h.begin(), h.end());
    b.birth_month = 196001;
    b.registered_date = 20250101;
    people.emplace_back(std::move(b));
    fb::EnrolledT e;
    e.beneficiary_id = "L" + std::to_string(i);
    e.program_id = "dibao";
    e.monthly_amount_fen = 104500;
    e.from_month = 202501;
    e.approval_doc = "a";
    people.emplace_back(std::move(e));
    lines.push_back(
        {static_cast<uint32_t>(i + 1), "L" + std::to_string(i), "dibao", 202503, 104500});
  }
  Ok(Do(people, kAdmin));
  Ok(Prepare("RL", "F-SUB", "general", 202503, lines));
  std::string before = ledger_->domain().SaveState();
  Hash digest_before = projections().digest();
  uint64_t rows_before = projections().rows();

  fb::DisbursementBatchApprovedT ok;
  ok.batch_id = "RL";
  fb::ExpensedT x =
      TooLargeExpense();  // fails after the approval was applied: both halves roll back
  Rejects(Do({ok, x}, kChecker), "insufficient_funds");
  EXPECT_TRUE(ledger_->domain().SaveState() == before)
      << "the domain kept changes of a rejected approval";
  EXPECT_EQ(HashHex(projections().digest()), HashHex(digest_before))
      << "the projections kept changes of a rejected approval";
  EXPECT_EQ(projections().rows(), rows_before);
  EXPECT_EQ(projections().BalanceOf("ben/L4199").posted_fen, 0);

  Ok(Approve("RL"));
  EXPECT_EQ(projections().BalanceOf("ben/L0").posted_fen, 104500);
  EXPECT_EQ(projections().BalanceOf("ben/L4199").posted_fen, 104500);
  EXPECT_EQ(projections().PaidTo("L17").at("dibao/202503").amount_fen, 104500);
  ledger_->domain().Read([](const DomainState& s) {
    EXPECT_EQ(s.batches.at("RL").status, BatchStatus::kApproved);
    EXPECT_EQ(s.BalanceOf("ben/L4199").posted_fen, 104500);
    return 0;
  });
  ExpectInvariants();  // the incremental domain and projections equal a replay of the log
}

TEST_F(Rules, ReversalHappensOnceAndRestoresBalances) {
  OpenFund("F-R", FundKind::subsidy, {});
  Appropriate("F-R", "general", 5000);
  uint64_t appropriation = Size() - 1;
  fb::ReversalT rev;
  rev.entry_index = appropriation;
  rev.reason = "posted to the wrong fund";
  Ok(Do(rev, kAdmin));
  EXPECT_EQ(FundBalance("F-R", "general").posted_fen, 0);
  Rejects(Do(rev, kAdmin), "already_reversed");
  rev.entry_index = 1;  // a program definition moved no money
  Rejects(Do(rev, kAdmin), "not_reversible");
  ExpectInvariants();
}

TEST_F(Rules, SameIdNumberCannotBeRegisteredTwice) {
  fb::BeneficiaryRegisteredT e;
  e.beneficiary_id = "B1-AGAIN";
  e.household_id = "H";
  e.region_code = "110106";
  e.birth_month = 196001;
  e.registered_date = 20250101;
  PersonalData same = *ledger_->ReadPersonalData("B1");
  Result<AppendResult> r = ledger_->RegisterBeneficiary(kMaker, "reg-again", e, same);
  Rejects(r, "duplicate_person");
  EXPECT_NE(r.status().message().find("'B1'"), std::string::npos);
  same.id_number[5] = same.id_number[5] == '1' ? '2' : '1';  // a typing mistake
  EXPECT_EQ(ledger_->RegisterBeneficiary(kMaker, "reg-typo", e, same).status().field(),
            "id_number");
}

TEST_F(Rules, IdempotentRetryDoesNotPayTwice) {
  std::vector<RollLine> lines{{1, "B1", "dibao", 202503, 104500}};
  Result<AppendResult> first =
      ledger_->PrepareBatch(kMaker, "roll-2025-03", "R1", "F-SUB", "general", 202503, "r", lines);
  Ok(first);
  Result<AppendResult> retry =
      ledger_->PrepareBatch(kMaker, "roll-2025-03", "R1", "F-SUB", "general", 202503, "r", lines);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->first_index, first->first_index);
  lines[0].amount_fen = 100;
  EXPECT_EQ(
      ledger_->PrepareBatch(kMaker, "roll-2025-03", "R1", "F-SUB", "general", 202503, "r", lines)
          .status()
          .code(),
      StatusCode::kConflict);
  EXPECT_EQ(FundBalance("F-SUB", "general").pending_fen, 104500);
}

TEST_F(Rules, EntriesWithoutADomainEventChangeNoState) {
  ASSERT_TRUE(ledger_->log().Append(MemoSubmission("memo", {"a bank file arrived"})).ok());
  Reopen();  // replays genesis and the memo
  ledger_->domain().Read([](const DomainState& s) {
    EXPECT_EQ(s.funds.count(""), 0u);
    EXPECT_EQ(s.funds.size(), 1u);  // F-SUB only
    return 0;
  });
}

TEST_F(Rules, StateSurvivesReopenAndRulesStillApply) {
  Ok(Prepare("R1", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}}));
  Ok(Approve("R1"));
  Hash digest = projections().digest();
  Reopen();
  EXPECT_EQ(projections().digest(), digest);
  EXPECT_EQ(FundBalance("F-SUB", "general").posted_fen, 100'000'000 - 104500);
  Result<AppendResult> r =
      Prepare("R2", "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, 104500}});
  EXPECT_EQ(r.status().details()[0].rule(), "duplicate_payment");
}

TEST_F(Rules, AsOfBalanceComesFromHistory) {
  uint64_t after_appropriation = Size() - 1;
  Appropriate("F-SUB", "general", 500);
  Ok(Expense("F-SUB", "general", "dibao", 200));
  const Log& log = ledger_->log();
  std::string account = FundAccount("F-SUB", "general");
  EXPECT_EQ(Projections::BalanceAsOf(log, account, after_appropriation)->posted_fen, 100'000'000);
  EXPECT_EQ(Projections::BalanceAsOf(log, account, after_appropriation + 1)->posted_fen,
            100'000'500);
  EXPECT_EQ(Projections::BalanceAsOf(log, account, Size() - 1)->posted_fen, 100'000'300);
  EXPECT_EQ(Projections::BalanceAsOf(log, account, 0)->posted_fen, 0);
  // Only funds keep their history: a person's or a source's past is not answered, not zero.
  Result<Balance> person = Projections::BalanceAsOf(log, BeneficiaryAccount("B1"), Size() - 1);
  EXPECT_EQ(person.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(person.status().message().find("fund accounts"), std::string::npos)
      << person.status().message();
}

// People, programs and batches on roll lines are numbers into one table of names: the same
// name is the same number, and a name stays where it is while the table grows.
TEST(Names, InternsEachNameOnceAndKeepsItInPlace) {
  Names names;
  NameId b1 = names.Intern("B1");
  const std::string* where = &names[b1];
  for (int i = 0; i < 100'000; ++i) names.Intern("B" + std::to_string(i));
  EXPECT_EQ(names.Intern("B1"), b1);
  EXPECT_EQ(&names[b1], where);
  EXPECT_EQ(names[b1], "B1");
  EXPECT_EQ(names.Find("B99999"), names.Intern("B99999"));
  EXPECT_FALSE(names.Find("B100000").has_value());
}

// Balances by account id: only accounts holding a balance are listed, in name order whatever
// the order of their ids; an undone first posting takes the balance away, not the id.
TEST(Accounts, ListsTheAccountsWithABalanceInNameOrderAndKeepsTheirIds) {
  Accounts accounts;
  const AccountId payee = accounts.Intern("ext/payee");
  const AccountId fund = accounts.Intern("fund/F/general");
  const AccountId person = accounts.Intern("ben/B1");
  EXPECT_EQ(accounts.Intern("fund/F/general"), fund);
  bool added = false;
  accounts.GetOrAdd(fund, &added).posted_fen = 500;
  EXPECT_TRUE(added);
  accounts.GetOrAdd(fund, &added).posted_fen -= 100;
  EXPECT_FALSE(added);
  accounts.GetOrAdd(payee, &added).posted_fen = 100;
  accounts.GetOrAdd(person, &added).posted_fen = -7;
  accounts.Erase(person);  // its first posting undone
  EXPECT_EQ(accounts.Get(person), nullptr);
  EXPECT_EQ(accounts.Get("ben/B1"), nullptr);
  EXPECT_EQ(accounts.Find("ben/B1"), person) << "an id was taken back";
  EXPECT_EQ(accounts.size(), 2u);
  std::vector<std::pair<std::string_view, const Balance*>> listed = accounts.SortedByName();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].first, "ext/payee");
  EXPECT_EQ(listed[1].first, "fund/F/general");
  EXPECT_EQ(listed[1].second->posted_fen, 400);
  accounts.Restore(person, Balance{42, 0});
  EXPECT_EQ(accounts.Get("ben/B1")->posted_fen, 42);
  EXPECT_EQ(accounts.SortedByName().front().first, "ben/B1");
  const Posting p = accounts.PostingTo(fund, -3, 0);
  EXPECT_EQ(p.account, "fund/F/general");
  EXPECT_EQ(p.account_id, fund);
}

// What a Reversal may undo, kept by entry index: entries with no postings in between, an
// undone entry whose index is used again, and the postings found as they were added.
TEST(ReversibleEntries, KeepsEachEntrysPostingsThroughUndoAndReuseOfItsIndex) {
  Accounts accounts;
  auto posting = [&](std::string_view account, int64_t posted) {
    return accounts.PostingTo(accounts.Intern(account), posted, 0);
  };
  ReversibleEntries r;
  std::vector<Posting> a = {posting("fund/F/general", -100), posting("ext/payee", 100)};
  std::vector<Posting> b = {posting("fund/F/general", 250), posting("ext/treasury", -250)};
  r.Add(3, a);
  r.Add(7, b);
  EXPECT_TRUE(r.Contains(3));
  EXPECT_FALSE(r.Contains(4));
  EXPECT_FALSE(r.Contains(8));
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.Find(7, accounts)[0].account, "fund/F/general");
  EXPECT_EQ(r.Find(7, accounts)[0].account_id, accounts.Find("fund/F/general"));
  EXPECT_EQ(r.Find(7, accounts)[1].posted_delta_fen, -250);
  r.Remove(7);  // its submission failed: index 7 goes to the next entry, or to an earlier one
  EXPECT_FALSE(r.Contains(7));
  r.Add(5, b);
  EXPECT_EQ(r.SortedIndices(), (std::vector<uint64_t>{3, 5}));
  EXPECT_EQ(r.Find(3, accounts)[1].account, "ext/payee");
  EXPECT_EQ(r.Find(5, accounts)[0].posted_delta_fen, 250);
  EXPECT_TRUE(r.Find(4, accounts).empty());
}

// Feeds `p` an approval entry holding `payments`.
void ApplyApproval(Projections& p, ApplyContext& ctx, uint64_t index,
                   std::vector<PaymentEffect> payments) {
  AppliedEntry e;
  e.index = index;
  e.type = fb::EventType::DisbursementBatchApproved;
  e.payments = std::move(payments);
  p.OnApplied(e, ctx);
}

// What each person was paid, held in memory by (period, program): months arriving out of
// order (back pay), a return taking a line back, a rolled-back entry leaving nothing behind,
// and a snapshot giving back exactly the same totals.
TEST(ProjectionsPaidTotals, KeepEveryMonthThroughBackPayUndoAndSnapshots) {
  Projections p;
  const DomainState at;  // no domain here: nothing else touches the projections
  UndoLog undo;
  ApplyContext ctx{nullptr, &undo};
  auto pay = [](const std::string& who, const std::string& program, int32_t period, int64_t fen,
                int32_t lines) {
    return PaymentEffect{who, program, "110105", period, fen, lines};
  };
  auto apply = [&](uint64_t index, std::vector<PaymentEffect> payments) {
    ApplyApproval(p, ctx, index, std::move(payments));
  };
  apply(1, {pay("B1", "dibao", 202503, 100, 1), pay("B1", "tekun", 202503, 50, 1),
            pay("B2", "dibao", 202503, 100, 1)});
  apply(2, {pay("B1", "dibao", 202501, 100, 1), pay("B1", "dibao", 202503, -100, -1)});
  undo.Clear();
  const std::map<std::string, PaidTotal> b1 = p.PaidTo(at, "B1");
  ASSERT_EQ(b1.size(), 3u);
  EXPECT_EQ(b1.at("dibao/202501").amount_fen, 100);
  EXPECT_EQ(b1.at("dibao/202503").lines, 0);
  EXPECT_EQ(b1.at("tekun/202503").amount_fen, 50);
  EXPECT_TRUE(p.PaidTo(at, "B9").empty());
  const std::string saved = p.SaveState();

  const size_t mark = undo.Mark();
  apply(3, {pay("B3", "linshi", 202504, 70, 1), pay("B1", "dibao", 202502, 100, 1),
            pay("B1", "dibao", 202502, 5, 0)});
  EXPECT_EQ(p.PaidTo(at, "B1").at("dibao/202502").amount_fen, 105);
  undo.RollbackTo(mark);
  EXPECT_TRUE(p.PaidTo(at, "B3").empty());
  EXPECT_EQ(p.PaidTo(at, "B1"), b1);
  EXPECT_EQ(p.SaveState(), saved);

  Projections restored;
  ASSERT_TRUE(restored.LoadState(saved).ok());
  EXPECT_EQ(restored.PaidTo(at, "B1"), b1);
  EXPECT_EQ(restored.SaveState(), saved);
  std::string bad = saved;
  bad.replace(bad.find("dibao/202501"), 12, "dibao/2025x1");
  Status refused = Projections().LoadState(bad);
  EXPECT_EQ(refused.code(), StatusCode::kCorruption);
  EXPECT_NE(refused.message().find("<program>/<period>"), std::string::npos) << refused.message();
}

// The domain's ids are its own (a snapshot load interns the names again, in another order):
// the projections answer by name whatever id an effect carries, and an id that now names
// someone else never lands a payment on the person it named before.
TEST(ProjectionsPaidTotals, FollowTheNameWhenTheDomainsIdsChangeMeaning) {
  Projections p;
  const DomainState at;
  ApplyContext ctx{nullptr, nullptr};
  auto pay = [](std::string_view who, NameId who_id, std::string_view program, NameId program_id,
                int64_t fen) {
    PaymentEffect e{who, program, "110105", 202503, fen, 1};
    e.beneficiary_id = who_id;
    e.program_id = program_id;
    return e;
  };
  auto apply = [&](uint64_t index, std::vector<PaymentEffect> payments) {
    ApplyApproval(p, ctx, index, std::move(payments));
  };
  apply(1, {pay("B1", 0, "dibao", 1, 100), pay("B2", 2, "tekun", 3, 50)});
  // Another numbering: id 0 is now B2, id 1 tekun, id 2 B1, id 3 dibao.
  apply(2, {pay("B2", 0, "tekun", 1, 7), pay("B1", 2, "dibao", 3, 9), pay("B3", 4, "dibao", 3, 5)});
  EXPECT_EQ(p.PaidTo(at, "B1"), (std::map<std::string, PaidTotal>{{"dibao/202503", {109, 2}}}));
  EXPECT_EQ(p.PaidTo(at, "B2"), (std::map<std::string, PaidTotal>{{"tekun/202503", {57, 2}}}));
  EXPECT_EQ(p.PaidTo(at, "B3"), (std::map<std::string, PaidTotal>{{"dibao/202503", {5, 1}}}));
  const std::map<std::string, RegionTotal> dibao = p.RegionTotals(at, "dibao");
  ASSERT_EQ(dibao.size(), 1u);
  EXPECT_EQ(dibao.at("202503/110105").amount_fen, 114);
  EXPECT_EQ(dibao.at("202503/110105").beneficiaries, 2);
  EXPECT_EQ(p.RegionTotals(at, "tekun").at("202503/110105").lines, 2);
}

// The roll's chunks are encoded field by field, not through the object API's Pack: an entry
// that differed by a byte would hash differently on replay and in another build.
TEST(PreparedChunkEncoding, GivesTheSameBytesAsTheObjectApi) {
  std::vector<RollLine> lines;
  for (uint32_t i = 1; i <= 4500; ++i) {
    std::string person = i % 7 == 0 ? "B" + std::string(40 + i % 23, 'x') + std::to_string(i)
                                    : "B" + std::to_string(i % 3000);  // some paid twice
    std::string program = i % 5 == 0 ? "tekun" : i % 11 == 0 ? "elderly-allowance-80" : "dibao";
    lines.push_back({i, person, program, 202503 + static_cast<int32_t>(i % 2),
                     int64_t{104500} + i * (i % 2 == 0 ? 1 : -1)});
  }
  std::vector<fb::DisbursementBatchPreparedT> chunks =
      PackBatch("R-2025-03", "F-SUB", "general", 202503, "civil affairs notice 12", lines);
  fb::DisbursementBatchPreparedT bare;  // empty strings and vectors: fields left out
  bare.period = 202503;
  chunks.push_back(bare);
  fb::DisbursementBatchPreparedT unicode = chunks.front();
  unicode.document = "民政局 2025 年 3 月";
  unicode.bucket = "";
  unicode.lines.resize(1);
  chunks.push_back(unicode);
  ASSERT_GE(chunks.size(), 4u);
  for (const fb::DisbursementBatchPreparedT& c : chunks) {
    EXPECT_EQ(EncodePreparedChunk(c), EncodeEvent(DomainEvent(c))) << "chunk " << c.chunk;
  }
}

// Names of every length up to 40 bytes, and ones that differ only in a trailing NUL or in
// their last byte, each get an id of their own, found again and read back.
TEST(Names, EveryNameKeepsItsOwnIdWhateverItsLengthOrLastByte) {
  Names names;
  std::vector<std::string> all;
  for (size_t length = 0; length <= 40; ++length) {
    std::string name(length, 'B');
    for (size_t i = 0; i < length; ++i) name[i] = static_cast<char>('A' + (i * 7 + length) % 26);
    all.push_back(name);
    all.push_back(name + std::string(1, '\0'));
    if (length > 0) all.push_back(name.substr(0, length - 1) + "~");
  }
  std::vector<NameId> ids;
  for (const std::string& n : all) {
    EXPECT_FALSE(names.Find(n).has_value()) << "'" << n << "' found before it was interned";
    ids.push_back(names.Intern(n));
  }
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(ids[i], static_cast<NameId>(i)) << "'" << all[i] << "' shares an id";
    EXPECT_EQ(names.Intern(all[i]), ids[i]);
    EXPECT_EQ(names.Find(all[i]), ids[i]);
    EXPECT_EQ(names[ids[i]], all[i]);
  }
  EXPECT_FALSE(names.Find("never interned").has_value());
  EXPECT_FALSE(names.Find(std::string(16, '\0')).has_value());
}

}  // namespace
}  // namespace fundledger::testing
