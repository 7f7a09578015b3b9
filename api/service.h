// Service: every HTTP endpoint of fundledger as a function from a request to a response,
// independent of sockets (the Beast server in http_server.h feeds it; tests call it directly).
//
// One route table (Service::AddRoutes in service.cc) drives dispatch, role checks and the
// OpenAPI document, so the document always matches what the server does. Errors have the one
// shape of http_message.h, with 400 bad input, 401 no or bad token, 403 role not allowed,
// 404, 405 wrong method, 409 conflict, 413 too large, 422 rule violation, 503 overloaded.
//
// The handlers live in one file per resource:
//   service.cc             the route table, authentication, role checks, dispatch, request log
//   service_commands.cc    reference data, people, money in, rolls and their decisions,
//                          corrections: everything that appends
//   service_queries.cc     funds, balances, beneficiaries, batches
//   service_integrity.cc   entries, checkpoint, key, proofs, tlog tiles
//   service_disclosures.cc disclosures, open data, the public pages
//   service_health.cc      metrics and liveness
//   service_openapi.cc     the OpenAPI document
//   service_checker.cc     a roll as its checker reviews it, its approval sheet
//   service_lookup.cc      people by name, payments and their proofs, anomalies, access log
//
// Thread safety: Handle may be called from many threads at once.
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/access_log.h"
#include "api/http_message.h"
#include "api/metrics.h"
#include "api/open_data.h"
#include "api/request_fields.h"
#include "api/roll_report.h"
#include "api/staff_accounts.h"
#include "api/staff_sessions.h"
#include "api/tokens.h"
#include "ledger/ledger.h"
#include "projections/projections.h"

namespace fundledger {

struct BatchReview;
struct PublishedDisclosure;
struct RollTarget;

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
// The staff who read the ledger's state (a charity sees only its own, so it is added where it may).
inline constexpr uint32_t kReaders = kAdmin | kMaker | kChecker | kAuditor;

struct ServiceOptions {
  bool public_log = false;  // entries, proofs and tiles readable without a token
  std::string data_dir;     // where published disclosure reports are stored
  std::function<void(const std::string&)> log;  // one JSON line per request; null: none
  // The checkpoint cosigned by a witness quorum (CheckpointPublisher), served as the latest
  // checkpoint once there is one; null when the ledger has no witnesses.
  std::function<std::optional<std::string>()> published_checkpoint;
  // More Prometheus text for /metrics (the scrub's, the witnesses' progress); null: none.
  std::function<std::string()> extra_metrics;
  // Non-empty: the store is open read-only, for this reason (a full disk at start); /healthz
  // and /metrics say so, and writes are refused until `serve` reopens it for writing.
  std::string read_only_reason;
  OpenDataPublisher open_data;  // who publishes /v1/open-data/* (api/open_data.h)
  // Non-null: whether the store was found damaged (StoreScrub::damage); once it says so, every
  // route but /healthz and /metrics answers 500 corruption naming the entry.
  std::function<std::optional<std::string>()> damage;
  // Milliseconds since the epoch, for sessions and lockouts; null: the system clock.
  std::function<int64_t()> clock_ms;
};

class Service final : public HttpHandler {
 public:
  Service(Ledger& ledger, Projections& projections, TokenStore& tokens, Metrics& metrics,
          ServiceOptions options);

  // Every response carries HttpResponse::log_size: the handler's where it computed one, else
  // log_size() when the answer was made.
  HttpResponse Handle(const HttpRequest& request) override;
  // Whether the head of a request (no body yet) names a POST route and carries a token whose
  // role may call it: the server then takes a large body, from anyone else a small one.
  bool Authorized(const HttpRequest& head) override;
  // The log's size now: durable entries.
  uint64_t log_size() const;
  std::optional<uint64_t> served_log_size() const override { return log_size(); }
  // The OpenAPI 3 document (JSON), generated from the route table.
  std::string OpenApiJson() const;

  struct QueryParam {
    std::string name;
    std::string description;
    bool required = false;
  };
  struct Route;

 private:
  struct Match {
    const Route* route = nullptr;
    RequestParams params;  // path parameters and query
  };
  struct Context {
    const HttpRequest& request;
    Principal who;
    RequestParams params;
  };
  using Handler = std::function<HttpResponse(Service&, Context&)>;

 public:
  struct Route {
    std::string method;
    std::string pattern;  // "/v1/funds/{id}/close"
    uint32_t roles;
    std::string summary;
    fb::EventType event = fb::EventType::Unknown;  // commands: the event the body holds
    std::vector<QueryParam> query;                 // documented query parameters
    Handler handler;
  };

 private:
  // service.cc
  void AddRoutes();
  void AddCommandRoutes();
  void AddQueryRoutes();
  void AddIntegrityRoutes();
  void AddPublicRoutes();  // disclosures, open data, the public site, operations
  void AddGet(std::string pattern, uint32_t roles, std::string summary,
              std::vector<QueryParam> query, HttpResponse (Service::*handler)(Context&));
  void AddPost(std::string pattern, uint32_t roles, std::string summary, fb::EventType event,
               std::vector<QueryParam> query, Handler handler);
  // The route of (method, path). Without one, `allowed` holds the methods the path takes
  // ("GET, POST"), empty when no route has the path.
  Match Find(const std::string& method, const std::string& path, std::string* allowed) const;
  bool Allowed(const Route& route, const Principal& who) const;
  // Adds the target's query to `params` (the path parameters), percent-decoded. A name given
  // twice, or also a path parameter, is InvalidArgument; so is any query on a command whose
  // fields all go in its JSON body.
  static Status AddQuery(const std::string& target, const Route& route, RequestParams* params);
  // Authentication, role check and the handler: the response before logging.
  // `allowed` is what Find said when no route matched.
  HttpResponse Dispatch(const HttpRequest& request, const std::string& path,
                        const std::string& allowed, Match& match, Principal* who);

  // Runs `read` inside Domain::Read (the read gate): 200 with its JSON, or its error, either
  // way carrying the log size the read reflected (DomainState::next_index).
  HttpResponse ReadJson(
      const std::function<Result<boost::json::object>(const DomainState&)>& read) const;

  // service_commands.cc
  HttpResponse Command(Context& c, fb::EventType type);
  HttpResponse RegisterBeneficiary(Context& c);
  HttpResponse PrepareRoll(Context& c);
  HttpResponse RollReport(Context& c);
  // service_listings.cc: the lists and searches the console reads
  void AddListingRoutes();
  HttpResponse ListBatches(Context& c);
  HttpResponse ListPrograms(Context& c);
  HttpResponse FindBeneficiaries(Context& c);
  // service_checker.cc: a roll as its checker reviews it, and its printable approval sheet
  void AddCheckerRoutes();
  Result<BatchReview> ReadBatchReview(const std::string& batch_id) const;
  HttpResponse BatchReviewRoute(Context& c);
  HttpResponse ApprovalSheet(Context& c);
  // service_lookup.cc: people by name (recorded in the access log), payments and their
  // proofs, anomaly findings, the access log
  void AddLookupRoutes();
  HttpResponse SearchBeneficiariesByName(Context& c);
  HttpResponse ListPayments(Context& c);
  HttpResponse ProvePayment(Context& c);
  HttpResponse ListAnomalies(Context& c);
  HttpResponse AccessLogTail(Context& c);
  HttpResponse AuditBundle(Context& c);
  // A found person as a list shows them: id, region, masked name and ID number (null: erased).
  static boost::json::object MaskedPerson(const std::string& id, const std::string& region,
                                          const PersonalData* person);
  // Appends the search to the access log (access_log.h); an error: do not answer it.
  Status RecordSearch(const Principal& who, std::string_view kind, uint64_t results);
  // service_bank.cc: the bank payment file of an approved roll and the bank's return file
  void AddBankRoutes();
  HttpResponse BankFile(Context& c);
  HttpResponse BankReturns(Context& c);
  // service_console.cc: the staff console's page and files, embedded at build time
  void AddConsoleRoutes();
  HttpResponse ConsolePage(Context& c);
  HttpResponse ConsoleFile(Context& c);
  // service_keys.cc: people's signing keys, and the browser's enrollment request
  void AddKeyRoutes();
  HttpResponse ListActorKeys(Context& c);
  HttpResponse RegisterActorKey(Context& c);
  HttpResponse RevokeActorKey(Context& c);
  HttpResponse EnrollKey(Context& c);
  // What a session's console needs to sign: {required, origin, key_ids (the person's current
  // keys for the role)}.
  boost::json::object SigningJson(const Principal& who) const;
  // service_accounts.cc: staff accounts and console sessions
  void AddAccountRoutes();
  // Who sent the request: its bearer token, or its session cookie (a POST also needs the
  // session's CSRF token); `needs_credentials` false lets a request without either through.
  Result<Principal> Authenticate(const HttpRequest& request, bool needs_credentials,
                                 bool check_csrf);
  int64_t NowMs() const;
  HttpResponse LogIn(Context& c);
  HttpResponse LogOut(Context& c);
  HttpResponse CurrentSession(Context& c);
  HttpResponse ListAccounts(Context& c);
  HttpResponse CreateAccount(Context& c);
  HttpResponse ChangeAccount(Context& c, const std::string& change);
  // A rejected roll's bounded answer; keeps the full list of problems for RollReport.
  HttpResponse RejectRoll(const std::vector<Status>& problems, const Status& roll_problem,
                          size_t rows, Language language);
  HttpResponse Decide(Context& c, bool approve);
  HttpResponse Submit(Context& c, std::vector<DomainEvent> events,
                      std::vector<VaultWrite> vault = {});
  // The answer to a command that appended (201) or was a retry (200): `fields` with what was
  // appended and the log size after the commit, also in the response's log size.
  HttpResponse Committed(const AppendResult& appended,
                         boost::json::object fields = boost::json::object()) const;
  Status CheckCharityScope(const Principal& who, const DomainEvent& event) const;
  // The submission the request's Idempotency-Key committed, if it did. A route whose own checks
  // read state a commit changes (a roll's people, a return's lines, a person's ID number) looks
  // its key up first, so a retry of a committed command is answered as a retry.
  Result<std::optional<IdempotencyRecord>> CommittedKey(const Context& c) const;
  // 409: the key committed another request (`why`: how this one differs).
  static HttpResponse KeyReused(const IdempotencyRecord& record, const std::string& why);
  // The original result when the key's entries prepared this roll's batch (`target`, with
  // `rows` lines totalling `total`): a retry whose rows no longer resolve. Else nullopt.
  std::optional<AppendResult> RollPreparedBy(const IdempotencyRecord& record,
                                             const RollTarget& target, size_t rows,
                                             Amount total) const;
  // The key's earlier request committed; this one's first row problem shows it differs.
  static HttpResponse KeyReusedAtRow(const IdempotencyRecord& record, const Status& row_problem);
  // The caller as the command's actor, with the request's signature if it sent one.
  Result<Actor> CommandActor(const Context& c) const;
  Status CheckFundScope(const Principal& who, const std::string& fund) const;

  // service_queries.cc
  HttpResponse ListFunds(Context& c);
  HttpResponse GetFund(Context& c);
  HttpResponse Balances(Context& c);
  HttpResponse GetBeneficiary(Context& c);
  HttpResponse GetBatch(Context& c);

  // service_integrity.cc
  HttpResponse GetEntry(Context& c);
  HttpResponse Checkpoint(Context& c);
  HttpResponse Key(Context& c);
  HttpResponse ProveInclusion(Context& c);
  HttpResponse ProveConsistency(Context& c);
  HttpResponse Tile(Context& c);

  // service_disclosures.cc
  HttpResponse PublishDisclosure(Context& c);
  HttpResponse ListDisclosures(Context& c);
  HttpResponse GetDisclosure(Context& c);
  HttpResponse DisclosureEvidence(Context& c);
  // The first evidence page's head: the checkpoint a reader checks against, the publication
  // entry's inclusion in it, the consistency proof from the report's tree; sets `log_size`.
  Result<boost::json::object> EvidenceHead(uint64_t index, uint64_t report_size,
                                           uint64_t* log_size) const;
  HttpResponse OpenData360(Context& c);
  HttpResponse OpenDataIati(Context& c);
  HttpResponse PublicIndex(Context& c);
  HttpResponse PublicDisclosure(Context& c);
  HttpResponse VerifyScript(Context& c);
  enum class OpenDataFormat { k360Giving, kIati };
  HttpResponse OpenData(OpenDataFormat format) const;
  // The published disclosures; `log_size` is the DomainState::next_index of the read.
  std::vector<PublishedDisclosure> Published(uint64_t* log_size) const;
  // The report hash a DisclosurePublished entry records (hex), or "" when it cannot be read.
  std::string ReportSha256(uint64_t index) const;
  // The published report of the path's `{index}`: its text exactly as hashed.
  struct StoredReport {
    uint64_t index = 0;
    std::string text;
    uint64_t log_size = 0;  // of the read that found it published
  };
  Result<StoredReport> ReportAtPath(Context& c) const;

  // service_health.cc
  HttpResponse Metrics(Context& c);
  HttpResponse Health(Context& c);

  // service_openapi.cc
  HttpResponse OpenApi(Context& c);
  // One route's operation object; `path` is its pattern as OpenAPI writes it.
  boost::json::object OperationJson(const Route& route, const std::string& path) const;

  Ledger& ledger_;
  Projections& projections_;
  TokenStore& tokens_;
  class Metrics& metrics_;
  ServiceOptions options_;
  std::vector<Route> routes_;
  RollReportStore roll_reports_;
  std::unique_ptr<StaffAccounts> accounts_;  // null without a data directory
  StaffSessions sessions_;
  std::unique_ptr<AccessLog> access_log_;  // null without a data directory
  Mutex anomaly_run_;  // the anomaly checks read the whole log: one at a time  // the CSV of each
                       // rejected roll's problems, newest kept
  std::atomic<uint64_t> request_ids_{0};
};

}  // namespace fundledger
