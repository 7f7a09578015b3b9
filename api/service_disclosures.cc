#include <boost/json.hpp>

#include "api/disclosure_publication.h"
#include "api/disclosure_render.h"
#include "api/entry_json.h"
#include "api/open_data.h"
#include "api/request_fields.h"
#include "api/service.h"
#include "crypto/checkpoint.h"
#include "ledger/log_clock.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr size_t kEvidencePageEntries = 1'000;  // entries per page of evidence

json::array HexArray(const std::vector<Hash>& hashes) {
  json::array a;
  for (const Hash& h : hashes) a.emplace_back(HashHex(h));
  return a;
}

// The body of POST /v1/disclosures.
struct DisclosureRequest {
  DisclosureScope scope;
  std::string schedule_item;  // default: "annual" for a year, "quarterly" for a quarter
  uint64_t corrects_index = 0;
  bool include_recipients = false;
  bool confirm_empty = false;  // publish a report that moves no money all the same
};

Result<DisclosureRequest> ParseDisclosureRequest(std::string_view body) {
  FL_ASSIGN_OR_RETURN(JsonFields f, JsonFields::Parse(body));
  DisclosureRequest r;
  FL_ASSIGN_OR_RETURN(r.scope.kind, f.String("scope"));
  FL_ASSIGN_OR_RETURN(r.scope.id, f.String("id"));
  FL_ASSIGN_OR_RETURN(r.scope.period, f.String("period"));
  FL_ASSIGN_OR_RETURN(r.schedule_item, f.String("schedule_item"));
  if (r.schedule_item.empty())
    r.schedule_item = r.scope.period.size() == 4 ? "annual" : "quarterly";
  FL_ASSIGN_OR_RETURN(r.corrects_index, f.U64("corrects_index"));
  FL_ASSIGN_OR_RETURN(r.include_recipients, f.Bool("include_recipients"));
  FL_ASSIGN_OR_RETURN(r.confirm_empty, f.Bool("confirm_empty"));
  if (r.scope.kind != "fund" && r.scope.kind != "org" && r.scope.kind != "project")
    return InvalidArgument("scope must be fund, org or project").WithField("scope");
  Result<std::pair<int64_t, int64_t>> bounds = PeriodBounds(r.scope.period);
  if (!bounds.ok()) return Status(bounds.status()).WithField("period");
  return r;
}

}  // namespace

std::vector<PublishedDisclosure> Service::Published(uint64_t* log_size) const {
  std::vector<PublishedDisclosure> out;
  ledger_.domain().Read([&](const DomainState& s) {
    *log_size = s.next_index;
    for (const Disclosure& d : s.disclosures) {
      auto fund = s.funds.find(d.fund);
      out.push_back({d.index, d.organisation, d.fund, d.period, d.schedule_item, "", d.timestamp_ms,
                     d.corrects_index, fund != s.funds.end() ? fund->second.name : ""});
    }
    return 0;
  });
  for (PublishedDisclosure& d : out) d.sha256 = ReportSha256(d.index);
  return out;
}

std::string Service::ReportSha256(uint64_t index) const {
  Result<Bytes> raw = ledger_.log().ReadEntry(index);
  if (!raw.ok()) return "";
  Result<EntryView> e = DecodeEntry(*raw);
  if (!e.ok()) return "";
  Result<DomainEvent> ev = DecodeEvent(e->event_type, e->payload);
  if (!ev.ok()) return "";
  auto* p = std::get_if<fb::DisclosurePublishedT>(&*ev);
  return p != nullptr ? HexEncode(p->report_sha256) : "";
}

Result<Service::StoredReport> Service::ReportAtPath(Context& c) const {
  StoredReport report;
  FL_ASSIGN_OR_RETURN(report.index, U64Param(c.params, "index"));
  // One entry read, not the whole list: this runs on every report, page and evidence request.
  bool published = ledger_.domain().Read([&](const DomainState& s) {
    report.log_size = s.next_index;
    return std::any_of(s.disclosures.begin(), s.disclosures.end(),
                       [&](const Disclosure& d) { return d.index == report.index; });
  });
  if (!published)
    return NotFound("entry " + std::to_string(report.index) + " is not a published disclosure");
  FL_ASSIGN_OR_RETURN(report.text,
                      LoadDisclosureText(options_.data_dir, ReportSha256(report.index)));
  return report;
}

HttpResponse Service::PublishDisclosure(Context& c) {
  Result<DisclosureRequest> req = ParseDisclosureRequest(c.request.body);
  if (!req.ok()) return ErrorResponse(req.status());
  const DisclosureScope& scope = req->scope;
  if (c.who.role == fb::Role::charity) {
    if (scope.kind == "fund") {
      Status st = CheckFundScope(c.who, scope.id);
      if (!st.ok()) return ErrorResponse(st);
    } else if (!(scope.kind == "org" && scope.id == c.who.org)) {
      return ErrorResponse(Status(StatusCode::kPermissionDenied,
                                  "a charity publishes for its own organisation or funds only"));
    }
  }
  NameLookup names;
  if (req->include_recipients) {
    names = [this](const std::string& ben) -> std::optional<std::string> {
      Result<PersonalData> p = ledger_.ReadPersonalData(ben);
      return p.ok() ? std::optional<std::string>(p->name) : std::nullopt;
    };
  }
  Result<Actor> actor = CommandActor(c);
  if (!actor.ok()) return ErrorResponse(actor.status());
  Result<PublicationResult> r =
      PublishDisclosureReport(ledger_, options_.data_dir,
                              {scope, req->schedule_item, req->corrects_index, req->confirm_empty},
                              names, *actor, c.request.idempotency_key, SystemLogClock().NowMs());
  if (!r.ok()) return ErrorResponse(r.status());
  return Committed(r->entry,
                   json::object{{"index", r->entry.first_index},
                                {"sha256", r->sha256},
                                {"checkpoint_size", r->checkpoint_size},
                                {"entries", r->entries},
                                {"url", "/disclosures/" + std::to_string(r->entry.first_index)}});
}

HttpResponse Service::ListDisclosures(Context&) {
  uint64_t log_size = 0;
  json::array list;
  for (const PublishedDisclosure& d : Published(&log_size)) {
    list.push_back(json::object{{"index", d.index},
                                {"organisation", d.organisation},
                                {"fund_id", d.fund},
                                {"period", d.period},
                                {"schedule_item", d.schedule_item},
                                {"sha256", d.sha256},
                                {"published", IsoTimeMs(d.timestamp_ms)},
                                {"corrects_index", d.corrects_index}});
  }
  HttpResponse r =
      JsonResponse(200, json::serialize(json::object{{"disclosures", std::move(list)}}));
  r.log_size = log_size;
  return r;
}

HttpResponse Service::GetDisclosure(Context& c) {
  Result<StoredReport> found = ReportAtPath(c);
  if (!found.ok()) return ErrorResponse(found.status());
  HttpResponse r = JsonResponse(200, found->text);  // exactly the bytes hashed
  r.log_size = found->log_size;
  return r;
}

// What a browser needs to check a report, in pages so that a large one streams with progress.
// The first page (start=0) carries the latest checkpoint (the cosigned one when a witness
// policy has published one that holds the entry), the DisclosurePublished entry with its
// inclusion proof in it, and the consistency proof from the report's checkpoint to it. Every
// page carries up to `count` (at most kEvidencePageEntries) of the entries the report rests on,
// from `start`, each as its leaf hash with its inclusion proof in the report's tree, and `next`
// (null on the last page).
HttpResponse Service::DisclosureEvidence(Context& c) {
  Result<StoredReport> found = ReportAtPath(c);
  if (!found.ok()) return ErrorResponse(found.status());
  Result<DisclosureReport> report = DisclosureFromJson(found->text);
  if (!report.ok()) return ErrorResponse(report.status());
  uint64_t start = 0, count = kEvidencePageEntries;
  for (auto [name, value] : {std::pair{"start", &start}, std::pair{"count", &count}}) {
    if (Param(c.params, name).empty()) continue;
    Result<uint64_t> v = U64Param(c.params, name);
    if (!v.ok()) return ErrorResponse(v.status());
    *value = *v;
  }
  if (count == 0 || count > kEvidencePageEntries) {
    return ErrorResponse(InvalidArgument("count must be 1.." + std::to_string(kEvidencePageEntries))
                             .WithField("count"));
  }
  const Log& log = ledger_.log();
  json::object body;
  uint64_t log_size = report->checkpoint_size;
  if (start == 0) {
    Result<json::object> head = EvidenceHead(found->index, report->checkpoint_size, &log_size);
    if (!head.ok()) return ErrorResponse(head.status());
    body = std::move(*head);
  }
  const std::vector<uint64_t>& all = report->entries;
  const size_t first = std::min<uint64_t>(start, all.size());
  const size_t end = std::min<uint64_t>(all.size(), first + count);
  json::array entries;
  for (size_t k = first; k < end; ++k) {
    Result<Bytes> raw = log.ReadEntry(all[k]);
    if (!raw.ok()) return ErrorResponse(raw.status());
    Result<std::vector<Hash>> proof = log.ProveInclusion(all[k], report->checkpoint_size);
    if (!proof.ok()) return ErrorResponse(proof.status());
    entries.push_back(json::object{
        {"index", all[k]}, {"leaf", HashHex(HashLeaf(*raw))}, {"proof", HexArray(*proof)}});
  }
  body["entries_total"] = all.size();
  body["start"] = first;
  body["entries"] = std::move(entries);
  body["next"] = end < all.size() ? json::value(end) : json::value(nullptr);
  HttpResponse r = JsonResponse(200, json::serialize(body));
  r.log_size = log_size;  // every proof is in the tree of this checkpoint or an earlier one
  return r;
}

Result<json::object> Service::EvidenceHead(uint64_t index, uint64_t report_size,
                                           uint64_t* log_size) const {
  const Log& log = ledger_.log();
  FL_ASSIGN_OR_RETURN(std::string note, log.LatestCheckpoint());
  if (options_.published_checkpoint) {
    std::optional<std::string> cosigned = options_.published_checkpoint();
    Result<fundledger::Checkpoint> cp =
        cosigned ? OpenCheckpoint(*cosigned, log.verifier())
                 : Result<fundledger::Checkpoint>(NotFound("none published"));
    if (cp.ok() && cp->size > index) note = *cosigned;  // witnessed, and holds the entry
  }
  FL_ASSIGN_OR_RETURN(fundledger::Checkpoint now, OpenCheckpoint(note, log.verifier()));
  FL_ASSIGN_OR_RETURN(Bytes raw, log.ReadEntry(index));
  FL_ASSIGN_OR_RETURN(std::vector<Hash> inclusion, log.ProveInclusion(index, now.size));
  std::vector<Hash> consistency;
  if (report_size < now.size) {
    FL_ASSIGN_OR_RETURN(consistency, log.ProveConsistency(report_size, now.size));
  }
  *log_size = now.size;
  return json::object{
      {"checkpoint", note},
      {"published",
       json::object{{"index", index}, {"raw", Base64Encode(raw)}, {"proof", HexArray(inclusion)}}},
      {"consistency", HexArray(consistency)}};
}

HttpResponse Service::OpenData(OpenDataFormat format) const {
  const Log& log = ledger_.log();
  const uint64_t log_size = log.size();
  const OpenDataPublisher& publisher = options_.open_data;
  Result<std::string> out = format == OpenDataFormat::k360Giving
                                ? Giving360Json(log, log_size, log.origin(), publisher)
                                : IatiActivitiesXml(log, log_size, log.origin(), publisher);
  if (!out.ok()) return ErrorResponse(out.status());
  HttpResponse r = format == OpenDataFormat::k360Giving
                       ? JsonResponse(200, std::move(*out))
                       : TextResponse(200, std::move(*out), "application/xml; charset=utf-8");
  r.log_size = log_size;
  return r;
}

HttpResponse Service::OpenData360(Context&) { return OpenData(OpenDataFormat::k360Giving); }

HttpResponse Service::OpenDataIati(Context&) { return OpenData(OpenDataFormat::kIati); }

HttpResponse Service::PublicIndex(Context& c) {
  std::string lang = Param(c.params, "lang") == "en" ? "en" : "zh";
  uint64_t log_size = 0;
  std::vector<PublishedDisclosure> list = Published(&log_size);
  HttpResponse r = TextResponse(200, DisclosureListHtml(list, ledger_.log().origin(), lang),
                                "text/html; charset=utf-8");
  r.log_size = log_size;
  return r;
}

HttpResponse Service::PublicDisclosure(Context& c) {
  Result<StoredReport> found = ReportAtPath(c);
  if (!found.ok()) return ErrorResponse(found.status());
  Result<DisclosureReport> report = DisclosureFromJson(found->text);
  if (!report.ok()) return ErrorResponse(report.status());
  std::string lang = Param(c.params, "lang") == "en" ? "en" : "zh";
  HttpResponse r = TextResponse(200, DisclosureHtml(found->text, lang, found->index),
                                "text/html; charset=utf-8");
  r.log_size = found->log_size;
  return r;
}

HttpResponse Service::VerifyScript(Context&) {
  return TextResponse(200, DisclosurePageScript(), "text/javascript; charset=utf-8");
}

}  // namespace fundledger
