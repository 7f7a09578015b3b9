// Corrections of a paid roll line (return, reissue, recovery, and the reversal of each) as an
// auditor tries them: what is refused, with which code, and what the person holds after. The
// state machine they follow is in ledger/line_corrections.h and ledger/README.md.
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

using fb::FundKind;
using fb::ProgramCategory;

constexpr int64_t kPaid = 80000;  // 800.00 yuan a month

class Corrections : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    DefineProgram("dibao", ProgramCategory::dibao, kPaid, kPaid);
    OpenFund("F-SUB", FundKind::subsidy, {"dibao"});
    OpenFund("F-OTHER", FundKind::subsidy, {"dibao"});
    Appropriate("F-SUB", "general", 10'000'000);
    Register("B1");
    Register("B2");
    Enroll("B1", "dibao", kPaid);
    Enroll("B2", "dibao", kPaid);
    PayMarch("R-03");
  }
  void PayMarch(const std::string& batch) {
    Ok(Prepare(batch, "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, kPaid}}));
    Ok(Approve(batch));
  }
  uint64_t Last() { return ledger_->log().size() - 1; }
  int64_t Received(const std::string& ben) {
    return projections().BalanceOf(BeneficiaryAccount(ben)).posted_fen;
  }
  std::string StateOf(const std::string& batch, uint32_t line_no) {
    return ledger_->domain().Read([&](const DomainState& s) {
      const BatchState& b = s.batches.at(batch);
      return std::string(LineStateName(b.FindLine(line_no)->state));
    });
  }

  Result<AppendResult> Return(const std::string& batch, uint32_t line_no = 1) {
    fb::PaymentReturnedT e;
    e.batch_id = batch;
    e.line_no = line_no;
    e.reason = "account closed";
    e.bank_ref = "BR-1";
    return Do(e);
  }
  Result<AppendResult> Reissue(const std::string& batch, uint32_t line_no = 1) {
    fb::PaymentReissuedT e;
    e.batch_id = batch;
    e.line_no = line_no;
    e.document = "new account";
    return Do(e);
  }
  Result<AppendResult> Recover(int64_t amount_fen, const std::string& batch = "R-03",
                               const std::string& ben = "B1", const std::string& fund = "F-SUB") {
    fb::RecoveredT e;
    e.beneficiary_id = ben;
    e.fund_id = fund;
    e.bucket = "general";
    e.amount_fen = amount_fen;
    e.cause = "overpaid";
    e.batch_id = batch;
    e.line_no = batch.empty() ? 0 : 1;
    e.document = "decision-1";
    return Do(e);
  }
  Result<AppendResult> Reverse(uint64_t entry) {
    fb::ReversalT e;
    e.entry_index = entry;
    e.reason = "recorded in error";
    return Do(e, kAdmin);
  }
  // A roll paying B1 for March again, refused: B1 holds March.
  void SecondMarchRefused(const std::string& batch) {
    Result<AppendResult> r =
        Prepare(batch, "F-SUB", "general", 202503, {{1, "B1", "dibao", 202503, kPaid}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().rule(), "lines_rejected");
    ASSERT_EQ(r.status().details().size(), 1u);
    EXPECT_EQ(r.status().details()[0].rule(), "duplicate_payment");
  }
};

// Each cell of the table in ledger/README.md ("Corrections"): the state a correction leaves, or
// the code that refuses it.
TEST(LineStateMachine, EachCellOfTheWrittenTable) {
  using K = CorrectionKind;
  using S = LineState;
  struct Cell {
    S state;
    int64_t recovered;
    K kind;
    int64_t amount;
    S to;
    std::string refusal;  // empty: allowed
  };
  const int64_t a = kPaid;
  const Cell cells[] = {
      {S::kPaid, 0, K::kReturn, a, S::kReturned, ""},
      {S::kPaid, 0, K::kReissue, a, S::kReissued, "line_not_returned"},
      {S::kPaid, 0, K::kRecovery, a / 2, S::kPaid, ""},
      {S::kPaid, 0, K::kRecovery, a, S::kRecovered, ""},
      {S::kPaid, 0, K::kRecovery, a + 1, S::kRecovered, "over_recovery"},
      {S::kPaid, a / 2, K::kReturn, a, S::kReturned, "line_recovered"},
      {S::kPaid, a / 2, K::kRecovery, a / 2, S::kRecovered, ""},
      {S::kPaid, a / 2, K::kRecovery, a / 2 + 1, S::kRecovered, "over_recovery"},
      {S::kReissued, 0, K::kReturn, a, S::kReturned, ""},
      {S::kReissued, 0, K::kReissue, a, S::kReissued, "line_not_returned"},
      {S::kReissued, a / 4, K::kRecovery, a / 4, S::kReissued, ""},
      {S::kReturned, 0, K::kReturn, a, S::kReturned, "line_not_paid"},
      {S::kReturned, 0, K::kReissue, a, S::kReissued, ""},
      {S::kReturned, 0, K::kRecovery, 1, S::kReturned, "line_not_paid"},
      {S::kRecovered, a, K::kReturn, a, S::kReturned, "line_not_paid"},
      {S::kRecovered, a, K::kReissue, a, S::kReissued, "line_not_returned"},
      {S::kRecovered, a, K::kRecovery, 1, S::kRecovered, "over_recovery"},
  };
  for (const Cell& c : cells) {
    LineMove move = NextLineState(c.state, a, c.recovered, c.kind, c.amount);
    std::string cell = std::string(LineStateName(c.state)) + " (" + std::to_string(c.recovered) +
                       " recovered), " + std::string(CorrectionKindName(c.kind)) + " of " +
                       std::to_string(c.amount);
    EXPECT_EQ(move.to, c.to) << cell;
    EXPECT_EQ(move.refusal ? std::string(RuleCodeName(*move.refusal)) : "", c.refusal) << cell;
  }
}

TEST_F(Corrections, RecoveriesAreCappedByWhatWasPaidAndNotRecoveredYet) {
  Ok(Recover(50000));
  Rejects(Recover(50000), "over_recovery");  // 500 + 500 of an 800 line
  EXPECT_EQ(Received("B1"), 30000);
  EXPECT_EQ(StateOf("R-03", 1), "paid");
  Ok(Recover(30000));  // the rest: 800 in all
  EXPECT_EQ(StateOf("R-03", 1), "recovered");
  Rejects(Recover(1), "over_recovery");
  EXPECT_EQ(Received("B1"), 0);
  ExpectInvariants();
}

TEST_F(Corrections, APersonPaid800CannotHave10000Recovered) {
  Rejects(Recover(1'000'000), "over_recovery");
  // Nor without naming the payment, nor from a payment to someone else.
  Rejects(Recover(1'000'000, ""), "recovery_without_line");
  Rejects(Recover(1000, "R-03", "B2"), "wrong_beneficiary");
  EXPECT_EQ(Received("B1"), kPaid);
  EXPECT_EQ(Received("B2"), 0);
  ExpectInvariants();
}

TEST_F(Corrections, RecoveredMoneyGoesBackToTheFundThatPaidIt) {
  Rejects(Recover(1000, "R-03", "B1", "F-OTHER"), "wrong_fund");
  EXPECT_EQ(FundBalance("F-OTHER", "general").posted_fen, 0);
}

TEST_F(Corrections, AReversedFullRecoveryHoldsTheMonthAgain) {
  Ok(Recover(kPaid));
  uint64_t recovery = Last();
  Ok(Reverse(recovery));
  EXPECT_EQ(StateOf("R-03", 1), "paid");
  EXPECT_EQ(Received("B1"), kPaid);
  SecondMarchRefused("R-03b");
  EXPECT_EQ(Received("B1"), kPaid);
  ExpectInvariants();
}

TEST_F(Corrections, AFullRecoveryIsNotReversedOnceTheMonthIsPaidAgain) {
  Ok(Recover(kPaid));
  uint64_t recovery = Last();
  PayMarch("R-03b");  // the month is free again: paid anew
  Rejects(Reverse(recovery), "duplicate_payment");
  EXPECT_EQ(Received("B1"), kPaid);
  ExpectInvariants();
}

TEST_F(Corrections, AReturnAfterAReversedReissueIsRefusedUntilPaidAgain) {
  Ok(Return("R-03"));
  Ok(Reissue("R-03"));
  uint64_t reissue = Last();
  Ok(Reverse(reissue));
  EXPECT_EQ(StateOf("R-03", 1), "returned");
  EXPECT_EQ(Received("B1"), 0);
  Rejects(Return("R-03"), "line_not_paid");
  EXPECT_EQ(Received("B1"), 0);
  Ok(Reissue("R-03"));  // paid again: now it can come back
  Ok(Return("R-03"));
  EXPECT_EQ(Received("B1"), 0);
  ExpectInvariants();
}

TEST_F(Corrections, AReversedReturnPaysTheLineAgainIfTheMonthIsFree) {
  Ok(Return("R-03"));
  uint64_t first_return = Last();
  Ok(Reverse(first_return));
  EXPECT_EQ(StateOf("R-03", 1), "paid");
  EXPECT_EQ(Received("B1"), kPaid);
  SecondMarchRefused("R-03b");
  Ok(Return("R-03"));
  uint64_t second_return = Last();
  PayMarch("R-03c");
  Rejects(Reverse(second_return), "duplicate_payment");
  EXPECT_EQ(Received("B1"), kPaid);
  ExpectInvariants();
}

TEST_F(Corrections, ALineWithMoneyRecoveredIsNotReturned) {
  Ok(Recover(30000));
  Rejects(Return("R-03"), "line_recovered");
  EXPECT_EQ(Received("B1"), 50000);
  ExpectInvariants();
}

TEST_F(Corrections, ALinesCorrectionsAreReversedNewestFirst) {
  Ok(Return("R-03"));
  uint64_t returned = Last();
  Ok(Reissue("R-03"));
  uint64_t reissued = Last();
  Ok(Recover(30000));
  uint64_t first = Last();
  Ok(Recover(50000));
  uint64_t second = Last();
  EXPECT_EQ(StateOf("R-03", 1), "recovered");
  Rejects(Reverse(first), "correction_not_latest");
  Rejects(Reverse(reissued), "correction_not_latest");
  Rejects(Reverse(returned), "correction_not_latest");
  Ok(Reverse(second));
  EXPECT_EQ(StateOf("R-03", 1), "reissued");
  Ok(Reverse(first));
  Ok(Reverse(reissued));
  EXPECT_EQ(StateOf("R-03", 1), "returned");
  Ok(Reverse(returned));
  EXPECT_EQ(StateOf("R-03", 1), "paid");
  EXPECT_EQ(Received("B1"), kPaid);
  Rejects(Reverse(second), "already_reversed");
  ExpectInvariants();
  Reopen();  // the corrections and what they left are rebuilt by replay
  EXPECT_EQ(StateOf("R-03", 1), "paid");
  Rejects(Reverse(first), "already_reversed");
  Ok(Recover(kPaid));
  ExpectInvariants();
}

TEST_F(Corrections, PaymentsByMonthFollowTheReversals) {
  Ok(Recover(kPaid));
  Ok(Reverse(Last()));
  EXPECT_EQ(projections().PaidTo("B1").at("dibao/202503").amount_fen, kPaid);
  EXPECT_EQ(projections().PaidTo("B1").at("dibao/202503").lines, 1);
  Ok(Return("R-03"));
  Ok(Reissue("R-03"));
  Ok(Reverse(Last()));
  EXPECT_EQ(projections().PaidTo("B1").at("dibao/202503").amount_fen, 0);
  EXPECT_EQ(projections().PaidTo("B1").at("dibao/202503").lines, 0);
  ExpectInvariants();
}

}  // namespace
}  // namespace fundledger::testing
