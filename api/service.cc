#include "api/service.h"

#include <boost/json.hpp>
#include <boost/url.hpp>
#include <chrono>

#include "projections/fund_balances.h"

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

// A path segment percent-decoded ("F%2DSUBSIDY" -> "F-SUBSIDY"); one that is not valid
// percent-encoding is kept as sent, and so names nothing.
std::string PercentDecoded(std::string_view segment) {
  auto pct = boost::urls::make_pct_string_view(segment);
  return pct ? pct->decode() : std::string(segment);
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
      (*params)[std::string(seg.substr(1, seg.size() - 2))] = PercentDecoded(parts[i]);
    } else if (seg != parts[i]) {
      return false;
    }
  }
  return pat.size() == parts.size();
}

constexpr uint32_t kStaff = kAdmin | kMaker;
constexpr uint32_t kIntegrity = kAdmin | kAuditor | kPublicIfOpen;

}  // namespace

Service::Service(Ledger& ledger, Projections& projections, TokenStore& tokens,
                 class Metrics& metrics, ServiceOptions options)
    : ledger_(ledger),
      projections_(projections),
      tokens_(tokens),
      metrics_(metrics),
      options_(std::move(options)) {
  if (!options_.data_dir.empty()) accounts_ = std::make_unique<StaffAccounts>(options_.data_dir);
  if (!options_.data_dir.empty())
    access_log_ = std::make_unique<AccessLog>(options_.data_dir + "/access.log");
  AddRoutes();
}

// The one route table, in four parts: dispatch, role checks and the OpenAPI document all
// read it.
void Service::AddRoutes() {
  AddCommandRoutes();
  AddQueryRoutes();
  AddIntegrityRoutes();
  AddPublicRoutes();
  AddAccountRoutes();
  AddListingRoutes();
  AddCheckerRoutes();
  AddLookupRoutes();
  AddConsoleRoutes();
  AddKeyRoutes();
  AddBankRoutes();
}

void Service::AddGet(std::string pattern, uint32_t roles, std::string summary,
                     std::vector<QueryParam> query, HttpResponse (Service::*handler)(Context&)) {
  routes_.push_back({"GET", std::move(pattern), roles, std::move(summary), fb::EventType::Unknown,
                     std::move(query),
                     [handler](Service& s, Context& c) { return (s.*handler)(c); }});
}

void Service::AddPost(std::string pattern, uint32_t roles, std::string summary, fb::EventType event,
                      std::vector<QueryParam> query, Handler handler) {
  routes_.push_back({"POST", std::move(pattern), roles, std::move(summary), event, std::move(query),
                     std::move(handler)});
}

void Service::AddCommandRoutes() {
  using E = fb::EventType;
  auto command = [&](std::string pattern, E type, uint32_t roles, std::string summary) {
    AddPost(std::move(pattern), roles, std::move(summary), type, {},
            [type](Service& s, Context& c) { return s.Command(c, type); });
  };
  command("/v1/funds", E::FundOpened, kAdmin, "Open a fund (FundOpened)");
  command("/v1/funds/{fund_id}/close", E::FundClosed, kAdmin, "Close an empty fund (FundClosed)");
  command("/v1/programs", E::ProgramDefined, kAdmin,
          "Define a program and its standard (ProgramDefined)");
  command("/v1/programs/{program_id}/standards", E::ProgramStandardChanged, kAdmin,
          "Change a program's standard from a month on");
  AddPost("/v1/beneficiaries", kStaff,
          "Register a beneficiary; \"person\" {name, id_number, bank_account, phone} goes to the "
          "vault only",
          E::BeneficiaryRegistered, {},
          [](Service& s, Context& c) { return s.RegisterBeneficiary(c); });
  command("/v1/beneficiaries/{beneficiary_id}/changes", E::BeneficiaryChanged, kStaff,
          "Record a status change (suspended, deceased, exited, active)");
  command("/v1/enrollments", E::Enrolled, kStaff, "Enroll a beneficiary in a program");
  command("/v1/enrollment-changes", E::EnrollmentChanged, kStaff,
          "Change an enrollment's terms from a month on");
  command("/v1/appropriations", E::Appropriated, kStaff, "Record money appropriated into a fund");
  command("/v1/donations", E::DonationReceived, kStaff | kCharity,
          "Record a donation (restricted or open)");
  command("/v1/lottery-grants", E::LotteryGrantAwarded, kStaff,
          "Award a welfare-lottery grant to a project");
  AddPost("/v1/disbursement-batches", kStaff,
          "Prepare a monthly roll from CSV or JSON lines (all lines or none; every bad line "
          "reported)",
          E::DisbursementBatchPrepared,
          {{"batch_id",
            "the roll's id (default: made from the file, fund and month, so the same "
            "file uploaded again is the same batch)"},
           {"fund_id", "the fund paying it", true},
           {"bucket", "the bucket paying it (default general)"},
           {"period", "the month paid: 2026-02, 2026/02, 2026年2月 or 202602", true},
           {"document", "the approval document's reference"}},
          [](Service& s, Context& c) { return s.PrepareRoll(c); });
  AddGet("/v1/roll-reports/{report_id}", kStaff | kChecker,
         "Every problem of a rejected roll as CSV (行号, 列, 代码, 问题), to fix and upload again; "
         "in the request's language (Accept-Language), else the upload's",
         {}, &Service::RollReport);
  AddPost("/v1/disbursement-batches/{batch_id}/approve", kAdmin | kChecker,
          "Approve a prepared roll (a different person from its maker); pays every line",
          E::DisbursementBatchApproved, {},
          [](Service& s, Context& c) { return s.Decide(c, true); });
  AddPost("/v1/disbursement-batches/{batch_id}/reject", kAdmin | kChecker,
          "Reject a prepared roll; releases its reservation", E::DisbursementBatchRejected, {},
          [](Service& s, Context& c) { return s.Decide(c, false); });
  command("/v1/returns", E::PaymentReturned, kStaff, "Record a bank return of one paid line");
  command("/v1/reissues", E::PaymentReissued, kStaff, "Reissue a returned line");
  command("/v1/recoveries", E::Recovered, kStaff, "Record money recovered from a beneficiary");
  command("/v1/reversals", E::Reversal, kAdmin | kChecker, "Reverse an earlier money entry (once)");
  command("/v1/expenses", E::Expensed, kStaff | kCharity, "Record spending from a fund bucket");
  command("/v1/transfers", E::TransferredBetweenFunds, kStaff | kCharity,
          "Move money between funds");
  command("/v1/restriction-releases", E::RestrictionReleased, kStaff | kCharity,
          "Release restricted money with consent");
}

void Service::AddQueryRoutes() {
  AddGet("/v1/funds", kReaders | kCharity, "List funds (a charity sees its own)", {},
         &Service::ListFunds);
  AddGet("/v1/funds/{fund_id}", kReaders | kCharity, "One fund with its balances per bucket", {},
         &Service::GetFund);
  AddGet("/v1/balances", kReaders | kCharity,
         "Balances of a fund's buckets and their total, now or as of an entry, a time or a date",
         {{"fund_id", "the fund", true}, {"as_of", std::string(kAsOfHelp)}}, &Service::Balances);
  AddGet("/v1/beneficiaries/{beneficiary_id}", kReaders,
         "A beneficiary's pseudonymous record and what was paid", {}, &Service::GetBeneficiary);
  AddGet("/v1/disbursement-batches/{batch_id}", kReaders, "A roll's status and lines",
         {{"lines", "1 or true: list the lines (the first 10,000)"}}, &Service::GetBatch);
}

void Service::AddIntegrityRoutes() {
  AddGet("/v1/entries/{index}", kReaders | kIntegrity, "One log entry: JSON view and raw bytes", {},
         &Service::GetEntry);
  AddGet("/v1/checkpoint", kPublic, "The latest signed checkpoint (C2SP signed note)", {},
         &Service::Checkpoint);
  AddGet("/v1/key", kPublic, "The log's verifier key (C2SP vkey)", {}, &Service::Key);
  AddGet("/v1/proofs/inclusion", kIntegrity,
         "Inclusion proof of entry `index` in the tree of `size`",
         {{"index", "the entry", true}, {"size", "the tree size", true}}, &Service::ProveInclusion);
  AddGet("/v1/proofs/consistency", kIntegrity, "Consistency proof from tree size `old` to `size`",
         {{"old", "the earlier tree size", true}, {"size", "the later tree size", true}},
         &Service::ProveConsistency);
  AddGet("/tlog/checkpoint", kIntegrity, "C2SP tlog-tiles checkpoint", {}, &Service::Checkpoint);
  AddGet("/tlog/tile/{path*}", kIntegrity, "C2SP tlog-tiles hash tiles and entry bundles", {},
         &Service::Tile);
}

void Service::AddPublicRoutes() {
  const std::vector<QueryParam> lang = {{"lang", "zh (default) or en"}};
  AddPost("/v1/disclosures", kAdmin | kCharity,
          "Compute a disclosure report from the log and publish it (a DisclosurePublished entry "
          "holds its hash)",
          fb::EventType::DisclosurePublished, {},
          [](Service& s, Context& c) { return s.PublishDisclosure(c); });
  AddGet("/v1/disclosures", kPublic, "Published disclosures", {}, &Service::ListDisclosures);
  AddGet("/v1/disclosures/{index}", kPublic, "A published report, exactly as hashed", {},
         &Service::GetDisclosure);
  AddGet("/v1/disclosures/{index}/evidence", kPublic,
         "What a browser needs to check a report, in pages: the (cosigned) checkpoint, the "
         "publication entry, the consistency proof from the report's checkpoint, the entries' "
         "leaf hashes and inclusion proofs",
         {{"start", "the first entry of the page (its position in the report's list); default 0"},
          {"count", "entries in the page, 1..1000 (default)"}},
         &Service::DisclosureEvidence);
  AddGet("/v1/open-data/360giving", kPublic, "Grants in the 360Giving format", {},
         &Service::OpenData360);
  AddGet("/v1/open-data/iati", kPublic, "An IATI 2.03 activity file (XML): one activity per fund",
         {}, &Service::OpenDataIati);
  AddGet("/", kPublic, "The public site: published disclosures", lang, &Service::PublicIndex);
  AddGet("/disclosures/{index}", kPublic,
         "A published report as a page, with in-browser verification", lang,
         &Service::PublicDisclosure);
  AddGet("/static/verify.js", kPublic, "The page's verification script (WebCrypto)", {},
         &Service::VerifyScript);
  AddGet("/metrics", kPublic, "Prometheus metrics", {}, &Service::Metrics);
  AddGet("/healthz", kPublic, "Liveness", {}, &Service::Health);
  AddGet("/v1/openapi.json", kPublic, "This document", {}, &Service::OpenApi);
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

Status Service::AddQuery(const std::string& target, const Route& route, RequestParams* params) {
  size_t q = target.find('?');
  if (q == std::string::npos) return Status::Ok();
  auto parsed = boost::urls::parse_query(std::string_view(target).substr(q + 1));
  if (!parsed) return InvalidArgument("the query string is not valid percent-encoding");
  RequestParams query;
  for (auto p : *parsed) {
    std::string name = p.key.decode();
    if (!query.emplace(name, p.has_value ? p.value.decode() : std::string()).second ||
        params->contains(name)) {
      return InvalidArgument("'" + name + "' is given twice; give each parameter once")
          .WithField(name);
    }
  }
  if (route.event != fb::EventType::Unknown && route.query.empty() && !query.empty()) {
    const std::string& name = query.begin()->first;
    return InvalidArgument(route.method + " " + route.pattern + " takes no query parameters; '" +
                           name + "' goes in the JSON body")
        .WithField(name);
  }
  params->merge(query);
  return Status::Ok();
}

HttpResponse Service::Dispatch(const HttpRequest& request, const std::string& path,
                               const std::string& allowed, Match& m, Principal* who) {
  if (options_.damage && path != "/healthz" && path != "/metrics") {
    if (std::optional<std::string> damaged = options_.damage()) {
      return ErrorResponse(Corruption(*damaged +
                                      "; nothing is served from it until it is repaired (see "
                                      "`fundledger verify`)"));
    }
  }
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
  Result<Principal> auth = Authenticate(request, needs_token, request.method == "POST");
  if (!auth.ok()) return ErrorResponse(auth.status());
  *who = *auth;
  if (!Allowed(*m.route, *who)) {
    return ErrorResponse(Status(StatusCode::kPermissionDenied,
                                "role '" + std::string(RoleName(who->role)) + "' may not " +
                                    request.method + " " + m.route->pattern));
  }
  if (Status query = AddQuery(request.target, *m.route, &m.params); !query.ok())
    return ErrorResponse(query);
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

bool Service::Authorized(const HttpRequest& head) {
  std::string allowed;
  Match m = Find(head.method, head.target.substr(0, head.target.find('?')), &allowed);
  if (m.route == nullptr || m.route->method != "POST") return false;
  if (head.authorization.empty() && head.cookie.empty()) return false;
  Result<Principal> who = Authenticate(head, true, true);
  return who.ok() && who->role != fb::Role::reader && Allowed(*m.route, *who);
}

HttpResponse Service::Handle(const HttpRequest& request) {
  auto started = std::chrono::steady_clock::now();
  std::string path = request.target.substr(0, request.target.find('?'));
  std::string allowed;
  Match m = Find(request.method, path, &allowed);
  std::string route_name = m.route ? m.route->pattern : "unmatched";
  Principal who;
  HttpResponse response = Dispatch(request, path, allowed, m, &who);
  LocalizeErrorBody(response, PreferredLanguage(request.accept_language));
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
