// The printable approval sheet (审批表) of one roll, for the paper file: an HTML page in Chinese
// with print CSS (A4), made from a BatchReview: the batch, fund and month, totals by program and
// by region, the change from the previous month's roll with its lines, who prepared and who
// decided it and when (with their entries' indexes), the log size and root hash it was read at,
// and signature lines for the people who sign on paper. Every figure is the review's; the page
// runs no script.
//
//   std::string html = ApprovalSheetHtml(review, HashHex(*TreeRoot(log, review.read_at)));
#pragma once

#include <string>

#include "api/batch_review.h"

namespace fundledger {

// `root_hex`: the log's tree root at review.read_at entries, in hex.
std::string ApprovalSheetHtml(const BatchReview& review, const std::string& root_hex);

// A UTC instant as China time, to the minute: "2026-03-05 14:07".
std::string ChinaTimeText(int64_t timestamp_ms);

}  // namespace fundledger
