#include <fmt/core.h>

#include <boost/json.hpp>

#include "api/service.h"

namespace fundledger {
namespace json = boost::json;

HttpResponse Service::Metrics(Context&) {
  const uint64_t log_size = ledger_.log().size();
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
      "fundledger_commit_queue_depth gauge\nfundledger_commit_queue_depth {}\n"
      "# HELP fundledger_read_only 1 while the store is open read-only (a full disk).\n# TYPE "
      "fundledger_read_only gauge\nfundledger_read_only {}\n"
      "# HELP fundledger_commit_seconds_total Time of commit groups, taken to ready to answer.\n# "
      "TYPE "
      "fundledger_commit_seconds_total counter\nfundledger_commit_seconds_total {:.6f}\n"
      "# HELP fundledger_commit_stage_seconds_total Of which staging: rules, encoding, hashing, "
      "signing.\n# TYPE fundledger_commit_stage_seconds_total counter\n"
      "fundledger_commit_stage_seconds_total {:.6f}\n"
      "# HELP fundledger_commit_record_seconds_total Of which the log of record's append "
      "(cluster mode).\n# TYPE fundledger_commit_record_seconds_total counter\n"
      "fundledger_commit_record_seconds_total {:.6f}\n"
      "# HELP fundledger_commit_store_seconds_total Of which the local store's write.\n# TYPE "
      "fundledger_commit_store_seconds_total counter\nfundledger_commit_store_seconds_total "
      "{:.6f}\n"
      "# HELP fundledger_commit_answer_seconds_total Answering the groups' submitters, after "
      "the commit.\n# TYPE fundledger_commit_answer_seconds_total counter\n"
      "fundledger_commit_answer_seconds_total {:.6f}\n",
      log_size, s.commits, s.entries, s.submissions, s.rejected, s.group_entries_max, s.queue_depth,
      options_.read_only_reason.empty() ? 0 : 1, s.commit_ns / 1e9, s.stage_ns / 1e9,
      s.record_ns / 1e9, s.store_ns / 1e9, s.answer_ns / 1e9);
  if (options_.extra_metrics) extra += options_.extra_metrics();
  HttpResponse r = TextResponse(200, metrics_.Render(extra), "text/plain; version=0.0.4");
  r.log_size = log_size;
  return r;
}

HttpResponse Service::Health(Context&) {
  const uint64_t log_size = ledger_.log().size();
  json::object o{{"status", "ok"}, {"log_size", log_size}, {"origin", ledger_.log().origin()}};
  if (!options_.read_only_reason.empty()) {  // reads are served: still 200
    o["status"] = "read_only";
    o["read_only_reason"] = options_.read_only_reason;
  }
  std::optional<std::string> damaged = options_.damage ? options_.damage() : std::nullopt;
  if (damaged) {
    o["status"] = "damaged";
    o["damage"] = *damaged;
  }
  HttpResponse r = JsonResponse(damaged ? 500 : 200, json::serialize(o));
  r.log_size = log_size;
  return r;
}

}  // namespace fundledger
