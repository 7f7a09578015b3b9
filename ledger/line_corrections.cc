#include "ledger/line_corrections.h"

#include <cassert>

namespace fundledger {

std::string_view CorrectionKindName(CorrectionKind kind) {
  switch (kind) {
    case CorrectionKind::kReturn:
      return "return";
    case CorrectionKind::kReissue:
      return "reissue";
    case CorrectionKind::kRecovery:
      return "recovery";
  }
  return "unknown";
}

namespace {
// A line whose payment stands: paid by its roll or by a reissue, nothing or part recovered.
bool PaymentStands(LineState s) { return s == LineState::kPaid || s == LineState::kReissued; }
}  // namespace

LineMove NextLineState(LineState state, int64_t line_amount_fen, int64_t recovered_fen,
                       CorrectionKind kind, int64_t amount_fen) {
  switch (kind) {
    case CorrectionKind::kReturn:
      if (!PaymentStands(state)) return {LineState::kReturned, RuleCode::kLineNotPaid};
      if (recovered_fen != 0) return {LineState::kReturned, RuleCode::kLineRecovered};
      return {LineState::kReturned, std::nullopt};
    case CorrectionKind::kReissue:
      if (state != LineState::kReturned) return {LineState::kReissued, RuleCode::kLineNotReturned};
      return {LineState::kReissued, std::nullopt};
    case CorrectionKind::kRecovery: {
      if (state == LineState::kRecovered) return {state, RuleCode::kOverRecovery};
      if (!PaymentStands(state)) return {state, RuleCode::kLineNotPaid};
      // recovered_fen <= line_amount_fen on the rule-checked path; both at most kAmountFenMax
      // times a few in an imported log, so the difference cannot overflow.
      int64_t remaining = line_amount_fen - recovered_fen;
      LineState to = amount_fen >= remaining ? LineState::kRecovered : state;
      if (amount_fen > remaining) return {to, RuleCode::kOverRecovery};
      return {to, std::nullopt};
    }
  }
  return {state, RuleCode::kLineNotPaid};
}

const Correction* LineCorrections::Find(uint64_t index) const {
  auto it = by_entry_.find(index);
  return it == by_entry_.end() ? nullptr : &it->second;
}

LineHistory LineCorrections::Of(const LineRef& line) const {
  auto it = by_line_.find(line);
  return it == by_line_.end() ? LineHistory{} : it->second;
}

void LineCorrections::Record(uint64_t index, Correction c, UndoLog* undo) {
  c.before = Of(c.line);
  LineHistory after{0, index};
  if (c.kind == CorrectionKind::kRecovery &&
      __builtin_add_overflow(c.before.recovered_fen, c.amount_fen, &after.recovered_fen)) {
    after.recovered_fen = INT64_MAX;  // only an imported log recovers that much
  }
  auto [it, added] = by_entry_.insert_or_assign(index, c);
  (void)it;
  assert(added);  // each entry is applied once
  if (undo != nullptr) undo->Push([this, index] { by_entry_.erase(index); });
  SetHistory(c.line, after, undo);
}

void LineCorrections::TakeBack(uint64_t index, UndoLog* undo) {
  const Correction* c = Find(index);
  assert(c != nullptr && Of(c->line).latest == index);
  SetHistory(c->line, c->before, undo);
}

void LineCorrections::SetHistory(const LineRef& line, LineHistory h, UndoLog* undo) {
  auto [it, added] = by_line_.try_emplace(line, h);
  if (!added) {
    if (undo != nullptr) undo->Push([this, line, old = it->second] { by_line_[line] = old; });
    it->second = h;
  } else if (undo != nullptr) {
    undo->Push([this, line] { by_line_.erase(line); });
  }
}

}  // namespace fundledger
