// Applying domain events to the DomainState: the mutating half of the domain (the rules, in
// domain_rules.h, only read).
//
// Each function changes the state as the event says, records how to undo every change in
// `undo` (null: nothing will be rolled back, as in a replay), and fills `applied` with what the
// observers need: the entry's postings (double entry: the posted deltas sum to zero) and its
// payment effects. Events come either from Stage, after they passed the rules, or from a
// replay of committed entries, which are facts even where an imported log broke a rule: the
// application keeps to what such an entry says (a duplicate line keeps the first holder of
// its payment slot, say) instead of refusing it.
//
//   AppliedEntry applied{meta.index, meta.timestamp_ms, EventTypeOf(event)};
//   Status st = ApplyEvent(state, event, meta, &undo, applied);  // then feed the observers
//
// Thread safety: called by the thread that holds the domain's gate exclusively. An approval
// can be applied in two halves (PlanApproval, then ApplyPlannedApproval) so that the observers
// take the planned entry on another thread while the state changes.
#pragma once

#include "ledger/domain_state.h"
#include "ledger/events.h"

namespace fundledger {

// Errors are rule violations: `amount_overflow` when a balance or total would overflow (the
// rules prevent it for a checked event; an imported log can hold one), `unknown_batch` or
// `unknown_line` when a correction names what an imported log never prepared. What was applied
// before the error has its undo steps in `undo`; a replay stops there.
Status ApplyEvent(DomainState& state, const DomainEvent& event, const EntryMeta& meta,
                  UndoLog* undo, AppliedEntry& applied);

// An approval's postings and payments, read from the batch as it stands. It changes nothing
// but the table of account names: a person's account is interned (never taken back) the first
// time a line pays them, so that the postings carry its id.
Status PlanApproval(DomainState& state, const fb::DisbursementBatchApprovedT& approval,
                    AppliedEntry& applied);
// Double entry: the posted deltas of an applied entry sum to zero. They are summed checked (an
// imported log's amounts can make the sum overflow: amount_overflow); any other sum is a bug in
// the application and stops the program.
Status CheckPostingsBalance(const AppliedEntry& applied);

// The payment invariant on the lines a staged entry moved (an approval's, or the one line a
// return, reissue, recovery or reversal of one of them corrected): each line's recovered money
// within what it paid, all of it in state `recovered` and none in `returned`, and a line holds
// its payment slot exactly when its state does. The rules keep it (line_corrections.h); a
// broken one is a bug in a rule and stops the program before the entry is written.
void AssertPaymentInvariant(const DomainState& state, const DomainEvent& event,
                            const EntryMeta& meta);

// The state changes of an approval planned into `applied`: they read nothing PlanApproval
// wrote but `applied`, which they leave as it is.
Status ApplyPlannedApproval(DomainState& state, const fb::DisbursementBatchApprovedT& approval,
                            const EntryMeta& meta, UndoLog* undo, const AppliedEntry& applied);

}  // namespace fundledger
