// An anomaly finding's detail (replay/anomaly_checks.h) in the reader's language. The checks
// write one English sentence per finding, its figures inside (amounts in yuan, months, ids,
// quoted names); for Chinese the sentence is read back by its shape, one per kind of finding,
// and the same figures are put into the Chinese sentence. A detail of no known shape stays as
// the checks wrote it (tests/api/finding_language_test.cc holds every shape the checks write,
// so a new one fails there first).
//
//   std::string text = FindingDetail(finding, PreferredLanguage(request.accept_language));
#pragma once

#include <string>

#include "api/error_language.h"
#include "replay/anomaly_checks.h"

namespace fundledger {

// The finding's detail in `language` (kEn: as the checks wrote it).
std::string FindingDetail(const Finding& finding, Language language);

}  // namespace fundledger
