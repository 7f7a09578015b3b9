#include <fmt/core.h>

#include <boost/json.hpp>

#include "api/service.h"

namespace fundledger {
namespace json = boost::json;

HttpResponse Service::Metrics(Context&) {
  Log::Stats s = ledger_.log().stats();
  std::string extra = fmt::format(
      "# HELP fundledger_log_size Entries in the log.\n# TYPE fundledger_log_size "
      "gauge\nfundledger_log_size {}\n"
      "# HELP fundledger_commits_total Synced commit groups.\n# TYPE fundledger_commits_total "
      "counter\nfundledger_commits_total {}\n"
      "# HELP fundledger_entries_total Entries appended since start.\n# TYPE "
      "fundledger_entries_total counter\nfundledger_entries_total {}\n"
      "# HELP fundledger_submissions_total Submissions appended since start.\n# TYPE "
      "fundledger_submissions_total counter\nfundledger_submissions_total {}\n"
      "# HELP fundledger_rejected_total Submissions refused since start.\n# TYPE "
      "fundledger_rejected_total counter\nfundledger_rejected_total {}\n"
      "# HELP fundledger_commit_group_entries_max Largest commit group since start.\n# TYPE "
      "fundledger_commit_group_entries_max gauge\nfundledger_commit_group_entries_max {}\n"
      "# HELP fundledger_commit_queue_depth Submissions waiting for the writer.\n# TYPE "
      "fundledger_commit_queue_depth gauge\nfundledger_commit_queue_depth {}\n",
      ledger_.log().size(), s.commits, s.entries, s.submissions, s.rejected, s.group_entries_max,
      s.queue_depth);
  return TextResponse(200, metrics_.Render(extra), "text/plain; version=0.0.4");
}

HttpResponse Service::Health(Context&) {
  json::object o;
  o["status"] = "ok";
  o["log_size"] = ledger_.log().size();
  o["origin"] = ledger_.log().origin();
  return JsonResponse(200, json::serialize(o));
}
}  // namespace fundledger
