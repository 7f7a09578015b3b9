// The one-payment rule on its own: which line holds a (beneficiary, program, period) slot as
// lines are prepared, rejected, returned, reissued and recovered, what the rule reports, and
// that every change is undone by its undo step (a refused submission leaves no slot behind).
#include <gtest/gtest.h>

#include <map>
#include <tuple>
#include <vector>

#include "ledger/domain_state.h"
#include "ledger/payment_slots.h"
#include "ledger/rule_code.h"

namespace fundledger::testing {
namespace {

class Slots : public ::testing::Test {
 protected:
  void SetUp() override {
    b1_ = names_.Intern("B1");
    dibao_ = names_.Intern("dibao");
    r1_ = names_.Intern("R1");
    r2_ = names_.Intern("R2");
    key_ = SlotKey{b1_, dibao_, 202503};
  }
  std::optional<SlotHolder> Holder() const {
    const SlotHolder* h = slots_.HolderOf(key_);
    return h ? std::optional<SlotHolder>(*h) : std::nullopt;
  }

  Names names_;
  PaymentSlots slots_;
  NameId b1_ = 0, dibao_ = 0, r1_ = 0, r2_ = 0;
  SlotKey key_;
};

TEST_F(Slots, APreparedLineTakesItsSlotAndTheRuleNamesIt) {
  EXPECT_TRUE(slots_.CheckFree(names_, key_, "beneficiary_id").ok());
  slots_.TakeForPreparedLine(key_, SlotHolder{r1_, 7}, nullptr);
  EXPECT_EQ(Holder(), (SlotHolder{r1_, 7}));
  Status taken = slots_.CheckFree(names_, "B1", "dibao", 202503, "beneficiary_id");
  EXPECT_EQ(taken.rule(), RuleCodeName(RuleCode::kDuplicatePayment));
  EXPECT_EQ(taken.field(), "beneficiary_id");
  EXPECT_NE(taken.message().find("batch 'R1' line 7"), std::string::npos) << taken.message();
  // Another month, another program, a name never seen: all free.
  EXPECT_TRUE(slots_.CheckFree(names_, "B1", "dibao", 202504, "beneficiary_id").ok());
  EXPECT_TRUE(slots_.CheckFree(names_, "B1", "tekun", 202503, "beneficiary_id").ok());
  EXPECT_FALSE(PaymentSlots::Find(names_, "B2", "dibao", 202503).has_value());
}

// Only an imported log, never rule-checked, prepares a second line for a held slot.
TEST_F(Slots, TheFirstPreparedLineKeepsTheSlot) {
  slots_.TakeForPreparedLine(key_, SlotHolder{r1_, 1}, nullptr);
  slots_.TakeForPreparedLine(key_, SlotHolder{r2_, 1}, nullptr);
  EXPECT_EQ(Holder(), (SlotHolder{r1_, 1}));
  EXPECT_EQ(slots_.size(), 1u);
}

TEST_F(Slots, ARejectedLineReleasesOnlyTheSlotItHolds) {
  slots_.TakeForPreparedLine(key_, SlotHolder{r1_, 1}, nullptr);
  slots_.ReleaseForRejectedLine(key_, SlotHolder{r2_, 1}, nullptr);
  slots_.ReleaseForRejectedLine(key_, SlotHolder{r1_, 2}, nullptr);
  EXPECT_EQ(Holder(), (SlotHolder{r1_, 1}));
  slots_.ReleaseForRejectedLine(key_, SlotHolder{r1_, 1}, nullptr);
  EXPECT_FALSE(Holder().has_value());
}

// The table in payment_slots.h, for every pair of line states.
TEST_F(Slots, ALineHoldsItsSlotExactlyInTheLiveStates) {
  const LineState all[] = {LineState::kPending,  LineState::kPaid,     LineState::kReturned,
                           LineState::kReissued, LineState::kReversed, LineState::kRecovered,
                           LineState::kRejected};
  for (LineState from : all) {
    for (LineState to : all) {
      PaymentSlots slots;
      if (HoldsPaymentSlot(from)) slots.TakeForPreparedLine(key_, SlotHolder{r1_, 1}, nullptr);
      slots.OnLineState(key_, SlotHolder{r1_, 1}, from, to, nullptr);
      EXPECT_EQ(slots.HolderOf(key_) != nullptr, HoldsPaymentSlot(to))
          << LineStateName(from) << " -> " << LineStateName(to);
    }
  }
  EXPECT_TRUE(HoldsPaymentSlot(LineState::kPending));
  EXPECT_TRUE(HoldsPaymentSlot(LineState::kPaid));
  EXPECT_TRUE(HoldsPaymentSlot(LineState::kReissued));
  EXPECT_FALSE(HoldsPaymentSlot(LineState::kReturned));
  EXPECT_FALSE(HoldsPaymentSlot(LineState::kRecovered));
  EXPECT_FALSE(HoldsPaymentSlot(LineState::kRejected));
}

// A return frees the slot for another roll; the returned line cannot then take it back by a
// reissue while that roll's line holds it (the rule), and once it is free it can.
TEST_F(Slots, AReturnFreesTheSlotAndAReissueTakesItBack) {
  slots_.TakeForPreparedLine(key_, SlotHolder{r1_, 1}, nullptr);
  slots_.OnLineState(key_, SlotHolder{r1_, 1}, LineState::kPaid, LineState::kReturned, nullptr);
  EXPECT_TRUE(slots_.CheckFree(names_, key_, "line_no").ok());
  slots_.TakeForPreparedLine(key_, SlotHolder{r2_, 1}, nullptr);
  EXPECT_FALSE(slots_.CheckFree(names_, key_, "line_no").ok());
  slots_.ReleaseForRejectedLine(key_, SlotHolder{r2_, 1}, nullptr);
  slots_.OnLineState(key_, SlotHolder{r1_, 1}, LineState::kReturned, LineState::kReissued, nullptr);
  EXPECT_EQ(Holder(), (SlotHolder{r1_, 1}));
}

TEST_F(Slots, EveryChangeIsUndoneByItsUndoStep) {
  UndoLog undo;
  slots_.TakeForPreparedLine(key_, SlotHolder{r1_, 1}, &undo);
  size_t prepared = undo.Mark();
  slots_.OnLineState(key_, SlotHolder{r1_, 1}, LineState::kPaid, LineState::kReturned, &undo);
  slots_.TakeForPreparedLine(key_, SlotHolder{r2_, 4}, &undo);
  EXPECT_EQ(Holder(), (SlotHolder{r2_, 4}));
  undo.RollbackTo(prepared);
  EXPECT_EQ(Holder(), (SlotHolder{r1_, 1}));
  slots_.ReleaseForRejectedLine(key_, SlotHolder{r1_, 1}, &undo);
  EXPECT_FALSE(Holder().has_value());
  undo.RollbackTo(0);
  EXPECT_FALSE(Holder().has_value());
  EXPECT_EQ(slots_.size(), 0u);
}

// Slots are kept per program and month: a chunk's lines over several months and programs each
// take their own slot, the codec's walk names every slot by its whole key, and the chunk's one
// undo step gives all of them back.
TEST_F(Slots, AChunkOverSeveralMonthsTakesEachSlotAndItsUndoGivesThemBack) {
  const NameId b2 = names_.Intern("B2"), tekun = names_.Intern("tekun");
  const std::vector<BatchLine> lines = {{1, b1_, dibao_, 202503, 100, LineState::kPending},
                                        {2, b2, dibao_, 202503, 100, LineState::kPending},
                                        {3, b1_, dibao_, 202504, 100, LineState::kPending},
                                        {4, b1_, tekun, 202503, 100, LineState::kPending}};
  slots_.TakeForPreparedLine(key_, SlotHolder{r1_, 9}, nullptr);  // B1's dibao for 2025-03
  UndoLog undo;
  slots_.TakeForPreparedLines(lines, r2_, &undo);
  EXPECT_EQ(slots_.size(), 4u);
  EXPECT_EQ(Holder(), (SlotHolder{r1_, 9}));  // held before: the first line keeps it
  std::map<std::tuple<NameId, NameId, int32_t>, SlotHolder> seen;
  slots_.ForEach([&](const SlotKey& k, const SlotHolder& h) {
    seen.emplace(std::make_tuple(k.beneficiary, k.program, k.period), h);
  });
  const std::map<std::tuple<NameId, NameId, int32_t>, SlotHolder> want = {
      {{b1_, dibao_, 202503}, SlotHolder{r1_, 9}},
      {{b2, dibao_, 202503}, SlotHolder{r2_, 2}},
      {{b1_, dibao_, 202504}, SlotHolder{r2_, 3}},
      {{b1_, tekun, 202503}, SlotHolder{r2_, 4}}};
  EXPECT_EQ(seen, want);
  EXPECT_FALSE(slots_.CheckFree(names_, "B1", "tekun", 202503, "beneficiary_id").ok());
  EXPECT_TRUE(slots_.CheckFree(names_, "B2", "dibao", 202504, "beneficiary_id").ok());
  undo.RollbackTo(0);
  EXPECT_EQ(slots_.size(), 1u);
  EXPECT_EQ(Holder(), (SlotHolder{r1_, 9}));
  EXPECT_TRUE(slots_.CheckFree(names_, "B1", "dibao", 202504, "beneficiary_id").ok());
  EXPECT_TRUE(slots_.CheckFree(names_, "B1", "tekun", 202503, "beneficiary_id").ok());
}

TEST(RollSlots, ASecondLineForOneSlotInOneRollIsADuplicatePayment) {
  RollSlots roll(0, 0);  // no line names anyone by id
  EXPECT_TRUE(roll.Take("B1", "dibao", 202503).ok());
  EXPECT_TRUE(roll.Take("B1", "dibao", 202504).ok());
  EXPECT_TRUE(roll.Take("B2", "dibao", 202503).ok());
  Status again = roll.Take("B1", "dibao", 202503);
  EXPECT_EQ(again.rule(), RuleCodeName(RuleCode::kDuplicatePayment));
  EXPECT_EQ(again.field(), "beneficiary_id");
}

// Lines naming interned people and programs are checked by their ids: the same slot twice is
// a duplicate, another month, program or person is not, and a name never interned is checked
// by its name apart from them.
TEST(RollSlots, LinesByIdsFindTheSameSlotTwiceAndNothingElse) {
  Names names;
  names.Intern("R1");  // the roll's people's ids start above 0
  const NameId b1 = names.Intern("B1"), b2 = names.Intern("B2"), dibao = names.Intern("dibao"),
               tekun = names.Intern("tekun");
  RollSlots roll(b1, b2 + 1);
  EXPECT_TRUE(roll.Take({"B1", "dibao", 202503, b1, dibao}).ok());
  EXPECT_TRUE(roll.Take({"B1", "dibao", 202504, b1, dibao}).ok());
  EXPECT_TRUE(roll.Take({"B1", "tekun", 202503, b1, tekun}).ok());
  EXPECT_TRUE(roll.Take({"B2", "dibao", 202503, b2, dibao}).ok());
  EXPECT_TRUE(roll.Take({"B9", "dibao", 202503}).ok());  // never interned
  Status again = roll.Take({"B1", "dibao", 202503, b1, dibao});
  EXPECT_EQ(again.rule(), RuleCodeName(RuleCode::kDuplicatePayment));
  EXPECT_NE(again.message().find("'B1' appears twice for 'dibao'"), std::string::npos)
      << again.message();
  EXPECT_EQ(roll.Take({"B9", "dibao", 202503}).rule(), RuleCodeName(RuleCode::kDuplicatePayment));
  EXPECT_TRUE(roll.Take({"B2", "tekun", 202504, b2, tekun}).ok());
}

// Enrolments are kept by person: each (person, program) has its own terms, found by its ids,
// listed once, and erased alone.
TEST(Enrollments, EachPersonAndProgramHasItsOwnTerms) {
  Enrollments e;
  bool added = false;
  e.GetOrAdd({7, 1}, &added).push_back(EnrollmentTerm{202501, 0, 100, 0, ""});
  EXPECT_TRUE(added);
  e.GetOrAdd({7, 2}).push_back(EnrollmentTerm{202502, 0, 200, 0, ""});
  e.GetOrAdd({3, 1}).push_back(EnrollmentTerm{202503, 0, 300, 0, ""});
  e.GetOrAdd({7, 1}, &added).push_back(EnrollmentTerm{202504, 0, 400, 0, ""});
  EXPECT_FALSE(added);
  EXPECT_EQ(e.size(), 3u);
  ASSERT_NE(e.Find({7, 1}), nullptr);
  EXPECT_EQ(e.Find({7, 1})->size(), 2u);
  EXPECT_EQ(e.Find({7, 2})->front().monthly_amount_fen, 200);
  EXPECT_EQ(e.Find({3, 2}), nullptr);
  EXPECT_EQ(e.Find({99, 1}), nullptr);
  std::vector<std::pair<NameId, NameId>> seen;
  e.ForEach([&](EnrollmentId id, const EnrollmentTerms&) {
    seen.emplace_back(id.beneficiary, id.program);
  });
  EXPECT_EQ(seen, (std::vector<std::pair<NameId, NameId>>{{3, 1}, {7, 1}, {7, 2}}));
  e.Erase({7, 1});
  EXPECT_EQ(e.Find({7, 1}), nullptr);
  EXPECT_NE(e.Find({7, 2}), nullptr);
  EXPECT_EQ(e.size(), 2u);
}

BatchLine Line(uint32_t line_no) { return BatchLine{line_no, 1, 2, 202503, 100}; }

// Lines numbered upward (every roll the rules accept) are found without an index, gaps included.
TEST(BatchLines, ARollNumberedUpwardFindsEveryLineAndNoOther) {
  BatchState b;
  for (uint32_t n : {1u, 2u, 3u, 5u, 8u, 13u}) b.AddLine(Line(n));
  for (uint32_t n : {1u, 2u, 3u, 5u, 8u, 13u}) {
    ASSERT_NE(b.FindLine(n), nullptr) << n;
    EXPECT_EQ(b.FindLine(n)->line_no, n);
  }
  for (uint32_t n : {0u, 4u, 6u, 12u, 14u}) EXPECT_EQ(b.FindLine(n), nullptr) << n;
  EXPECT_TRUE(b.unordered_line_pos.empty());
}

// An imported log may number a roll's lines in any order, or twice: each is still found (the
// last line prepared under a number, as before), also after an undone chunk drops lines.
TEST(BatchLines, LinesInAnyOrderAreFoundAndDroppingLinesKeepsTheRestFound) {
  BatchState b;
  for (uint32_t n : {10u, 20u, 5u, 30u}) b.AddLine(Line(n));
  for (uint32_t n : {10u, 20u, 5u, 30u}) {
    ASSERT_NE(b.FindLine(n), nullptr) << n;
    EXPECT_EQ(b.FindLine(n)->line_no, n);
  }
  EXPECT_EQ(b.FindLine(15), nullptr);
  b.TruncateLines(2);
  EXPECT_EQ(b.FindLine(5), nullptr);
  EXPECT_EQ(b.FindLine(30), nullptr);
  ASSERT_NE(b.FindLine(20), nullptr);
  EXPECT_EQ(b.FindLine(20), &b.lines[1]);

  BatchState twice;
  for (uint32_t n : {1u, 2u, 1u}) twice.AddLine(Line(n));
  EXPECT_EQ(twice.FindLine(1), &twice.lines[2]);
  twice.TruncateLines(2);  // the dropped line had shadowed line 1
  EXPECT_EQ(twice.FindLine(1), &twice.lines[0]);
  EXPECT_EQ(twice.FindLine(2), &twice.lines[1]);
}

}  // namespace
}  // namespace fundledger::testing
