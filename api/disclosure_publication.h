// Publishing a disclosure report under the publication rules: the report is computed at the
// log's latest signed checkpoint; one that moves no money in its period is refused unless the
// request confirms it (`confirm_empty`, a RuleViolation naming that field otherwise); one whose
// period has not ended when it is published is an interim report. The published text is the
// report's canonical JSON (api/disclosure_render.h) with two more members:
//   "interim": true | false        the period had not ended when it was published
//   "published_on": "2026-04-02"   the China date it was published on
// stored content-addressed before the DisclosurePublished entry naming its SHA-256 is appended.
//
//   Result<PublicationResult> r = PublishDisclosureReport(ledger, dir,
//       {{"fund", "F-SUNSHINE", "2025"}, "annual"}, nullptr, actor, key, now_ms);
//
// Thread safety: as Ledger::Submit (any thread).
#pragma once

#include <string>

#include "api/disclosure_render.h"

namespace fundledger {

struct PublicationRequest {
  DisclosureScope scope;
  std::string schedule_item;  // "quarterly" | "annual" | "campaign"
  uint64_t corrects_index = 0;
  bool confirm_empty = false;  // publish a report that moves no money all the same
};

Result<PublicationResult> PublishDisclosureReport(Ledger& ledger, const std::string& data_dir,
                                                  const PublicationRequest& request,
                                                  const NameLookup& names, const Actor& actor,
                                                  const std::string& idempotency_key,
                                                  int64_t now_ms);

// True when every inflow and outflow line of the report is zero.
bool MovesNoMoney(const DisclosureReport& report);
// The published text of `report` at `now_ms` (above); sets report.interim and published_on.
std::string PublishedReportText(DisclosureReport& report, int64_t now_ms);

}  // namespace fundledger
