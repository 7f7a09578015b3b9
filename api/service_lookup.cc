// Lookups and the auditor's corner: people found by name through the vault (each search
// recorded in the access log), a person's payment history in pages, one payment proved against
// the current checkpoint (the one entry holding its line, that line, and the inclusion proof:
// what a browser needs to check it without reading the entry as JSON), the anomaly checks'
// findings with the entries behind them, and the access log itself.
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "api/access_log.h"
#include "api/cli_audit.h"
#include "api/entry_json.h"
#include "api/roll_report.h"
#include "api/service.h"
#include "api/shared_file.h"
#include "api/tar_archive.h"
#include "crypto/checkpoint.h"
#include "crypto/encoding.h"
#include "ledger/vault.h"
#include "projections/disclosure.h"
#include "projections/fund_balances.h"
#include "replay/anomaly_checks.h"
#include "replay/bundle.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr size_t kNameQueryCharsMin = 2;  // one character (a surname) finds half a city
constexpr size_t kNameQueryBytesMax = 64;
constexpr size_t kNameSearchPeopleMax = 200'000;  // vault records opened by one search
constexpr size_t kNameSearchResultsMax = 50;
constexpr size_t kPaymentRowsPageMax = 100;
constexpr size_t kPaymentRowsPageDefault = 24;
constexpr uint64_t kChunkScanSlackMax = 64;  // entries between a roll's chunks, at most
constexpr size_t kFindingsShownMax = 1'000;
constexpr size_t kAccessLogLinesMax = 1'000;
// An audit bundle is answered whole from memory: larger logs go by `fundledger audit export`
// or a tlog-tiles mirror of /tlog/, or in ranges of `from`.
constexpr uint64_t kAuditBundleEntriesMax = 100'000;
constexpr size_t kAuditBundleBytesMax = 256ull << 20;

size_t Utf8Chars(std::string_view text) {
  size_t n = 0;
  for (char ch : text) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

std::string Trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

// 110105194912310021 -> 1101**********0021: the region's first four digits and the last four.
std::string MaskIdNumber(std::string_view number) {
  if (number.size() <= 8) return std::string(number.size(), '*');
  return std::string(number.substr(0, 4)) + std::string(number.size() - 8, '*') +
         std::string(number.substr(number.size() - 4));
}

// One payment of a person: a paid total of (program, month) and the live line paying it.
struct PaymentRow {
  std::string program;
  int32_t period = 0;
  PaidTotal paid;
  std::string batch;  // "" when no live line holds the slot (returned, recovered)
  uint32_t line_no = 0;
  int64_t line_amount_fen = 0;
  std::string state, fund;
  BatchStatus batch_status = BatchStatus::kPrepared;
  uint64_t prepared_index = 0, decided_index = 0;
  uint32_t chunks = 0;
};

// The live line holding (person, program, month), filled into `row`.
void FindLine(const DomainState& s, const std::string& person, PaymentRow& row) {
  std::optional<SlotKey> key = PaymentSlots::Find(s.names, person, row.program, row.period);
  const SlotHolder* holder = key ? s.slots.HolderOf(*key) : nullptr;
  if (holder == nullptr) return;
  auto batch = s.batches.find(s.names[holder->batch]);
  if (batch == s.batches.end()) return;
  const BatchState& b = batch->second;
  const BatchLine* found = b.FindLine(holder->line_no);
  if (found == nullptr) return;
  const BatchLine& line = *found;
  row.batch = batch->first;
  row.line_no = line.line_no;
  row.line_amount_fen = line.amount_fen;
  row.state = std::string(LineStateName(line.state));
  row.fund = b.fund;
  row.batch_status = b.status;
  row.prepared_index = b.prepared_index;
  row.decided_index = b.decided_index;
  row.chunks = b.chunks;
}

// A person's payments, newest month first, then by program.
std::vector<PaymentRow> PaymentRows(const DomainState& s, const Projections& projections,
                                    const std::string& person) {
  std::vector<PaymentRow> rows;
  for (const auto& [key, paid] : projections.PaidTo(s, person)) {
    size_t slash = key.rfind('/');
    PaymentRow row;
    row.program = key.substr(0, slash);
    row.period = std::atoi(key.c_str() + slash + 1);
    row.paid = paid;
    FindLine(s, person, row);
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const PaymentRow& a, const PaymentRow& b) {
    return a.period != b.period ? a.period > b.period : a.program < b.program;
  });
  return rows;
}

json::object PaymentRowJson(const PaymentRow& row) {
  json::object o{{"program_id", row.program},
                 {"period", FormatMonth(row.period)},
                 {"paid_fen", row.paid.amount_fen},
                 {"paid", FormatFen(row.paid.amount_fen)},
                 {"lines", row.paid.lines}};
  if (!row.batch.empty()) {
    o["batch_id"] = row.batch;
    o["fund_id"] = row.fund;
    o["line_no"] = row.line_no;
    o["amount_fen"] = row.line_amount_fen;
    o["amount"] = FormatFen(row.line_amount_fen);
    o["state"] = row.state;
    o["prepared_index"] = row.prepared_index;
    if (row.batch_status == BatchStatus::kApproved) o["approved_index"] = row.decided_index;
  }
  return o;
}

// The DisbursementBatchPrepared entry of `batch` holding line `line_no`: a roll's chunks are
// entries from its first one on, committed together.
Result<uint64_t> EntryHoldingLine(const Log& log, const PaymentRow& row) {
  const uint64_t end =
      std::min<uint64_t>(log.size(), row.prepared_index + row.chunks + kChunkScanSlackMax);
  std::optional<uint64_t> found;
  FL_RETURN_IF_ERROR(
      log.ScanEntries(row.prepared_index, end, [&](uint64_t index, ByteView bytes) -> Status {
        if (found) return Status::Ok();
        FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
        if (e.event_type != fb::EventType::DisbursementBatchPrepared) return Status::Ok();
        auto* p = flatbuffers::GetRoot<fb::DisbursementBatchPrepared>(e.payload.data());
        if (p->batch_id() == nullptr || p->batch_id()->string_view() != row.batch ||
            p->lines() == nullptr)
          return Status::Ok();
        for (const fb::DisbursementLine* l : *p->lines()) {
          if (l->line_no() == row.line_no) found = index;
        }
        return Status::Ok();
      }));
  if (!found)
    return Corruption("line " + std::to_string(row.line_no) + " of batch '" + row.batch +
                      "' is in none of its entries from " + std::to_string(row.prepared_index));
  return *found;
}

// Entry `index` as the browser checks it: its exact bytes, leaf hash and inclusion proof in
// the tree of `size`.
Result<json::object> ProvenEntry(const Log& log, uint64_t index, uint64_t size) {
  FL_ASSIGN_OR_RETURN(Bytes bytes, log.ReadEntry(index));
  FL_ASSIGN_OR_RETURN(json::object proof, ReadInclusionProof(log, index, size));
  proof["raw"] = Base64Encode(bytes);
  proof["bytes"] = bytes.size();
  return proof;
}

// The error in the reader's language: in Chinese when the request prefers it, the English
// specifics kept in brackets; code and field unchanged.
HttpResponse LocalError(const HttpRequest& request, const Status& error, std::string_view zh) {
  if (PreferredLanguage(request.accept_language) != Language::kZh || zh.empty())
    return ErrorResponse(error);
  Status local(error.code(), std::string(zh) + "（" + error.message() + "）");
  if (!error.field().empty()) local.WithField(error.field());
  return ErrorResponse(local);
}

// What a clerk reads in Chinese for the errors of a payment proof, by the field at fault.
std::string_view ProofErrorZh(const Status& error) {
  if (error.field() == "beneficiary_id") return "没有登记这个受益人";
  if (error.field() == "period") return "日志中没有这个人这个月的发放";
  if (error.field() == "program_id") return "这个人这个月有多个项目的发放，请填写项目";
  return "";
}

// The files of the bundle directory `dir` as one tar archive, their names relative to it.
Result<std::string> TarOfDirectory(const std::string& dir, int64_t mtime_s) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path());
  }
  if (ec) return IoError("cannot list the audit bundle in " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  TarArchive tar;
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) return IoError("cannot read " + file.string());
    FL_RETURN_IF_ERROR(tar.Add(fs::relative(file, dir).generic_string(), bytes, mtime_s));
    if (tar.size() > kAuditBundleBytesMax)
      return Status(StatusCode::kTooLarge,
                    "the audit bundle is larger than one answer holds (" +
                        std::to_string(kAuditBundleBytesMax >> 20) +
                        " MiB): ask for a range of `from`, or use `fundledger audit export`");
  }
  return std::move(tar).Finish();
}

// An optional whole-number parameter within [min, max], `fallback` when absent; else a 400
// naming it.
Result<uint64_t> BoundedParam(const RequestParams& params, const std::string& name,
                              uint64_t fallback, uint64_t min, uint64_t max) {
  if (Param(params, name).empty()) return fallback;
  FL_ASSIGN_OR_RETURN(uint64_t v, U64Param(params, name));
  if (v < min || v > max)
    return InvalidArgument(name + ": " + std::to_string(min) + ".." + std::to_string(max))
        .WithField(name);
  return v;
}

// `detail` in the caller's language; `translations` in each the console speaks, so that a page
// switched to the other redraws the findings without running the checks again.
json::object FindingJson(const Finding& f, Language language) {
  json::array entries;
  for (uint64_t e : f.entries) entries.push_back(e);
  return json::object{{"check", f.check},
                      {"subject", f.subject},
                      {"detail", language == Language::kZh ? f.detail_zh : f.detail},
                      {"translations", json::object{{"en", f.detail}, {"zh", f.detail_zh}}},
                      {"entries", std::move(entries)}};
}

}  // namespace

void Service::AddLookupRoutes() {
  AddGet("/v1/beneficiaries/{beneficiary_id}/payments", kReaders,
         "A person's payments, newest month first: what was paid per program and month and the "
         "roll line paying it; at most 100 a page",
         {{"start", "the first row of the page (default 0)"},
          {"count", "rows in the page, 1..100 (default 24)"}},
         &Service::ListPayments);
  AddGet("/v1/payment-proofs", kReaders,
         "Proof of one payment (a person and a month): the log entry holding its roll line "
         "(exact bytes), the line, the approval entry, and their inclusion proofs against the "
         "current signed checkpoint",
         {{"beneficiary_id", "the person", true},
          {"period", "the month paid, YYYY-MM", true},
          {"program_id", "the program, when the person was paid by several that month"}},
         &Service::ProvePayment);
  AddGet("/v1/anomalies", kAdmin | kAuditor,
         "The auditors' anomaly checks over the log (replay/anomaly_checks.h): each finding with "
         "the entries behind it; at most 1,000 shown, one run at a time",
         {{"as_of", std::string(kAsOfHelp)}, {"idle_days", "idle_balance's threshold (180)"}},
         &Service::ListAnomalies);
  AddGet("/v1/audit-bundle", kAdmin | kAuditor,
         "An audit bundle (replay/bundle.h: entries, hash tiles, signed checkpoints) as one tar "
         "archive, for `fundledger audit verify`; at most 100,000 entries an answer",
         {{"from", "the first entry (rounded down to a multiple of 256; default 0)"},
          {"to", "the end: a checkpoint's size at or below it (default the latest)"}},
         &Service::AuditBundle);
  AddGet("/v1/access-log", kAdmin | kAuditor,
         "Who searched for people: one JSON line per search (actor, role, kind, result count, "
         "time; never what was searched for), the newest 1,000",
         {{"lines", "how many of the newest lines, 1..1000 (default 1000)"}},
         &Service::AccessLogTail);
}

json::object Service::MaskedPerson(const std::string& id, const std::string& region,
                                   const PersonalData* person) {
  return json::object{{"beneficiary_id", id},
                      {"region_code", region},
                      {"name_masked", person ? MaskName(person->name) : ""},
                      {"id_number_masked", person ? MaskIdNumber(person->id_number) : ""}};
}

Status Service::RecordSearch(const Principal& who, std::string_view kind, uint64_t results) {
  if (access_log_ == nullptr)
    return Status(StatusCode::kOverloaded,
                  "searches for people are recorded in the data directory's access.log; this "
                  "server has none, so it does not search");
  return access_log_->Record(who, kind, results, NowMs());
}

HttpResponse Service::SearchBeneficiariesByName(Context& c) {
  const std::string query = Trimmed(Param(c.params, "q"));
  if (Utf8Chars(query) < kNameQueryCharsMin || query.size() > kNameQueryBytesMax)
    return LocalError(c.request,
                      InvalidArgument("q: give at least two characters of a name (at most " +
                                      std::to_string(kNameQueryBytesMax) + " bytes)")
                          .WithField("q"),
                      "请输入姓名中的至少两个字");
  struct Candidate {
    std::string id, region;
  };
  uint64_t log_size = 0;
  std::vector<Candidate> people = ledger_.domain().Read([&](const DomainState& s) {
    log_size = s.next_index;
    std::vector<Candidate> out;
    for (const auto& [id, b] : s.beneficiaries) {
      if (b.erased) continue;
      if (out.size() == kNameSearchPeopleMax) break;
      out.push_back({id, b.region});
    }
    return out;
  });
  json::array rows;
  for (const Candidate& p : people) {  // outside the read gate: the vault needs no domain state
    if (rows.size() == kNameSearchResultsMax) break;
    Result<PersonalData> person = ledger_.ReadPersonalData(p.id);
    if (!person.ok()) continue;  // erased since, or never had a record
    if (person->name.find(query) == std::string::npos) continue;
    rows.push_back(MaskedPerson(p.id, p.region, &*person));
  }
  if (Status recorded = RecordSearch(c.who, "name", rows.size()); !recorded.ok())
    return ErrorResponse(recorded);
  const bool more = rows.size() == kNameSearchResultsMax || people.size() == kNameSearchPeopleMax;
  HttpResponse r = JsonResponse(
      200, json::serialize(json::object{{"beneficiaries", std::move(rows)}, {"more", more}}));
  r.log_size = log_size;
  return r;
}

HttpResponse Service::ListPayments(Context& c) {
  const std::string id = c.params["beneficiary_id"];
  Result<uint64_t> start = BoundedParam(c.params, "start", 0, 0, UINT64_MAX);
  if (!start.ok()) return ErrorResponse(start.status());
  Result<uint64_t> count =
      BoundedParam(c.params, "count", kPaymentRowsPageDefault, 1, kPaymentRowsPageMax);
  if (!count.ok()) return ErrorResponse(count.status());
  return ReadJson([&](const DomainState& s) -> Result<json::object> {
    auto it = s.beneficiaries.find(id);
    if (it == s.beneficiaries.end() || it->second.erased)
      return NotFound("beneficiary '" + id + "' is not registered");
    std::vector<PaymentRow> rows = PaymentRows(s, projections_, id);
    json::array page;
    for (uint64_t i = *start; i < rows.size() && page.size() < *count; ++i)
      page.push_back(PaymentRowJson(rows[i]));
    json::object o{{"beneficiary_id", id}, {"payments", std::move(page)}, {"total", rows.size()}};
    const uint64_t next = *start + *count;  // wraps only for a start past every row
    o["next"] =
        *start < rows.size() && next < rows.size() ? json::value(next) : json::value(nullptr);
    return o;
  });
}

namespace {

// The live payment of (person, month[, program]) as a row, or an error naming what is missing.
Result<PaymentRow> PaymentToProve(const Ledger& ledger, const Projections& projections,
                                  const std::string& person, int32_t period,
                                  const std::string& program) {
  return ledger.domain().Read([&](const DomainState& s) -> Result<PaymentRow> {
    auto it = s.beneficiaries.find(person);
    if (it == s.beneficiaries.end() || it->second.erased)
      return NotFound("beneficiary '" + person + "' is not registered").WithField("beneficiary_id");
    std::vector<PaymentRow> found;
    for (PaymentRow& row : PaymentRows(s, projections, person)) {
      if (row.period == period && !row.batch.empty() && (program.empty() || row.program == program))
        found.push_back(std::move(row));
    }
    const std::string what = person + (program.empty() ? "" : " in program " + program);
    if (found.empty())
      return NotFound("no payment to " + what + " for " + FormatMonth(period) + " is in the log")
          .WithField("period");
    if (found.size() > 1) {
      std::string names;
      for (const PaymentRow& r : found) names += (names.empty() ? "" : ", ") + r.program;
      return InvalidArgument(person + " was paid by " + std::to_string(found.size()) +
                             " programs for " + FormatMonth(period) + " (" + names +
                             "): name one in program_id")
          .WithField("program_id");
    }
    return std::move(found.front());
  });
}

}  // namespace

HttpResponse Service::ProvePayment(Context& c) {
  const std::string person = Param(c.params, "beneficiary_id");
  if (person.empty())
    return ErrorResponse(InvalidArgument("beneficiary_id is required").WithField("beneficiary_id"));
  Result<int32_t> period = ParseMonth(Param(c.params, "period"));
  if (!period.ok()) return ErrorResponse(Status(period.status()).WithField("period"));
  Result<PaymentRow> row =
      PaymentToProve(ledger_, projections_, person, *period, Param(c.params, "program_id"));
  if (!row.ok()) return LocalError(c.request, row.status(), ProofErrorZh(row.status()));
  const Log& log = ledger_.log();
  std::optional<std::string> published;
  if (options_.published_checkpoint) published = options_.published_checkpoint();
  Result<std::string> note = published ? Result<std::string>(*published) : log.LatestCheckpoint();
  if (!note.ok()) return ErrorResponse(note.status());
  Result<fundledger::Checkpoint> cp = OpenCheckpoint(*note, log.verifier());
  if (!cp.ok()) return ErrorResponse(cp.status());
  Result<uint64_t> index = EntryHoldingLine(log, *row);
  if (!index.ok()) return ErrorResponse(index.status());
  const bool approved = row->batch_status == BatchStatus::kApproved;
  if (*index >= cp->size || (approved && row->decided_index >= cp->size)) {
    HttpResponse r =
        ErrorResponse(Status(StatusCode::kOverloaded,
                             "the payment's entries are not in a signed checkpoint yet (it "
                             "signs " +
                                 std::to_string(cp->size) + " entries); try again"));
    r.retry_after = "1";
    return r;
  }
  Result<json::object> entry = ProvenEntry(log, *index, cp->size);
  if (!entry.ok()) return ErrorResponse(entry.status());
  json::object o{{"beneficiary_id", person}, {"checkpoint", *note}};
  o["payment"] = PaymentRowJson(*row);
  o["entry"] = std::move(*entry);
  o["approval"] = nullptr;
  if (approved) {
    Result<json::object> approval = ProvenEntry(log, row->decided_index, cp->size);
    if (!approval.ok()) return ErrorResponse(approval.status());
    o["approval"] = std::move(*approval);
  }
  HttpResponse r = JsonResponse(200, json::serialize(o));
  r.log_size = cp->size;
  return r;
}

HttpResponse Service::ListAnomalies(Context& c) {
  AnomalyOptions options;
  Result<uint64_t> idle_days = BoundedParam(c.params, "idle_days", options.idle_days, 1, 36'500);
  if (!idle_days.ok()) return ErrorResponse(idle_days.status());
  options.idle_days = static_cast<int>(*idle_days);
  const Log& log = ledger_.log();
  if (Status as_of = ChecksAsOf(log, Param(c.params, "as_of"), "as_of", options); !as_of.ok())
    return ErrorResponse(as_of);
  const uint64_t size = std::min(log.size(), options.entries_max);
  if (!anomaly_run_.TryLock())
    return ErrorResponse(Status(StatusCode::kOverloaded,
                                "the anomaly checks are running for someone else; try again"));
  Result<std::vector<Finding>> findings = RunAnomalyChecks(log, options);
  anomaly_run_.Unlock();
  if (!findings.ok()) return ErrorResponse(findings.status());
  json::array rows;
  std::map<std::string, uint64_t> by_check;
  const Language language = PreferredLanguage(c.request.accept_language);
  for (const Finding& f : *findings) {
    by_check[f.check]++;
    if (rows.size() < kFindingsShownMax) rows.push_back(FindingJson(f, language));
  }
  json::object counts;
  for (const auto& [check, n] : by_check) counts[check] = n;
  HttpResponse r = JsonResponse(200, json::serialize(json::object{{"findings", std::move(rows)},
                                                                  {"total", findings->size()},
                                                                  {"by_check", std::move(counts)},
                                                                  {"entries_read", size}}));
  r.log_size = size;
  return r;
}

HttpResponse Service::AuditBundle(Context& c) {
  uint64_t from = 0;
  std::optional<uint64_t> to;
  for (const char* name : {"from", "to"}) {
    if (Param(c.params, name).empty()) continue;
    Result<uint64_t> v = U64Param(c.params, name);
    if (!v.ok()) return ErrorResponse(v.status());
    if (name == std::string_view("from")) {
      from = *v;
    } else {
      to = *v;
    }
  }
  const Log& log = ledger_.log();
  const uint64_t end = std::min(to.value_or(log.size()), log.size());
  const uint64_t start = from - from % 256;  // ExportBundle's rounding
  if (end > start && end - start > kAuditBundleEntriesMax)
    return ErrorResponse(
        Status(
            StatusCode::kTooLarge,
            "a bundle of " + std::to_string(end - start) +
                " entries is more than one answer "
                "holds (" +
                std::to_string(kAuditBundleEntriesMax) +
                "): ask for ranges of "
                "from/to, mirror /tlog/ with a tlog-tiles client, or run `fundledger audit export`")
            .WithField("from"));
  if (options_.data_dir.empty())
    return ErrorResponse(Status(StatusCode::kOverloaded, "this server has no data directory"));
  // Unique within this server (its pid, its request count); removed before answering.
  const std::string dir = options_.data_dir + "/audit-bundle." + std::to_string(::getpid()) + "." +
                          std::to_string(request_ids_.fetch_add(1));
  if (Status made = MakePrivateDirectory(dir, "the audit bundle"); !made.ok())
    return ErrorResponse(made);
  Result<BundleManifest> manifest = ExportBundle(log, dir, from, to);
  Result<std::string> tar =
      manifest.ok() ? TarOfDirectory(dir, NowMs() / 1000) : Result<std::string>(manifest.status());
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  if (!tar.ok()) return ErrorResponse(tar.status());
  HttpResponse r = TextResponse(200, std::move(*tar), "application/x-tar");
  r.log_size = manifest->to;
  return r;
}

HttpResponse Service::AccessLogTail(Context& c) {
  Result<uint64_t> lines =
      BoundedParam(c.params, "lines", kAccessLogLinesMax, 1, kAccessLogLinesMax);
  if (!lines.ok()) return ErrorResponse(lines.status());
  if (access_log_ == nullptr) return TextResponse(200, "", "application/x-ndjson");
  Result<std::string> text = access_log_->Tail(*lines);
  if (!text.ok()) return ErrorResponse(text.status());
  return TextResponse(200, *text, "application/x-ndjson");
}

}  // namespace fundledger
