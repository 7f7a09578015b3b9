// LineCorrections: how returns, reissues, recoveries and their reversals move a paid roll line,
// and the record of every correction a Reversal may name.
//
// The state machine (ledger/README.md, "Corrections", has it as a table with the codes):
//
//   paid or reissued, r recovered of amount a (0 <= r < a)
//     return        -> returned            only if r = 0, else `line_recovered`
//     recover x     -> itself, r + x       x <= a - r, else `over_recovery`;
//                      recovered            when r + x = a
//   returned
//     reissue       -> reissued            the slot must be free (`duplicate_payment`)
//   recovered (r = a)                      nothing remains: a recovery is `over_recovery`
//   any correction not listed              `line_not_paid` (return, recovery) or
//                                          `line_not_returned` (reissue)
//   reversal of a correction c             -> the state c found, and r as c found it; only
//                                          while c is the line's latest correction still
//                                          standing (`correction_not_latest`), and into a
//                                          state that holds the slot only if it is free
//                                          (`duplicate_payment`)
//
// A line's standing corrections form a stack (each records the one below it): a reversal takes
// back the top, so every state the line returns to is one it was in. With it the payment
// invariant holds: a line's net payment, what it paid less what was recovered of it, stays
// within [0, amount], it is 0 in every state that gives the slot back (returned, recovered),
// so a slot's net payment is 0 or that of the one live line holding it.
//
// An imported log's entries are applied whatever the rules say: NextLineState gives the state
// an entry leaves even where `refusal` is set, and a reversal of a correction that is not the
// latest moves only money.
//
//   LineMove move = NextLineState(line.state, line.amount_fen, history.recovered_fen,
//                                 CorrectionKind::kRecovery, amount_fen);
//   if (move.refusal) return RuleError(*move.refusal, ...);
//
// Thread safety: as DomainState (changed under the domain's gate held exclusively).
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "ledger/effects.h"
#include "ledger/payment_slots.h"
#include "ledger/rule_code.h"

namespace fundledger {

inline constexpr uint64_t kNoCorrection = UINT64_MAX;

enum class CorrectionKind : uint8_t { kReturn, kReissue, kRecovery };
std::string_view CorrectionKindName(CorrectionKind kind);

// What a correction does to a line: the state it leaves, and the rule it breaks if any.
struct LineMove {
  LineState to = LineState::kPaid;
  std::optional<RuleCode> refusal;
};
// The move of a return, reissue or recovery of `amount_fen` (a recovery's; the others move the
// line's amount) on a line of `line_amount_fen` in `state`, `recovered_fen` recovered so far.
LineMove NextLineState(LineState state, int64_t line_amount_fen, int64_t recovered_fen,
                       CorrectionKind kind, int64_t amount_fen);

// Per corrected line: what is recovered of its current payment, its latest standing correction.
struct LineHistory {
  int64_t recovered_fen = 0;
  uint64_t latest = kNoCorrection;  // an entry index
};

// One correction of one line, kept for its reversal.
struct Correction {
  LineRef line;
  CorrectionKind kind = CorrectionKind::kReturn;
  LineState from = LineState::kPaid;  // the line's state before it
  int64_t amount_fen = 0;             // the money it moved from or to the person
  LineHistory before;                 // the line's history as the correction found it
};

class LineCorrections {
 public:
  // The correction entry `index` recorded, or null.
  const Correction* Find(uint64_t index) const;
  // The history of `line`; a line never corrected has recovered nothing and no latest.
  LineHistory Of(const LineRef& line) const;

  // Entry `index` corrects c.line (c.before is set here): it becomes the line's latest; a
  // recovery adds to what is recovered, a return or reissue starts a payment with none.
  void Record(uint64_t index, Correction c, UndoLog* undo);
  // Entry `index`, its line's latest, is reversed: the line's history is again the one the
  // entry found.
  void TakeBack(uint64_t index, UndoLog* undo);

  // For the codec: every record and every history, in no particular order, and putting them
  // back when a state is decoded.
  template <typename Fn>
  void ForEachCorrection(Fn&& fn) const {
    for (const auto& [index, c] : by_entry_) fn(index, c);
  }
  template <typename Fn>
  void ForEachHistory(Fn&& fn) const {
    for (const auto& [line, h] : by_line_) fn(line, h);
  }
  void Restore(uint64_t index, const Correction& c) { by_entry_[index] = c; }
  void Restore(const LineRef& line, const LineHistory& h) { by_line_[line] = h; }
  size_t size() const { return by_entry_.size(); }

 private:
  void SetHistory(const LineRef& line, LineHistory h, UndoLog* undo);

  std::map<uint64_t, Correction> by_entry_;
  boost::unordered_flat_map<LineRef, LineHistory, LineRefHash> by_line_;
};

}  // namespace fundledger
