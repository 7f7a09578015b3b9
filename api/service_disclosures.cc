#include <boost/json.hpp>

#include "api/disclosure_render.h"
#include "api/entry_json.h"
#include "api/open_data.h"
#include "api/service.h"
#include "crypto/checkpoint.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr size_t kEvidenceEntriesMax = 20'000;  // beyond this, verify with an audit bundle

}  // namespace

std::vector<PublishedDisclosure> Service::Published() const {
  std::vector<PublishedDisclosure> out;
  ledger_.domain().Read([&](const DomainState& s) {
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

Result<std::string> Service::PublishedReport(uint64_t index) const {
  // One entry read, not the whole list: this runs on every report, page and evidence request.
  bool published = ledger_.domain().Read([&](const DomainState& s) {
    return std::any_of(s.disclosures.begin(), s.disclosures.end(),
                       [&](const Disclosure& d) { return d.index == index; });
  });
  if (!published)
    return NotFound("entry " + std::to_string(index) + " is not a published disclosure");
  return LoadDisclosureText(options_.data_dir, ReportSha256(index));
}

Result<std::pair<uint64_t, std::string>> Service::ReportAtPath(Context& c) const {
  FL_ASSIGN_OR_RETURN(uint64_t index, U64Param(c.params, "index"));
  FL_ASSIGN_OR_RETURN(std::string text, PublishedReport(index));
  return std::make_pair(index, std::move(text));
}

HttpResponse Service::PublishDisclosure(Context& c) {
  boost::system::error_code ec;
  json::value v = json::parse(c.request.body.empty() ? "{}" : c.request.body, ec);
  if (ec || !v.is_object())
    return ErrorResponse(InvalidArgument("the request body must be a JSON object"));
  const json::object& o = v.as_object();
  auto str = [&](const char* k) {
    const json::value* f = o.if_contains(k);
    return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
  };
  DisclosureScope scope{str("scope"), str("id"), str("period")};
  std::string schedule = str("schedule_item").empty()
                             ? (scope.period.size() == 4 ? "annual" : "quarterly")
                             : str("schedule_item");
  uint64_t corrects = 0;
  if (const json::value* cr = o.if_contains("corrects_index"); cr != nullptr && cr->is_number())
    corrects = cr->to_number<uint64_t>();
  bool recipients = false;
  if (const json::value* ir = o.if_contains("include_recipients"); ir != nullptr && ir->is_bool())
    recipients = ir->as_bool();
  if (scope.kind != "fund" && scope.kind != "org" && scope.kind != "project") {
    return ErrorResponse(InvalidArgument("scope must be fund, org or project").WithField("scope"));
  }
  Result<std::pair<int64_t, int64_t>> period = PeriodBounds(scope.period);
  if (!period.ok()) return ErrorResponse(period.status());
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
  if (recipients) {
    names = [this](const std::string& ben) -> std::optional<std::string> {
      Result<PersonalData> p = ledger_.ReadPersonalData(ben);
      return p.ok() ? std::optional<std::string>(p->name) : std::nullopt;
    };
  }
  Result<PublicationResult> r =
      fundledger::PublishDisclosure(ledger_, options_.data_dir, scope, schedule, corrects, names,
                                    Actor{c.who.actor, c.who.role}, c.request.idempotency_key);
  if (!r.ok()) return ErrorResponse(r.status());
  json::object out;
  out["index"] = r->entry.first_index;
  out["replayed"] = r->entry.replayed;
  out["sha256"] = r->sha256;
  out["checkpoint_size"] = r->checkpoint_size;
  out["entries"] = r->entries;
  out["url"] = "/disclosures/" + std::to_string(r->entry.first_index);
  return JsonResponse(r->entry.replayed ? 200 : 201, json::serialize(out));
}

HttpResponse Service::ListDisclosures(Context&) {
  json::array list;
  for (const PublishedDisclosure& d : Published()) {
    list.push_back(json::object{{"index", d.index},
                                {"organisation", d.organisation},
                                {"fund_id", d.fund},
                                {"period", d.period},
                                {"schedule_item", d.schedule_item},
                                {"sha256", d.sha256},
                                {"published", IsoTimeMs(d.timestamp_ms)},
                                {"corrects_index", d.corrects_index}});
  }
  return JsonResponse(200, json::serialize(json::object{{"disclosures", std::move(list)}}));
}

HttpResponse Service::GetDisclosure(Context& c) {
  Result<std::pair<uint64_t, std::string>> found = ReportAtPath(c);
  if (!found.ok()) return ErrorResponse(found.status());
  return JsonResponse(200, found->second);
}

HttpResponse Service::DisclosureEvidence(Context& c) {
  Result<std::pair<uint64_t, std::string>> found = ReportAtPath(c);
  if (!found.ok()) return ErrorResponse(found.status());
  const auto& [index, text] = *found;
  Result<DisclosureReport> report = DisclosureFromJson(text);
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
  Result<json::object> published = entry(index, now_cp->size);
  if (!published.ok()) return ErrorResponse(published.status());
  json::array entries;
  for (uint64_t i : report->entries) {
    Result<json::object> e = entry(i, report->checkpoint_size);
    if (!e.ok()) return ErrorResponse(e.status());
    entries.push_back(std::move(*e));
  }
  json::object o{{"checkpoint", *now},
                 {"published", std::move(*published)},
                 {"report", text},
                 {"entries", std::move(entries)}};
  return JsonResponse(200, json::serialize(o));
}

HttpResponse Service::OpenData360(Context&) {
  Result<std::string> out = Giving360Json(ledger_.log(), ledger_.log().origin());
  if (!out.ok()) return ErrorResponse(out.status());
  return JsonResponse(200, *out);
}

HttpResponse Service::OpenDataIati(Context&) {
  Result<std::string> out = IatiTransactionsJson(ledger_.log(), ledger_.log().origin());
  if (!out.ok()) return ErrorResponse(out.status());
  return JsonResponse(200, *out);
}

HttpResponse Service::PublicIndex(Context& c) {
  std::string lang = Param(c.params, "lang") == "en" ? "en" : "zh";
  return TextResponse(200, DisclosureListHtml(Published(), ledger_.log().origin(), lang),
                      "text/html; charset=utf-8");
}

HttpResponse Service::PublicDisclosure(Context& c) {
  Result<std::pair<uint64_t, std::string>> found = ReportAtPath(c);
  if (!found.ok()) return ErrorResponse(found.status());
  Result<DisclosureReport> report = DisclosureFromJson(found->second);
  if (!report.ok()) return ErrorResponse(report.status());
  std::string lang = Param(c.params, "lang") == "en" ? "en" : "zh";
  return TextResponse(200, DisclosureHtml(*report, lang, found->first), "text/html; charset=utf-8");
}

HttpResponse Service::VerifyScript(Context&) {
  return TextResponse(200, DisclosureVerifyScript(), "text/javascript; charset=utf-8");
}
}  // namespace fundledger
