#include "api/service.h"

#include <boost/json.hpp>
#include <boost/url.hpp>
#include <chrono>

namespace fundledger {
namespace json = boost::json;
namespace {

// "/v1/funds/F1" -> {"v1", "funds", "F1"}
std::vector<std::string_view> PathSegments(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    if (path.front() == '/') path.remove_prefix(1);
    size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash);
  }
  return parts;
}

// Matches `path` against a route pattern ("/v1/funds/{fund_id}", "/tlog/tile/{path*}"),
// filling `params` with the path parameters.
bool MatchPattern(const std::vector<std::string_view>& parts, std::string_view pattern,
                  RequestParams* params) {
  std::vector<std::string_view> pat = PathSegments(pattern);
  for (size_t i = 0; i < pat.size(); ++i) {
    std::string_view seg = pat[i];
    if (seg.starts_with('{') && seg.ends_with("*}")) {  // the rest of the path
      std::string rest;
      for (size_t j = i; j < parts.size(); ++j) rest += (j > i ? "/" : "") + std::string(parts[j]);
      (*params)[std::string(seg.substr(1, seg.size() - 3))] = rest;
      return true;
    }
    if (i >= parts.size()) return false;
    if (seg.starts_with('{')) {
      (*params)[std::string(seg.substr(1, seg.size() - 2))] = std::string(parts[i]);
    } else if (seg != parts[i]) {
      return false;
    }
  }
  return pat.size() == parts.size();
}

}  // namespace

Service::Service(Ledger& ledger, Projections& projections, TokenStore& tokens,
                 class Metrics& metrics, ServiceOptions options)
    : ledger_(ledger),
      projections_(projections),
      tokens_(tokens),
      metrics_(metrics),
      options_(std::move(options)) {
  AddRoutes();
}

// The one route table: dispatch, role checks and the OpenAPI document all read it.
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
  std::vector<std::string_view> parts = PathSegments(path);
  allowed->clear();
  for (const Route& r : routes_) {
    Match m;
    if (!MatchPattern(parts, r.pattern, &m.params)) continue;
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
uint64_t Service::log_size() const { return ledger_.log().size(); }

HttpResponse Service::ReadJson(
    const std::function<Result<json::object>(const DomainState&)>& read) const {
  uint64_t log_size = 0;
  Result<json::object> answer = ledger_.domain().Read([&](const DomainState& at) {
    log_size = at.next_index;
    return read(at);
  });
  HttpResponse response =
      answer.ok() ? JsonResponse(200, json::serialize(*answer)) : ErrorResponse(answer.status());
  response.log_size = log_size;
  return response;
}

HttpResponse Service::Dispatch(const HttpRequest& request, const std::string& path,
                               const std::string& allowed, Match& m, Principal* who) {
  if (m.route == nullptr) {
    if (allowed.empty())
      return ErrorResponse(NotFound("no endpoint " + path + " (see /v1/openapi.json)"));
    HttpResponse r = ErrorResponse(
        Status(StatusCode::kInvalidArgument,
               request.method + " is not allowed on " + path + " (it takes " + allowed + ")"));
    r.status = 405;
    r.allow = allowed;
    return r;
  }
  bool needs_token =
      !((m.route->roles & kPublic) || ((m.route->roles & kPublicIfOpen) && options_.public_log));
  Result<Principal> auth = request.authorization.empty() && !needs_token
                               ? Result<Principal>(Principal{"", "public", fb::Role::reader, ""})
                               : tokens_.Authenticate(request.authorization);
  if (!auth.ok()) return ErrorResponse(auth.status());
  *who = *auth;
  if (!Allowed(*m.route, *who)) {
    return ErrorResponse(Status(StatusCode::kPermissionDenied,
                                "role '" + std::string(RoleName(who->role)) + "' may not " +
                                    request.method + " " + m.route->pattern));
  }
  // Query parameters join the path parameters.
  if (auto q = request.target.find('?'); q != std::string::npos) {
    auto parsed = boost::urls::parse_query(std::string_view(request.target).substr(q + 1));
    if (parsed) {
      for (auto p : *parsed) m.params.emplace(p.key.decode(), p.value.decode());
    }
  }
  if (request.method == "POST" && request.idempotency_key.empty()) {
    return ErrorResponse(
        InvalidArgument("every POST needs an Idempotency-Key header, so a retry never pays twice")
            .WithField("Idempotency-Key"));
  }
  Context c{request, *who, std::move(m.params)};
  try {
    return m.route->handler(*this, c);
  } catch (const std::exception& e) {  // a library threw: a bug, reported as one
    return ErrorResponse(Internal(std::string("unexpected error: ") + e.what()));
  }
}

HttpResponse Service::Handle(const HttpRequest& request) {
  auto started = std::chrono::steady_clock::now();
  std::string path = request.target.substr(0, request.target.find('?'));
  std::string allowed;
  Match m = Find(request.method, path, &allowed);
  std::string route_name = m.route ? m.route->pattern : "unmatched";
  Principal who;
  HttpResponse response = Dispatch(request, path, allowed, m, &who);
  if (!response.log_size) response.log_size = log_size();
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

}  // namespace fundledger
