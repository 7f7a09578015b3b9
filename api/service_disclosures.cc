#include <boost/json.hpp>

#include "api/disclosure_render.h"
#include "api/entry_json.h"
#include "api/open_data.h"
#include "api/request_fields.h"
#include "api/service.h"
#include "crypto/checkpoint.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr size_t kEvidenceEntriesMax = 20'000;  // beyond this, verify with an audit bundle

// The body of POST /v1/disclosures.
struct DisclosureRequest {
  DisclosureScope scope;
  std::string schedule_item;  // default: "annual" for a year, "quarterly" for a quarter
  uint64_t corrects_index = 0;
  bool include_recipients = false;
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
      out.push_back({d.index, d.organisation, d.fund, d.period, d.schedule_item, "", d.timestamp_ms,
                     d.corrects_index});
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
      fundledger::PublishDisclosure(ledger_, options_.data_dir, scope, req->schedule_item,
                                    req->corrects_index, names, *actor, c.request.idempotency_key);
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

// What a browser needs to check a report: the latest signed checkpoint with the inclusion
// proof of the DisclosurePublished entry in it, and each entry the report rests on with its
// proof in the tree the report was computed at.
HttpResponse Service::DisclosureEvidence(Context& c) {
  Result<StoredReport> found = ReportAtPath(c);
  if (!found.ok()) return ErrorResponse(found.status());
  Result<DisclosureReport> report = DisclosureFromJson(found->text);
  if (!report.ok()) return ErrorResponse(report.status());
  if (report->entries.size() > kEvidenceEntriesMax) {
    return ErrorResponse(TooLarge(
        "this report rests on " + std::to_string(report->entries.size()) +
        " entries, too many to check in a browser; verify it with `fundledger audit` on a bundle"));
  }
  const Log& log = ledger_.log();
  Result<std::string> now = log.LatestCheckpoint();
  if (!now.ok()) return ErrorResponse(now.status());
  Result<fundledger::Checkpoint> now_cp = OpenCheckpoint(*now, log.verifier());
  if (!now_cp.ok()) return ErrorResponse(now_cp.status());
  auto entry = [&](uint64_t i, uint64_t size) -> Result<json::object> {
    FL_ASSIGN_OR_RETURN(Bytes raw, log.ReadEntry(i));
    FL_ASSIGN_OR_RETURN(std::vector<Hash> proof, log.ProveInclusion(i, size));
    json::array p;
    for (const Hash& h : proof) p.emplace_back(HashHex(h));
    return json::object{{"index", i}, {"raw", Base64Encode(raw)}, {"proof", std::move(p)}};
  };
  Result<json::object> published = entry(found->index, now_cp->size);
  if (!published.ok()) return ErrorResponse(published.status());
  json::array entries;
  for (uint64_t i : report->entries) {
    Result<json::object> e = entry(i, report->checkpoint_size);
    if (!e.ok()) return ErrorResponse(e.status());
    entries.push_back(std::move(*e));
  }
  HttpResponse r =
      JsonResponse(200, json::serialize(json::object{{"checkpoint", *now},
                                                     {"published", std::move(*published)},
                                                     {"report", found->text},
                                                     {"entries", std::move(entries)}}));
  r.log_size = now_cp->size;  // every proof is in the tree of this checkpoint or an earlier one
  return r;
}

HttpResponse Service::OpenData(OpenDataFormat format) const {
  const Log& log = ledger_.log();
  const uint64_t log_size = log.size();
  Result<std::string> out = format == OpenDataFormat::k360Giving
                                ? Giving360Json(log, log_size, log.origin())
                                : IatiTransactionsJson(log, log_size, log.origin());
  if (!out.ok()) return ErrorResponse(out.status());
  HttpResponse r = JsonResponse(200, std::move(*out));
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
  HttpResponse r =
      TextResponse(200, DisclosureHtml(*report, lang, found->index), "text/html; charset=utf-8");
  r.log_size = found->log_size;
  return r;
}

HttpResponse Service::VerifyScript(Context&) {
  return TextResponse(200, DisclosureVerifyScript(), "text/javascript; charset=utf-8");
}

}  // namespace fundledger
