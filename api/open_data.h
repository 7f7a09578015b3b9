// Open-data exports of the log, for the data portals charities and lottery-fund users
// publish to:
//   360Giving (threesixtygiving.org): grants, with fundingOrganization and recipientOrganization;
//     grants to individuals are aggregated per roll with an anonymised recipientIndividual,
//     as the standard asks; never a person's name or id.
//   IATI-style transactions (iatistandard.org): incoming funds (1), disbursements (3),
//     expenditure (4), each with a value, currency and value date.
// Amounts are decimal yuan written from integer fen (no floating point).
#pragma once

#include <string>

#include "ledger/log_source.h"

namespace fundledger {

// Both read the first `size` entries of the log (the caller's observed log size, which the
// answer then reflects).
Result<std::string> Giving360Json(const LogSource& log, uint64_t size, const std::string& origin);
Result<std::string> IatiTransactionsJson(const LogSource& log, uint64_t size,
                                         const std::string& origin);

}  // namespace fundledger
