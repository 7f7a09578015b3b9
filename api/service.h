// Service: every HTTP endpoint of fundledger as a function from a request to a response,
// independent of sockets (the Beast server in http_server.h feeds it; tests call it directly).
//
// One route table drives dispatch, role checks and the OpenAPI document, so the document
// always matches what the server does. Errors have one shape:
//   {"error": {"code", "message", "field"?, "line"?, "details"?:
//   [{"code","message","field","line"}]}}
// with 400 bad input, 401 no or bad token, 403 role not allowed, 404, 409 conflict,
// 413 too large, 422 rule violation, 503 overloaded.
//
// Thread safety: Handle may be called from many threads at once.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "api/metrics.h"
#include "api/tokens.h"
#include "ledger/ledger.h"
#include "projections/projections.h"

namespace fundledger {

struct HttpRequest {
  std::string method;  // "GET", "POST"
  std::string target;  // path and query
  std::string authorization;
  std::string idempotency_key;
  std::string content_type;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string cache_control;  // e.g. immutable for full tiles
  std::string allow;          // 405: the methods the path takes (RFC 9110 requires the header)
};

// Who may call a route.
enum RoleBit : uint32_t {
  kAdmin = 1 << 0,
  kMaker = 1 << 1,
  kChecker = 1 << 2,
  kAuditor = 1 << 3,
  kCharity = 1 << 4,
  kPublic = 1 << 5,        // anyone, no token needed
  kPublicIfOpen = 1 << 6,  // anyone when the log is served publicly (--public-log)
};

struct ServiceOptions {
  bool public_log = false;  // entries, proofs and tiles readable without a token
  std::string data_dir;     // where published disclosure reports are stored
  std::function<void(const std::string&)> log;  // one JSON line per request; null: none
};

class Service {
 public:
  Service(Ledger& ledger, Projections& projections, TokenStore& tokens, Metrics& metrics,
          ServiceOptions options);

  HttpResponse Handle(const HttpRequest& request);
  // The OpenAPI 3 document (JSON), generated from the route table.
  std::string OpenApiJson() const;

  struct Route;

 private:
  struct Match {
    const Route* route = nullptr;
    std::map<std::string, std::string> params;  // path parameters and query
  };
  struct Context {
    const HttpRequest& request;
    Principal who;
    std::map<std::string, std::string> params;
  };
  using Handler = std::function<HttpResponse(Service&, Context&)>;

 public:
  struct Route {
    std::string method;
    std::string pattern;  // "/v1/funds/{id}/close"
    uint32_t roles;
    std::string summary;
    fb::EventType event = fb::EventType::Unknown;  // commands: the event the body holds
    std::vector<std::string> query;                // documented query parameters
    Handler handler;
  };

 private:
  void AddRoutes();
  // The route of (method, path). Without one, `allowed` holds the methods the path takes
  // ("GET, POST"), empty when no route has the path.
  Match Find(const std::string& method, const std::string& path, std::string* allowed) const;
  bool Allowed(const Route& route, const Principal& who) const;

  // Handlers.
  HttpResponse Command(Context& c, fb::EventType type);
  HttpResponse RegisterBeneficiary(Context& c);
  HttpResponse PrepareRoll(Context& c);
  HttpResponse Decide(Context& c, bool approve);
  HttpResponse ListFunds(Context& c);
  HttpResponse GetFund(Context& c);
  HttpResponse Balances(Context& c);
  HttpResponse GetBeneficiary(Context& c);
  HttpResponse GetBatch(Context& c);
  HttpResponse GetEntry(Context& c);
  HttpResponse Checkpoint(Context& c);
  HttpResponse Key(Context& c);
  HttpResponse ProveInclusion(Context& c);
  HttpResponse ProveConsistency(Context& c);
  HttpResponse Tile(Context& c);
  HttpResponse Metrics(Context& c);
  HttpResponse Health(Context& c);
  HttpResponse OpenApi(Context& c);
  HttpResponse PublishDisclosure(Context& c);
  HttpResponse ListDisclosures(Context& c);
  HttpResponse GetDisclosure(Context& c);
  HttpResponse DisclosureEvidence(Context& c);
  HttpResponse OpenData360(Context& c);
  HttpResponse OpenDataIati(Context& c);
  HttpResponse PublicIndex(Context& c);
  HttpResponse PublicDisclosure(Context& c);
  HttpResponse VerifyScript(Context& c);
  // The published disclosures, and one's stored report text.
  std::vector<struct PublishedDisclosure> Published() const;
  Result<std::string> PublishedReport(uint64_t index) const;
  // The report hash a DisclosurePublished entry records (hex), or "" when it cannot be read.
  std::string ReportSha256(uint64_t index) const;
  // The `{index}` of the path and its published report text.
  Result<std::pair<uint64_t, std::string>> ReportAtPath(Context& c) const;

  HttpResponse Submit(Context& c, std::vector<DomainEvent> events,
                      std::vector<VaultWrite> vault = {});
  Status CheckCharityScope(const Principal& who, const DomainEvent& event) const;
  Status CheckFundScope(const Principal& who, const std::string& fund) const;

  Ledger& ledger_;
  Projections& projections_;
  TokenStore& tokens_;
  class Metrics& metrics_;
  ServiceOptions options_;
  std::vector<Route> routes_;
  std::atomic<uint64_t> request_ids_{0};
};

HttpResponse ErrorResponse(const Status& status);
HttpResponse JsonResponse(int status, const std::string& json);

}  // namespace fundledger
