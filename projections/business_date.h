// Business dates: the instant a movement of money belongs to, by which disclosures, open data
// and audit checks select it, never by the time it was posted (ledger/entry.fbs, "Business
// dates"). A roll counts from its period's first day (China time); a donation from its
// receipt_date, other movements from their value_date; an entry without one (written before
// they were recorded) from its posting time, exactly as before. A return or reissue of a roll
// line counts from its posting, never before the roll's period; a reversal from its posting.
//
//   int64_t at = BusinessTimeMs(event, state_before, entry.timestamp_ms);
//   if (period.Contains(at)) ...
//
// Pure functions of their arguments: safe from any thread that may read `before`.
#pragma once

#include <cstdint>

#include "ledger/domain_state.h"
#include "ledger/events.h"

namespace fundledger {

// UTC ms of the start of the business day (or month) of `event`, read with the domain's state
// before it was applied; `posted_ms` (the entry's timestamp) where it has none.
int64_t BusinessTimeMs(const DomainEvent& event, const DomainState& before, int64_t posted_ms);

// The UTC ms at which China date yyyymmdd (a valid date) starts.
int64_t ChinaDateStartMs(int32_t yyyymmdd);
// The China date (yyyymmdd) at UTC instant `ms`.
int32_t ChinaDateNumber(int64_t ms);

}  // namespace fundledger
