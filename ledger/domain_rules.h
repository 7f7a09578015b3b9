// The domain's rules: read-only checks of an event against the state it would be applied to.
//
// Every check reads the DomainState and nothing else, changes nothing, and reports the first
// broken rule as a rule violation with a stable code (ledger/rule_code.h), the field at fault
// and, for roll lines, the line. A submission passes the rules entry by entry, each against
// the state its predecessors left (Domain::Stage); only then is it applied (domain_apply.h).
// Replay never checks rules: committed entries are facts.
//
//   Status st = CheckRules(state, event, EntryMeta{index, timestamp_ms, actor, role});
//   if (!st.ok()) return st;  // st.rule() == "insufficient_funds", st.field() == "amount_fen"
//
// Thread safety: the caller holds the domain's gate (the writer for a commit group), so the
// state does not change while a check runs; a large roll's lines are checked on the caller's
// thread and one of the pool's (WorkerPool), both only reading.
#pragma once

#include <vector>

#include "ledger/domain_state.h"
#include "ledger/events.h"

namespace fundledger {

class WorkerPool;

// Checks one event against `state` (exposed for tests and for the audit of imported logs).
Status CheckRules(const DomainState& state, const DomainEvent& event, const EntryMeta& meta,
                  WorkerPool* pool = nullptr);
// Checks the chunks of one disbursement batch together: every rejected line is in details().
// With a pool, a roll of kParallelCheckLinesMin lines or more is checked on the caller's
// thread and the pool's helpers at once. With `chunk_names`, a batch that passes leaves there
// each chunk's names as the checks found them (by chunk), for the prepare to apply.
Status CheckBatchRules(const DomainState& state,
                       const std::vector<const fb::DisbursementBatchPreparedT*>& chunks,
                       WorkerPool* pool = nullptr,
                       std::vector<ChunkNameIds>* chunk_names = nullptr);

// Below this many lines, checking on more threads costs more than it saves.
inline constexpr size_t kParallelCheckLinesMin = 4096;
// A roll's lines are checked in at most this many parts at once (the caller's and helpers').
inline constexpr size_t kCheckPartsMax = 3;

}  // namespace fundledger
