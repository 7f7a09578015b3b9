#include "api/disclosure_publication.h"

#include <algorithm>

#include "crypto/checkpoint.h"
#include "projections/business_date.h"

namespace fundledger {

bool MovesNoMoney(const DisclosureReport& r) {
  auto zero = [](const std::map<std::string, int64_t>& lines) {
    return std::all_of(lines.begin(), lines.end(), [](const auto& l) { return l.second == 0; });
  };
  return zero(r.inflows) && zero(r.outflows);
}

std::string PublishedReportText(DisclosureReport& r, int64_t now_ms) {
  r.interim = now_ms < r.period_end_ms;
  r.published_on = FormatDate(ChinaDateNumber(now_ms));
  return DisclosureJson(r);  // the two members last: the text stays canonical
}

Result<PublicationResult> PublishDisclosureReport(Ledger& ledger, const std::string& data_dir,
                                                  const PublicationRequest& req,
                                                  const NameLookup& names, const Actor& actor,
                                                  const std::string& key, int64_t now_ms) {
  FL_ASSIGN_OR_RETURN(std::string note, ledger.log().LatestCheckpoint());
  FL_ASSIGN_OR_RETURN(Checkpoint cp, OpenCheckpoint(note, ledger.log().verifier()));
  FL_ASSIGN_OR_RETURN(DisclosureReport report,
                      ComputeDisclosure(ledger.log(), cp.size, req.scope, names));
  FL_RETURN_IF_ERROR(NameCodes(ledger, data_dir, report));
  if (MovesNoMoney(report) && !req.confirm_empty) {
    return RuleViolation("the report of " + req.scope.kind + " " + req.scope.id + " for " +
                         req.scope.period +
                         " moves no money; to publish it all the same, send "
                         "\"confirm_empty\": true")
        .WithField("confirm_empty");
  }
  std::string text = PublishedReportText(report, now_ms);
  FL_ASSIGN_OR_RETURN(std::string sha, StoreDisclosureText(data_dir, text));  // before its entry
  fb::DisclosurePublishedT e;
  e.organisation = report.organisation.empty() ? req.scope.id : report.organisation;
  e.fund_id = req.scope.kind == "fund" ? req.scope.id : "";
  e.period = req.scope.period;
  e.schedule_item = req.schedule_item;
  Bytes hash = *HexDecode(sha);
  e.report_sha256.assign(hash.begin(), hash.end());
  e.checkpoint_size = cp.size;
  e.corrects_index = req.corrects_index;
  FL_ASSIGN_OR_RETURN(AppendResult r, ledger.Submit(actor, key, {e}));
  return PublicationResult{r, sha, cp.size, report.entries.size()};
}

}  // namespace fundledger
