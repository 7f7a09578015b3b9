// The answer to a rejected roll, bounded whatever the roll's size: the first
// kRollReportInlineMax problems inline, every problem counted by code and column, and the whole
// list kept in a RollReportStore and downloaded as CSV (行号, 列, 代码, 问题) from
// `GET /v1/roll-reports/{report_id}`, to fix the spreadsheet and upload it again. Messages are
// Chinese when the request prefers it (Accept-Language zh...); codes never change.
//
// The error body (the one error shape of http_message.h, with more keys):
//   {"error": {"code": "lines_rejected", "message", "translations": {"en", "zh"}, "line",
//    "details": [first N, each {"code", "message", "translations", "field"?, "line"?}],
//    "details_total": 12345, "summary": [{"code", "field", "count"}],
//    "report_id": "<32 hex>", "report": "/v1/roll-reports/<id>"}}
// `message` is in the request's language, for API clients; `translations` holds the same text
// in each language the console speaks, so a page whose reader switches language redraws the
// list in the new one without sending the roll again (the sentences stay the server's).
//
// RollReportStore is thread-safe; it keeps the newest reports within kRollReportsMax and
// kRollReportsBytesMax (a single larger report is kept alone), in memory: a report is for the
// upload that just failed, not a record (the log has none of it). It keeps the problems, not
// text: the CSV is written in the language its download asks for (Accept-Language), else in
// the upload's.
#pragma once

#include <boost/json/object.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/error_language.h"
#include "api/http_message.h"
#include "crypto/mutex.h"

namespace fundledger {

inline constexpr size_t kRollReportInlineMax = 100;
inline constexpr size_t kRollReportsMax = 32;
inline constexpr size_t kRollReportsBytesMax = 256ull << 20;

// A problem's message for a clerk: the English message, or in Chinese the sentence for its code
// and column (error_language.h), nothing English in it.
std::string ProblemMessage(const Status& problem, Language language);
// `problem` with its message as ProblemMessage writes it (code, rule, field and line kept).
Status LocalizedStatus(const Status& problem, Language language);

// The whole list as CSV, with a UTF-8 BOM so Excel reads the Chinese.
std::string RollProblemsCsv(const std::vector<Status>& problems, Language language);

// The 4xx answer for a roll with `problems` (sorted by row) out of `rows` data rows;
// `report_id` names the CSV kept for it. A roll-level problem, if any, is the error itself.
HttpResponse RollRejection(const std::vector<Status>& problems, const Status& roll_problem,
                           size_t rows, const std::string& report_id, Language language);

// A message in each language the console speaks: {"en": ..., "zh": ...}.
boost::json::object Translations(const Status& problem);

class RollReportStore {
 public:
  struct Report {
    std::string id;
    std::shared_ptr<const std::vector<Status>> problems;  // shared: a download copies no list
    Language language = Language::kEn;                    // the upload's
    size_t bytes = 0;                                     // its English CSV's size
  };
  // Keeps `problems` of an upload made in `language`, returns the report's id (a hash of the
  // English CSV: the same problems have the same id).
  std::string Add(std::vector<Status> problems, Language language);
  std::optional<Report> Find(const std::string& id) const;

 private:
  mutable Mutex mu_;
  std::deque<Report> reports_ FL_GUARDED_BY(mu_);  // oldest first
  size_t bytes_ FL_GUARDED_BY(mu_) = 0;
};

}  // namespace fundledger
