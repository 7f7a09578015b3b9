#include "api/service.h"

#include <fmt/core.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url.hpp>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>

#include "api/disclosure_render.h"
#include "api/entry_json.h"
#include "api/event_json.h"
#include "api/open_data.h"
#include "api/roll_parser.h"
#include "crypto/checkpoint.h"
#include "crypto/tlog_tiles.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr uint64_t kBatchLinesShownMax = 10'000;

HttpResponse Text(int status, std::string body, std::string type = "text/plain; charset=utf-8") {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(type);
  r.body = std::move(body);
  return r;
}

json::object StatusJson(const Status& s) {
  json::object e;
  e["code"] = s.rule().empty() ? std::string(StatusCodeName(s.code())) : s.rule();
  e["message"] = s.message();
  if (!s.field().empty()) e["field"] = s.field();
  if (s.line() != 0) e["line"] = s.line();
  return e;
}

Result<uint64_t> U64Param(const std::map<std::string, std::string>& params,
                          const std::string& name) {
  auto it = params.find(name);
  if (it == params.end() || it->second.empty())
    return InvalidArgument("query parameter '" + name + "' is required").WithField(name);
  uint64_t v = 0;
  auto r = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (r.ec != std::errc() || r.ptr != it->second.data() + it->second.size()) {
    return InvalidArgument("'" + name + "' must be a whole number, got '" +
                           it->second.substr(0, 40) + "'")
        .WithField(name);
  }
  return v;
}

std::string Param(const std::map<std::string, std::string>& params, const std::string& name,
                  std::string fallback = "") {
  auto it = params.find(name);
  return it == params.end() ? fallback : it->second;
}

json::object BalanceJson(const Balance& b) {
  json::object o;
  o["posted_fen"] = b.posted_fen;
  o["pending_fen"] = b.pending_fen;
  o["available_fen"] = b.available_fen();
  o["posted"] = FormatFen(b.posted_fen);
  return o;
}

// Every fund id an event names, for charity scoping.
std::vector<std::string> FundsOf(const DomainEvent& e) {
  return std::visit(
      [](const auto& ev) -> std::vector<std::string> {
        using T = std::decay_t<decltype(ev)>;
        std::vector<std::string> out;
        if constexpr (requires { ev.fund_id; }) out.push_back(ev.fund_id);
        if constexpr (requires { ev.from_fund_id; }) out.push_back(ev.from_fund_id);
        if constexpr (requires { ev.to_fund_id; }) out.push_back(ev.to_fund_id);
        (void)sizeof(T);
        return out;
      },
      e);
}

}  // namespace

HttpResponse JsonResponse(int status, const std::string& body) {
  HttpResponse r;
  r.status = status;
  r.body = body;
  return r;
}

HttpResponse ErrorResponse(const Status& s) {
  json::object e = StatusJson(s);
  if (!s.details().empty()) {
    json::array details;
    for (const Status& d : s.details()) details.push_back(StatusJson(d));
    e["details"] = std::move(details);
  }
  json::object o;
  o["error"] = std::move(e);
  return JsonResponse(HttpStatusFor(s.code()), json::serialize(o));
}

Service::Service(Ledger& ledger, Projections& projections, TokenStore& tokens,
                 class Metrics& metrics, ServiceOptions options)
    : ledger_(ledger),
      projections_(projections),
      tokens_(tokens),
      metrics_(metrics),
      options_(std::move(options)) {
  AddRoutes();
}

void Service::AddRoutes() {
  const uint32_t staff = kAdmin | kMaker;
  const uint32_t readers = kAdmin | kMaker | kChecker | kAuditor;
  const uint32_t integrity = kAdmin | kAuditor | kPublicIfOpen;
  auto command = [&](std::string pattern, fb::EventType type, uint32_t roles, std::string summary) {
    routes_.push_back({"POST",
                       std::move(pattern),
                       roles,
                       std::move(summary),
                       type,
                       {},
                       [type](Service& s, Context& c) { return s.Command(c, type); }});
  };
  using E = fb::EventType;
  command("/v1/funds", E::FundOpened, kAdmin, "Open a fund (FundOpened)");
  command("/v1/funds/{fund_id}/close", E::FundClosed, kAdmin, "Close an empty fund (FundClosed)");
  command("/v1/programs", E::ProgramDefined, kAdmin,
          "Define a program and its standard (ProgramDefined)");
  command("/v1/programs/{program_id}/standards", E::ProgramStandardChanged, kAdmin,
          "Change a program's standard from a month on");
  routes_.push_back({"POST",
                     "/v1/beneficiaries",
                     staff,
                     "Register a beneficiary; \"person\" {name, id_number, bank_account, phone} "
                     "goes to the vault only",
                     E::BeneficiaryRegistered,
                     {},
                     [](Service& s, Context& c) { return s.RegisterBeneficiary(c); }});
  command("/v1/beneficiaries/{beneficiary_id}/changes", E::BeneficiaryChanged, staff,
          "Record a status change (suspended, deceased, exited, active)");
  command("/v1/enrollments", E::Enrolled, staff, "Enroll a beneficiary in a program");
  command("/v1/enrollment-changes", E::EnrollmentChanged, staff,
          "Change an enrollment's terms from a month on");
  command("/v1/appropriations", E::Appropriated, staff, "Record money appropriated into a fund");
  command("/v1/donations", E::DonationReceived, staff | kCharity,
          "Record a donation (restricted or open)");
  command("/v1/lottery-grants", E::LotteryGrantAwarded, staff,
          "Award a welfare-lottery grant to a project");
  routes_.push_back(
      {"POST",
       "/v1/disbursement-batches",
       staff,
       "Prepare a monthly roll from CSV or JSON lines (all lines or none; every bad line reported)",
       E::DisbursementBatchPrepared,
       {"batch_id", "fund_id", "bucket", "period", "document"},
       [](Service& s, Context& c) { return s.PrepareRoll(c); }});
  routes_.push_back({"POST",
                     "/v1/disbursement-batches/{batch_id}/approve",
                     kAdmin | kChecker,
                     "Approve a prepared roll (a different person from its maker); pays every line",
                     E::DisbursementBatchApproved,
                     {},
                     [](Service& s, Context& c) { return s.Decide(c, true); }});
  routes_.push_back({"POST",
                     "/v1/disbursement-batches/{batch_id}/reject",
                     kAdmin | kChecker,
                     "Reject a prepared roll; releases its reservation",
                     E::DisbursementBatchRejected,
                     {},
                     [](Service& s, Context& c) { return s.Decide(c, false); }});
  command("/v1/returns", E::PaymentReturned, staff, "Record a bank return of one paid line");
  command("/v1/reissues", E::PaymentReissued, staff, "Reissue a returned line");
  command("/v1/recoveries", E::Recovered, staff, "Record money recovered from a beneficiary");
  command("/v1/reversals", E::Reversal, kAdmin | kChecker, "Reverse an earlier money entry (once)");
  command("/v1/expenses", E::Expensed, staff | kCharity, "Record spending from a fund bucket");
  command("/v1/transfers", E::TransferredBetweenFunds, staff | kCharity,
          "Move money between funds");
  command("/v1/restriction-releases", E::RestrictionReleased, staff | kCharity,
          "Release restricted money with consent");

  auto get = [&](std::string pattern, uint32_t roles, std::string summary,
                 std::vector<std::string> query, HttpResponse (Service::*fn)(Context&)) {
    routes_.push_back({"GET", std::move(pattern), roles, std::move(summary), E::Unknown,
                       std::move(query), [fn](Service& s, Context& c) { return (s.*fn)(c); }});
  };
  get("/v1/funds", readers | kCharity, "List funds (a charity sees its own)", {},
      &Service::ListFunds);
  get("/v1/funds/{fund_id}", readers | kCharity, "One fund with its balances per bucket", {},
      &Service::GetFund);
  get("/v1/balances", readers | kCharity,
      "Balances of a fund's buckets, now or as of an entry index or UTC time", {"fund_id", "as_of"},
      &Service::Balances);
  get("/v1/beneficiaries/{beneficiary_id}", readers,
      "A beneficiary's pseudonymous record and what was paid", {}, &Service::GetBeneficiary);
  get("/v1/disbursement-batches/{batch_id}", readers, "A roll's status and lines", {"lines"},
      &Service::GetBatch);
  get("/v1/entries/{index}", readers | integrity, "One log entry: JSON view and raw bytes", {},
      &Service::GetEntry);
  get("/v1/checkpoint", kPublic, "The latest signed checkpoint (C2SP signed note)", {},
      &Service::Checkpoint);
  get("/v1/key", kPublic, "The log's verifier key (C2SP vkey)", {}, &Service::Key);
  get("/v1/proofs/inclusion", integrity, "Inclusion proof of entry `index` in the tree of `size`",
      {"index", "size"}, &Service::ProveInclusion);
  get("/v1/proofs/consistency", integrity, "Consistency proof from tree size `old` to `size`",
      {"old", "size"}, &Service::ProveConsistency);
  get("/tlog/checkpoint", integrity, "C2SP tlog-tiles checkpoint", {}, &Service::Checkpoint);
  get("/tlog/tile/{path*}", integrity, "C2SP tlog-tiles hash tiles and entry bundles", {},
      &Service::Tile);
  routes_.push_back({"POST",
                     "/v1/disclosures",
                     kAdmin | kCharity,
                     "Compute a disclosure report from the log and publish it (a "
                     "DisclosurePublished entry holds its hash)",
                     E::DisclosurePublished,
                     {},
                     [](Service& s, Context& c) { return s.PublishDisclosure(c); }});
  get("/v1/disclosures", kPublic, "Published disclosures", {}, &Service::ListDisclosures);
  get("/v1/disclosures/{index}", kPublic, "A published report, exactly as hashed", {},
      &Service::GetDisclosure);
  get("/v1/disclosures/{index}/evidence", kPublic,
      "What a browser needs to check a report: signed checkpoints, the entries and their inclusion "
      "proofs",
      {}, &Service::DisclosureEvidence);
  get("/v1/open-data/360giving", kPublic, "Grants in the 360Giving format", {},
      &Service::OpenData360);
  get("/v1/open-data/iati", kPublic, "Transactions in the IATI style", {}, &Service::OpenDataIati);
  get("/", kPublic, "The public site: published disclosures", {"lang"}, &Service::PublicIndex);
  get("/disclosures/{index}", kPublic, "A published report as a page, with in-browser verification",
      {"lang"}, &Service::PublicDisclosure);
  get("/static/verify.js", kPublic, "The page's verification script (WebCrypto)", {},
      &Service::VerifyScript);
  get("/metrics", kPublic, "Prometheus metrics", {}, &Service::Metrics);
  get("/healthz", kPublic, "Liveness", {}, &Service::Health);
  get("/v1/openapi.json", kPublic, "This document", {}, &Service::OpenApi);
}

Service::Match Service::Find(const std::string& method, const std::string& path,
                             std::string* allowed) const {
  std::vector<std::string_view> parts;
  for (std::string_view p = path; !p.empty();) {
    if (p.front() == '/') p.remove_prefix(1);
    size_t slash = p.find('/');
    parts.push_back(p.substr(0, slash));
    p.remove_prefix(slash == std::string_view::npos ? p.size() : slash);
  }
  allowed->clear();
  for (const Route& r : routes_) {
    std::vector<std::string_view> pat;
    for (std::string_view p = r.pattern; !p.empty();) {
      if (p.front() == '/') p.remove_prefix(1);
      size_t slash = p.find('/');
      pat.push_back(p.substr(0, slash));
      p.remove_prefix(slash == std::string_view::npos ? p.size() : slash);
    }
    Match m;
    bool ok = true;
    size_t i = 0;
    for (; i < pat.size() && ok; ++i) {
      std::string_view seg = pat[i];
      if (seg.starts_with('{') && seg.ends_with("*}")) {  // the rest of the path
        std::string rest;
        for (size_t j = i; j < parts.size(); ++j)
          rest += (j > i ? "/" : "") + std::string(parts[j]);
        m.params[std::string(seg.substr(1, seg.size() - 3))] = rest;
        i = parts.size();
        break;
      }
      if (i >= parts.size()) {
        ok = false;
      } else if (seg.starts_with('{')) {
        m.params[std::string(seg.substr(1, seg.size() - 2))] = std::string(parts[i]);
      } else if (seg != parts[i]) {
        ok = false;
      }
    }
    if (!ok || (i < parts.size() && !(pat.size() && pat.back().ends_with("*}")))) continue;
    if (i != parts.size() && !pat.back().ends_with("*}")) continue;
    if (r.method != method) {
      if (allowed->find(r.method) == std::string::npos)
        *allowed += (allowed->empty() ? "" : ", ") + r.method;
      continue;
    }
    m.route = &r;
    return m;
  }
  return {};
}

bool Service::Allowed(const Route& route, const Principal& who) const {
  if (route.roles & kPublic) return true;
  if ((route.roles & kPublicIfOpen) && options_.public_log) return true;
  switch (who.role) {
    case fb::Role::admin:
      return route.roles & kAdmin;
    case fb::Role::maker:
      return route.roles & kMaker;
    case fb::Role::checker:
      return route.roles & kChecker;
    case fb::Role::auditor:
      return route.roles & kAuditor;
    case fb::Role::charity:
      return route.roles & kCharity;
    default:
      return false;
  }
}

HttpResponse Service::Handle(const HttpRequest& request) {
  auto started = std::chrono::steady_clock::now();
  std::string path = request.target.substr(0, request.target.find('?'));
  std::string allowed;
  Match m = Find(request.method, path, &allowed);
  HttpResponse response;
  std::string route_name = m.route ? m.route->pattern : "unmatched";
  Principal who;
  if (m.route == nullptr) {
    if (allowed.empty()) {
      response = ErrorResponse(NotFound("no endpoint " + path + " (see /v1/openapi.json)"));
    } else {
      response = ErrorResponse(
          Status(StatusCode::kInvalidArgument,
                 request.method + " is not allowed on " + path + " (it takes " + allowed + ")"));
      response.status = 405;
      response.allow = allowed;
    }
  } else {
    bool needs_token =
        !((m.route->roles & kPublic) || ((m.route->roles & kPublicIfOpen) && options_.public_log));
    Result<Principal> auth = request.authorization.empty() && !needs_token
                                 ? Result<Principal>(Principal{"", "public", fb::Role::reader, ""})
                                 : tokens_.Authenticate(request.authorization);
    if (!auth.ok()) {
      response = ErrorResponse(auth.status());
    } else {
      who = *auth;
      if (!Allowed(*m.route, who)) {
        response = ErrorResponse(Status(StatusCode::kPermissionDenied,
                                        "role '" + std::string(RoleName(who.role)) + "' may not " +
                                            request.method + " " + m.route->pattern));
      } else {
        // Query parameters join the path parameters.
        if (auto q = request.target.find('?'); q != std::string::npos) {
          auto parsed = boost::urls::parse_query(std::string_view(request.target).substr(q + 1));
          if (parsed) {
            for (auto p : *parsed) m.params.emplace(std::string(p.key), std::string(p.value));
          }
        }
        if (request.method == "POST" && request.idempotency_key.empty()) {
          response = ErrorResponse(
              InvalidArgument(
                  "every POST needs an Idempotency-Key header, so a retry never pays twice")
                  .WithField("Idempotency-Key"));
        } else {
          Context c{request, who, std::move(m.params)};
          try {
            response = m.route->handler(*this, c);
          } catch (const std::exception& e) {  // a library threw: a bug, reported as one
            response = ErrorResponse(Internal(std::string("unexpected error: ") + e.what()));
          }
        }
      }
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.RecordRequest(route_name, response.status, seconds);
  if (options_.log) {
    json::object line;
    line["ts_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    line["request_id"] = "r" + std::to_string(request_ids_.fetch_add(1) + 1);
    line["method"] = request.method;
    line["path"] = path;
    line["route"] = route_name;
    line["actor"] = who.actor;
    line["status"] = response.status;
    line["duration_ms"] = seconds * 1000;
    options_.log(json::serialize(line));
  }
  return response;
}

HttpResponse Service::Submit(Context& c, std::vector<DomainEvent> events,
                             std::vector<VaultWrite> vault) {
  for (const DomainEvent& e : events) {
    Status scope = CheckCharityScope(c.who, e);
    if (!scope.ok()) return ErrorResponse(scope);
  }
  Result<AppendResult> r = ledger_.Submit(Actor{c.who.actor, c.who.role}, c.request.idempotency_key,
                                          std::move(events), std::move(vault));
  if (!r.ok()) return ErrorResponse(r.status());
  json::object o;
  o["first_index"] = r->first_index;
  o["count"] = r->count;
  o["replayed"] = r->replayed;
  o["log_size"] = ledger_.log().size();
  return JsonResponse(r->replayed ? 200 : 201, json::serialize(o));
}

Status Service::CheckFundScope(const Principal& who, const std::string& fund) const {
  if (who.role != fb::Role::charity) return Status::Ok();
  std::string org = ledger_.domain().Read([&](const DomainState& s) {
    auto it = s.funds.find(fund);
    return it == s.funds.end() ? std::string() : it->second.organisation;
  });
  if (org != who.org) {
    return Status(StatusCode::kPermissionDenied,
                  "fund '" + fund + "' does not belong to organisation '" + who.org + "'");
  }
  return Status::Ok();
}

Status Service::CheckCharityScope(const Principal& who, const DomainEvent& event) const {
  for (const std::string& fund : FundsOf(event)) FL_RETURN_IF_ERROR(CheckFundScope(who, fund));
  return Status::Ok();
}

HttpResponse Service::Command(Context& c, fb::EventType type) {
  std::string body = c.request.body;
  if (!c.params.empty()) {
    // Path parameters name fields of the event ("/v1/funds/{fund_id}/close").
    boost::system::error_code ec;
    json::value v = json::parse(body.empty() ? "{}" : body, ec);
    if (ec || !v.is_object())
      return ErrorResponse(InvalidArgument("the request body must be a JSON object"));
    for (const auto& [name, value] : c.params) {
      if (name.find('_') != std::string::npos) v.as_object()[name] = value;
    }
    body = json::serialize(v);
  }
  Result<DomainEvent> event = EventFromJson(type, body);
  if (!event.ok()) return ErrorResponse(event.status());
  return Submit(c, {std::move(event).value()});
}

HttpResponse Service::RegisterBeneficiary(Context& c) {
  boost::system::error_code ec;
  json::value v = json::parse(c.request.body, ec);
  if (ec || !v.is_object())
    return ErrorResponse(InvalidArgument("the request body must be a JSON object"));
  json::object& o = v.as_object();
  PersonalData person;
  if (json::value* p = o.if_contains("person"); p != nullptr) {
    if (!p->is_object())
      return ErrorResponse(InvalidArgument("person must be an object").WithField("person"));
    auto str = [&](const char* k) {
      const json::value* f = p->as_object().if_contains(k);
      return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
    };
    person = PersonalData{str("name"), str("id_number"), str("bank_account"), str("phone")};
    o.erase("person");
  } else {
    return ErrorResponse(
        InvalidArgument("person {name, id_number, bank_account, phone} is required")
            .WithField("person"));
  }
  // Commitments are computed here, never sent: placeholders satisfy the field checks.
  o["id_commitment"] = json::array(32, 0);
  Result<DomainEvent> event =
      EventFromJson(fb::EventType::BeneficiaryRegistered, json::serialize(o));
  if (!event.ok()) return ErrorResponse(event.status());
  Result<AppendResult> r =
      ledger_.RegisterBeneficiary(Actor{c.who.actor, c.who.role}, c.request.idempotency_key,
                                  std::get<fb::BeneficiaryRegisteredT>(*event), person);
  if (!r.ok()) return ErrorResponse(r.status());
  json::object out;
  out["first_index"] = r->first_index;
  out["count"] = r->count;
  out["replayed"] = r->replayed;
  out["log_size"] = ledger_.log().size();
  return JsonResponse(r->replayed ? 200 : 201, json::serialize(out));
}

HttpResponse Service::PrepareRoll(Context& c) {
  std::string batch_id = Param(c.params, "batch_id"), fund = Param(c.params, "fund_id");
  std::string bucket = Param(c.params, "bucket", std::string(kGeneralBucket));
  if (!IsValidId(batch_id))
    return ErrorResponse(
        InvalidArgument("query parameter batch_id is required").WithField("batch_id"));
  if (!IsValidId(fund))
    return ErrorResponse(
        InvalidArgument("query parameter fund_id is required").WithField("fund_id"));
  Result<int32_t> period = ParseMonth(Param(c.params, "period"));
  if (!period.ok()) return ErrorResponse(Status(period.status()).WithField("period"));
  Status scope = CheckFundScope(c.who, fund);
  if (!scope.ok()) return ErrorResponse(scope);
  Result<ParsedRoll> roll =
      ParseRoll(c.request.body, DetectRollFormat(c.request.content_type, c.request.body), *period);
  if (!roll.ok()) return ErrorResponse(roll.status());
  if (!roll->errors.empty()) {
    Status first = roll->errors.front();
    return ErrorResponse(InvalidArgument(std::to_string(roll->errors.size()) + " of " +
                                         std::to_string(roll->errors.size() + roll->lines.size()) +
                                         " lines are malformed; nothing was posted. First: line " +
                                         std::to_string(first.line()) + ": " + first.message())
                             .WithLine(first.line())
                             .WithDetails(roll->errors));
  }
  Result<AppendResult> r =
      ledger_.PrepareBatch(Actor{c.who.actor, c.who.role}, c.request.idempotency_key, batch_id,
                           fund, bucket, *period, Param(c.params, "document"), roll->lines);
  if (!r.ok()) return ErrorResponse(r.status());
  int64_t total = 0;
  for (const RollLine& l : roll->lines) total += l.amount_fen;
  json::object o;
  o["batch_id"] = batch_id;
  o["lines"] = roll->lines.size();
  o["total_fen"] = total;
  o["total"] = FormatFen(total);
  o["first_index"] = r->first_index;
  o["count"] = r->count;
  o["replayed"] = r->replayed;
  json::array ignored;
  for (const std::string& col : roll->ignored_columns) ignored.emplace_back(col);
  o["ignored_columns"] = std::move(ignored);
  return JsonResponse(r->replayed ? 200 : 201, json::serialize(o));
}

HttpResponse Service::Decide(Context& c, bool approve) {
  boost::system::error_code ec;
  json::value v = json::parse(c.request.body.empty() ? "{}" : c.request.body, ec);
  if (ec || !v.is_object())
    return ErrorResponse(InvalidArgument("the request body must be a JSON object"));
  auto str = [&](const char* k) {
    const json::value* f = v.as_object().if_contains(k);
    return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
  };
  std::string batch = c.params["batch_id"];
  std::string fund = ledger_.domain().Read([&](const DomainState& s) {
    auto it = s.batches.find(batch);
    return it == s.batches.end() ? std::string() : it->second.fund;
  });
  if (!fund.empty()) {
    Status scope = CheckFundScope(c.who, fund);
    if (!scope.ok()) return ErrorResponse(scope);
  }
  if (approve) {
    fb::DisbursementBatchApprovedT e;
    e.batch_id = batch;
    e.document = str("document");
    Status fields = CheckEventFields(e);
    if (!fields.ok()) return ErrorResponse(fields);
    return Submit(c, {e});
  }
  fb::DisbursementBatchRejectedT e;
  e.batch_id = batch;
  e.reason = str("reason");
  Status fields = CheckEventFields(e);
  if (!fields.ok()) return ErrorResponse(fields);
  return Submit(c, {e});
}

HttpResponse Service::ListFunds(Context& c) {
  json::array funds = ledger_.domain().Read([&](const DomainState& s) {
    json::array out;
    for (const auto& [id, f] : s.funds) {
      if (c.who.role == fb::Role::charity && f.organisation != c.who.org) continue;
      json::object o;
      o["fund_id"] = id;
      o["name"] = f.name;
      o["kind"] = fb::EnumNameFundKind(f.kind);
      o["organisation"] = f.organisation;
      o["closed"] = f.closed;
      out.push_back(std::move(o));
    }
    return out;
  });
  json::object o;
  o["funds"] = std::move(funds);
  return JsonResponse(200, json::serialize(o));
}

HttpResponse Service::GetFund(Context& c) {
  std::string id = c.params["fund_id"];
  Status scope = CheckFundScope(c.who, id);
  if (!scope.ok()) return ErrorResponse(scope);
  std::optional<json::object> fund =
      ledger_.domain().Read([&](const DomainState& s) -> std::optional<json::object> {
        auto it = s.funds.find(id);
        if (it == s.funds.end()) return std::nullopt;
        const FundState& f = it->second;
        json::object o;
        o["fund_id"] = id;
        o["name"] = f.name;
        o["kind"] = fb::EnumNameFundKind(f.kind);
        o["organisation"] = f.organisation;
        o["closed"] = f.closed;
        json::array programs, purposes;
        for (const auto& p : f.programs) programs.emplace_back(p);
        for (const auto& p : f.purposes) purposes.emplace_back(p);
        o["programs"] = std::move(programs);
        o["purposes"] = std::move(purposes);
        json::object buckets;
        for (const auto& [account, b] : projections_.BalancesWithPrefix(s, FundAccount(id, ""))) {
          buckets[account.substr(FundAccount(id, "").size())] = BalanceJson(b);
        }
        o["buckets"] = std::move(buckets);
        return o;
      });
  if (!fund) return ErrorResponse(NotFound("fund '" + id + "' does not exist"));
  return JsonResponse(200, json::serialize(*fund));
}

HttpResponse Service::Balances(Context& c) {
  std::string fund = Param(c.params, "fund_id");
  if (fund.empty())
    return ErrorResponse(
        InvalidArgument("query parameter fund_id is required").WithField("fund_id"));
  Status scope = CheckFundScope(c.who, fund);
  if (!scope.ok()) return ErrorResponse(scope);
  std::string prefix = FundAccount(fund, "");
  std::optional<std::map<std::string, Balance>> current = ledger_.domain().Read(
      [&](const DomainState& s) -> std::optional<std::map<std::string, Balance>> {
        if (!s.funds.count(fund)) return std::nullopt;
        return projections_.BalancesWithPrefix(s, prefix);
      });
  if (!current) return ErrorResponse(NotFound("fund '" + fund + "' does not exist"));
  std::map<std::string, Balance> balances = std::move(*current);
  json::object o;
  o["fund_id"] = fund;
  std::string as_of = Param(c.params, "as_of");
  uint64_t index = ledger_.log().size() - 1;
  if (!as_of.empty()) {
    Result<uint64_t> at = InvalidArgument("");
    if (std::all_of(as_of.begin(), as_of.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      at = std::stoull(as_of);
    } else {
      std::tm tm{};
      const char* end = strptime(as_of.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
      if (end == nullptr || (*end != '\0' && std::string_view(end) != "Z")) {
        return ErrorResponse(
            InvalidArgument("as_of takes an entry index or a UTC time like 2025-03-31T23:59:59Z")
                .WithField("as_of"));
      }
      at = ledger_.log().IndexAtTime(static_cast<int64_t>(timegm(&tm)) * 1000 + 999);
    }
    if (!at.ok()) return ErrorResponse(at.status());
    if (*at >= ledger_.log().size())
      return ErrorResponse(NotFound("entry " + std::to_string(*at) + " does not exist yet"));
    index = *at;
    for (auto& [account, b] : balances) {
      Result<Balance> past = Projections::BalanceAsOf(ledger_.log(), account, index);
      if (!past.ok()) return ErrorResponse(past.status());
      b = *past;
    }
  }
  o["as_of_index"] = index;
  json::object buckets;
  for (const auto& [account, b] : balances) buckets[account.substr(prefix.size())] = BalanceJson(b);
  o["buckets"] = std::move(buckets);
  return JsonResponse(200, json::serialize(o));
}

HttpResponse Service::GetBeneficiary(Context& c) {
  std::string id = c.params["beneficiary_id"];
  std::optional<json::object> ben =
      ledger_.domain().Read([&](const DomainState& s) -> std::optional<json::object> {
        auto it = s.beneficiaries.find(id);
        if (it == s.beneficiaries.end()) return std::nullopt;
        const BeneficiaryState& b = it->second;
        json::object o;
        o["beneficiary_id"] = id;
        o["household_id"] = b.household;
        o["region_code"] = b.region;
        o["birth_year"] = b.birth_month / 100;
        o["payee_role"] = fb::EnumNamePayeeRole(b.payee_role);
        o["erased"] = b.erased;
        json::array statuses;
        for (const StatusChange& sc : b.statuses) {
          json::object st;
          st["status"] = fb::EnumNameBeneficiaryStatus(sc.status);
          st["effective_date"] = FormatDate(sc.effective_date);
          statuses.push_back(std::move(st));
        }
        o["status_changes"] = std::move(statuses);
        json::array enrollments;
        auto progs = s.programs_of.find(id);
        if (progs != s.programs_of.end()) {
          for (const std::string& p : progs->second) {
            for (const EnrollmentTerm& t : s.enrollments.at(EnrollmentKey(id, p))) {
              json::object e;
              e["program_id"] = p;
              e["from"] = FormatMonth(t.from_month);
              e["to"] = t.to_month == 0 ? std::string() : FormatMonth(t.to_month);
              e["monthly_amount_fen"] = t.monthly_amount_fen;
              enrollments.push_back(std::move(e));
            }
          }
        }
        o["enrollments"] = std::move(enrollments);
        json::object paid;
        for (const auto& [key, p] : projections_.PaidTo(s, id)) {
          json::object t;
          t["amount_fen"] = p.amount_fen;
          t["lines"] = p.lines;
          paid[key] = std::move(t);
        }
        o["paid"] = std::move(paid);
        o["received_fen"] = projections_.BalanceOf(s, BeneficiaryAccount(id)).posted_fen;
        return o;
      });
  if (!ben) return ErrorResponse(NotFound("beneficiary '" + id + "' is not registered"));
  return JsonResponse(200, json::serialize(*ben));
}

HttpResponse Service::GetBatch(Context& c) {
  std::string id = c.params["batch_id"];
  bool with_lines = Param(c.params, "lines") == "1" || Param(c.params, "lines") == "true";
  std::optional<json::object> batch =
      ledger_.domain().Read([&](const DomainState& s) -> std::optional<json::object> {
        auto it = s.batches.find(id);
        if (it == s.batches.end()) return std::nullopt;
        const BatchState& b = it->second;
        json::object o;
        o["batch_id"] = id;
        o["status"] = BatchStatusName(b.status);
        o["maker"] = b.maker;
        o["fund_id"] = b.fund;
        o["bucket"] = b.bucket;
        o["period"] = FormatMonth(b.period);
        o["total_fen"] = b.total_fen;
        o["total"] = FormatFen(b.total_fen);
        o["prepared_index"] = b.prepared_index;
        if (b.status != BatchStatus::kPrepared) o["decided_index"] = b.decided_index;
        std::map<std::string, uint64_t> by_state;
        for (const BatchLine& l : b.lines) by_state[std::string(LineStateName(l.state))]++;
        json::object states;
        for (const auto& [k, n] : by_state) states[k] = n;
        o["lines_by_state"] = std::move(states);
        o["line_count"] = b.lines.size();
        if (with_lines) {
          json::array lines;
          for (size_t i = 0; i < b.lines.size() && i < kBatchLinesShownMax; ++i) {
            const BatchLine& l = b.lines[i];
            json::object lo;
            lo["line_no"] = l.line_no;
            lo["beneficiary_id"] = s.names[l.beneficiary];
            lo["program_id"] = s.names[l.program];
            lo["period"] = FormatMonth(l.period);
            lo["amount_fen"] = l.amount_fen;
            lo["state"] = LineStateName(l.state);
            lines.push_back(std::move(lo));
          }
          o["lines"] = std::move(lines);
          o["lines_truncated"] = b.lines.size() > kBatchLinesShownMax;
        }
        return o;
      });
  if (!batch) return ErrorResponse(NotFound("batch '" + id + "' does not exist"));
  return JsonResponse(200, json::serialize(*batch));
}

HttpResponse Service::GetEntry(Context& c) {
  Result<uint64_t> index = U64Param(c.params, "index");
  if (!index.ok()) return ErrorResponse(index.status());
  Result<Bytes> bytes = ledger_.log().ReadEntry(*index);
  if (!bytes.ok()) return ErrorResponse(bytes.status());
  Result<json::object> view = EntryToJson(*index, *bytes);
  if (!view.ok()) return ErrorResponse(view.status());
  Result<EntryView> e = DecodeEntry(*bytes);
  if (e.ok()) {
    Result<std::string> payload = PayloadToJson(e->event_type, e->payload);
    if (payload.ok()) {
      boost::system::error_code ec;
      json::value p = json::parse(*payload, ec);
      if (!ec) (*view)["payload"] = std::move(p);
    }
  }
  return JsonResponse(200, json::serialize(*view));
}

HttpResponse Service::Checkpoint(Context&) {
  Result<std::string> note = ledger_.log().LatestCheckpoint();
  if (!note.ok()) return ErrorResponse(note.status());
  HttpResponse r = Text(200, *note);
  r.cache_control = "no-cache";
  return r;
}

HttpResponse Service::Key(Context&) { return Text(200, ledger_.log().vkey() + "\n"); }

HttpResponse Service::ProveInclusion(Context& c) {
  Result<uint64_t> index = U64Param(c.params, "index");
  Result<uint64_t> size = U64Param(c.params, "size");
  if (!index.ok()) return ErrorResponse(index.status());
  if (!size.ok()) return ErrorResponse(size.status());
  Result<std::vector<Hash>> proof = ledger_.log().ProveInclusion(*index, *size);
  if (!proof.ok()) return ErrorResponse(proof.status());
  Result<Hash> leaf = ledger_.log().ReadNode(0, *index);
  Result<Hash> root = TreeRoot(ledger_.log(), *size);
  if (!leaf.ok()) return ErrorResponse(leaf.status());
  if (!root.ok()) return ErrorResponse(root.status());
  return JsonResponse(200,
                      json::serialize(InclusionProofJson(*index, *size, *leaf, *proof, *root)));
}

HttpResponse Service::ProveConsistency(Context& c) {
  Result<uint64_t> old_size = U64Param(c.params, "old");
  Result<uint64_t> size = U64Param(c.params, "size");
  if (!old_size.ok()) return ErrorResponse(old_size.status());
  if (!size.ok()) return ErrorResponse(size.status());
  Result<std::vector<Hash>> proof = ledger_.log().ProveConsistency(*old_size, *size);
  if (!proof.ok()) return ErrorResponse(proof.status());
  Result<Hash> old_root = TreeRoot(ledger_.log(), *old_size);
  Result<Hash> root = TreeRoot(ledger_.log(), *size);
  if (!old_root.ok()) return ErrorResponse(old_root.status());
  if (!root.ok()) return ErrorResponse(root.status());
  return JsonResponse(
      200, json::serialize(ConsistencyProofJson(*old_size, *size, *proof, *old_root, *root)));
}

HttpResponse Service::Tile(Context& c) {
  // tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]
  std::string path = c.params["path"];
  size_t slash = path.find('/');
  if (slash == std::string::npos) return ErrorResponse(NotFound("no tile " + path));
  Result<TileRef> ref = ParseTilePath(std::string_view(path).substr(0, slash),
                                      std::string_view(path).substr(slash + 1));
  if (!ref.ok())
    return ErrorResponse(InvalidArgument("tile path " + path + ": " + ref.status().message()));
  const uint64_t width = ref->width == 0 ? kTileWidth : ref->width;
  const uint64_t size = ledger_.log().size();
  const uint64_t first = ref->index * kTileWidth;
  HttpResponse r;
  r.content_type = "application/octet-stream";
  r.cache_control = width == kTileWidth ? "public, max-age=31536000, immutable" : "no-cache";
  if (ref->level < 0) {
    if (first + width > size)
      return ErrorResponse(NotFound("entry bundle " + path + " is beyond the log"));
    std::vector<Bytes> entries;
    Status s = ledger_.log().ScanEntries(first, first + width, [&](uint64_t, ByteView bytes) {
      entries.emplace_back(bytes.begin(), bytes.end());
      return Status::Ok();
    });
    if (!s.ok()) return ErrorResponse(s);
    r.body = EncodeEntryBundle(std::vector<ByteView>(entries.begin(), entries.end()));
    return r;
  }
  uint64_t shift = static_cast<uint64_t>(ref->level) * kTileHeight;
  uint64_t nodes_at_level = shift >= 64 ? 0 : size >> shift;
  if (first + width > nodes_at_level)
    return ErrorResponse(NotFound("tile " + path + " is beyond the tree"));
  r.body.reserve(width * kHashBytes);
  std::unique_ptr<NodeCursor> nodes = ledger_.log().OpenNodeCursor(
      static_cast<uint8_t>(shift), first);  // the tile's nodes in order
  for (uint64_t i = 0; i < width; ++i) {
    Result<Hash> h = nodes->Next();
    if (!h.ok()) return ErrorResponse(h.status());
    r.body.append(reinterpret_cast<const char*>(h->data()), h->size());
  }
  return r;
}

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
  return Text(200, metrics_.Render(extra), "text/plain; version=0.0.4");
}

HttpResponse Service::Health(Context&) {
  json::object o;
  o["status"] = "ok";
  o["log_size"] = ledger_.log().size();
  o["origin"] = ledger_.log().origin();
  return JsonResponse(200, json::serialize(o));
}

HttpResponse Service::OpenApi(Context&) { return JsonResponse(200, OpenApiJson()); }

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
  return Text(200, DisclosureListHtml(Published(), ledger_.log().origin(), lang),
              "text/html; charset=utf-8");
}

HttpResponse Service::PublicDisclosure(Context& c) {
  Result<std::pair<uint64_t, std::string>> found = ReportAtPath(c);
  if (!found.ok()) return ErrorResponse(found.status());
  Result<DisclosureReport> report = DisclosureFromJson(found->second);
  if (!report.ok()) return ErrorResponse(report.status());
  std::string lang = Param(c.params, "lang") == "en" ? "en" : "zh";
  return Text(200, DisclosureHtml(*report, lang, found->first), "text/html; charset=utf-8");
}

HttpResponse Service::VerifyScript(Context&) {
  return Text(200, DisclosureVerifyScript(), "text/javascript; charset=utf-8");
}

std::string Service::OpenApiJson() const {
  json::object paths;
  for (const Route& r : routes_) {
    std::string path = r.pattern;
    if (auto star = path.find("*}"); star != std::string::npos) path.erase(star, 1);
    json::object op;
    op["summary"] = r.summary;
    op["operationId"] = r.method + " " + r.pattern;
    json::array roles;
    for (auto [bit, name] : std::initializer_list<std::pair<uint32_t, const char*>>{
             {kAdmin, "admin"},
             {kMaker, "maker"},
             {kChecker, "checker"},
             {kAuditor, "auditor"},
             {kCharity, "charity"},
             {kPublic, "public"},
             {kPublicIfOpen, "public-if-open"}}) {
      if (r.roles & bit) roles.emplace_back(name);
    }
    op["x-roles"] = std::move(roles);
    json::array params;
    for (size_t p = path.find('{'); p != std::string::npos; p = path.find('{', p + 1)) {
      json::object param;
      param["name"] = path.substr(p + 1, path.find('}', p) - p - 1);
      param["in"] = "path";
      param["required"] = true;
      param["schema"] = json::object{{"type", "string"}};
      params.push_back(std::move(param));
    }
    for (const std::string& q : r.query) {
      params.push_back(
          json::object{{"name", q}, {"in", "query"}, {"schema", json::object{{"type", "string"}}}});
    }
    if (r.method == "POST") {
      params.push_back(json::object{{"name", "Idempotency-Key"},
                                    {"in", "header"},
                                    {"required", true},
                                    {"schema", json::object{{"type", "string"}}}});
      std::string media =
          r.event == fb::EventType::DisbursementBatchPrepared ? "text/csv" : "application/json";
      json::object content;
      content[media] =
          json::object{{"schema", json::object{{"type", media == "text/csv" ? "string" : "object"},
                                               {"description", std::string("fields of the ") +
                                                                   fb::EnumNameEventType(r.event) +
                                                                   " table in ledger/entry.fbs"}}}};
      op["requestBody"] =
          json::object{{"required", r.event != fb::EventType::DisbursementBatchApproved &&
                                        r.event != fb::EventType::DisbursementBatchRejected},
                       {"content", std::move(content)}};
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    json::object responses;
    responses[r.method == "POST" ? "201" : "200"] = json::object{{"description", "success"}};
    for (const char* code : {"400", "401", "403", "404", "409", "413", "422", "503"}) {
      responses[code] = json::object{{"$ref", "#/components/responses/Error"}};
    }
    op["responses"] = std::move(responses);
    if (!(r.roles & kPublic)) op["security"] = json::array{json::object{{"bearer", json::array{}}}};
    std::string method = r.method == "POST" ? "post" : "get";
    json::value& ops = paths[path];
    if (!ops.is_object()) ops.emplace_object();
    ops.as_object()[method] = std::move(op);
  }
  json::object doc;
  doc["openapi"] = "3.0.3";
  doc["info"] =
      json::object{{"title", "fundledger"},
                   {"version", "1"},
                   {"description",
                    "A tamper-evident ledger for public money. Amounts are integer fen; "
                    "months are yyyymm integers in event bodies and YYYY-MM in query parameters."}};
  doc["paths"] = std::move(paths);
  json::object error_schema{
      {"type", "object"},
      {"properties",
       json::object{
           {"error",
            json::object{{"type", "object"},
                         {"properties", json::object{{"code", json::object{{"type", "string"}}},
                                                     {"message", json::object{{"type", "string"}}},
                                                     {"field", json::object{{"type", "string"}}},
                                                     {"line", json::object{{"type", "integer"}}},
                                                     {"details", json::object{{"type", "array"}}}}},
                         {"required", json::array{"code", "message"}}}}}}};
  doc["components"] = json::object{
      {"securitySchemes",
       json::object{{"bearer", json::object{{"type", "http"}, {"scheme", "bearer"}}}}},
      {"responses",
       json::object{
           {"Error",
            json::object{{"description", "an error"},
                         {"content", json::object{{"application/json",
                                                   json::object{{"schema", error_schema}}}}}}}}}};
  return json::serialize(doc);
}

}  // namespace fundledger
