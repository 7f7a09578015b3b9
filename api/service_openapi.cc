#include <boost/json.hpp>

#include "api/service.h"
#include "ledger/rule_code.h"
#include "projections/fund_balances.h"

namespace fundledger {
namespace json = boost::json;
namespace {

const json::object kStringSchema{{"type", "string"}};

json::array RoleNames(uint32_t roles) {
  json::array names;
  for (auto [bit, name] :
       std::initializer_list<std::pair<uint32_t, const char*>>{{kAdmin, "admin"},
                                                               {kMaker, "maker"},
                                                               {kChecker, "checker"},
                                                               {kAuditor, "auditor"},
                                                               {kCharity, "charity"},
                                                               {kPublic, "public"},
                                                               {kPublicIfOpen, "public-if-open"}}) {
    if (roles & bit) names.emplace_back(name);
  }
  return names;
}

// How a client signs a command (ledger/actor_keys.h, api/README.md "Signed requests").
constexpr const char* kSignatureDescription =
    "The actor's signature of this command: `<key id>:<base64 Ed25519 signature>`, required once "
    "the ledger requires signing. The key id is the first 8 bytes of SHA-256 of the public key in "
    "hex (registered by an admin). The signed message is these seven lines, each ending in LF: "
    "`fundledger-command/v1`, the log's origin (the name in GET /v1/key), the event type this "
    "route appends (named in its request body), `<actor> <role>` as the token's, the "
    "Idempotency-Key, `POST "
    "<target>` (path and query exactly as sent), and the SHA-256 of the exact body bytes in "
    "lowercase hex. A browser signs it with a non-extractable WebCrypto Ed25519 key "
    "(crypto.subtle.digest, then crypto.subtle.sign).";

// What every error's `code` may be: the status names, then each rule with its line.
std::string ErrorDescription() {
  std::string d =
      "An error, in one shape. `code` is the status's name for 400 invalid_argument, 401 "
      "unauthenticated, 403 permission_denied, 404 not_found, 405 (the Allow header lists the "
      "methods the path takes), 409 conflict (an Idempotency-Key reused with another body), 413 "
      "too_large and 503 overloaded; `field` names the parameter or body field at fault. A 422 "
      "is a ledger rule refusing the command; `code` is the rule, one of:\n";
  for (const RuleCodeInfo& rule : kRuleCodes) {
    d += "- `" + std::string(rule.name) + "`: " + std::string(rule.when) + "\n";
  }
  d += "A rejected roll lists every problem of every row (its spreadsheet row in `line`, the "
       "column in `field`): the first 100 in `details`, all of them counted in `details_total` and "
       "by code and column in `summary`, and the whole list as CSV at `report` "
       "(`/v1/roll-reports/{report_id}`). Messages are Chinese when Accept-Language prefers zh; "
       "codes never change.";
  return d;
}

json::object ComponentsJson() {
  json::object fields{{"code", kStringSchema},
                      {"message", kStringSchema},
                      {"field", kStringSchema},
                      {"line", json::object{{"type", "integer"}}},
                      {"details", json::object{{"type", "array"}}}};
  json::object error_schema{
      {"type", "object"},
      {"properties",
       json::object{{"error", json::object{{"type", "object"},
                                           {"properties", std::move(fields)},
                                           {"required", json::array{"code", "message"}}}}}}};
  json::object log_size{
      {"description",
       "The log size this answer reflects: the number of durable entries a read of the ledger's "
       "state saw, the tree size a proof or tile was computed at, the size a checkpoint signs, "
       "or the log size after a command's commit. Sent on every response."},
      {"schema", json::object{{"type", "integer"}, {"minimum", 1}}}};
  return json::object{
      {"securitySchemes",
       json::object{{"bearer", json::object{{"type", "http"}, {"scheme", "bearer"}}}}},
      {"headers", json::object{{kLogSizeHeader, std::move(log_size)}}},
      {"responses",
       json::object{
           {"Error",
            json::object{{"description", ErrorDescription()},
                         {"headers",
                          json::object{{kLogSizeHeader,
                                        json::object{{"$ref", std::string("#/components/headers/") +
                                                                  kLogSizeHeader}}}}},
                         {"content", json::object{{"application/json",
                                                   json::object{{"schema", error_schema}}}}}}}}}};
}

json::object RequestBodyJson(fb::EventType event) {
  std::string media =
      event == fb::EventType::DisbursementBatchPrepared ? "text/csv" : "application/json";
  json::object content;
  content[media] = json::object{
      {"schema", json::object{{"type", media == "text/csv" ? "string" : "object"},
                              {"description", event == fb::EventType::Unknown
                                                  ? std::string("a JSON object: see the summary")
                                                  : std::string("fields of the ") +
                                                        fb::EnumNameEventType(event) +
                                                        " table in ledger/entry.fbs"}}}};
  return json::object{{"required", event != fb::EventType::DisbursementBatchApproved &&
                                       event != fb::EventType::DisbursementBatchRejected},
                      {"content", std::move(content)}};
}

}  // namespace

HttpResponse Service::OpenApi(Context&) { return JsonResponse(200, OpenApiJson()); }

json::object Service::OperationJson(const Route& r, const std::string& path) const {
  json::object op;
  op["summary"] = r.summary;
  op["operationId"] = r.method + " " + r.pattern;
  op["x-roles"] = RoleNames(r.roles);
  json::array params;
  for (size_t p = path.find('{'); p != std::string::npos; p = path.find('{', p + 1)) {
    params.push_back(json::object{{"name", path.substr(p + 1, path.find('}', p) - p - 1)},
                                  {"in", "path"},
                                  {"required", true},
                                  {"schema", kStringSchema}});
  }
  for (const QueryParam& q : r.query) {
    params.push_back(json::object{{"name", q.name},
                                  {"in", "query"},
                                  {"description", q.description},
                                  {"required", q.required},
                                  {"schema", kStringSchema}});
  }
  if (r.method == "POST") {
    params.push_back(json::object{{"name", "Idempotency-Key"},
                                  {"in", "header"},
                                  {"required", true},
                                  {"schema", kStringSchema}});
    params.push_back(json::object{{"name", kSignatureHeader},
                                  {"in", "header"},
                                  {"required", false},
                                  {"description", kSignatureDescription},
                                  {"schema", kStringSchema}});
    op["requestBody"] = RequestBodyJson(r.event);
    // The event type a signature names (kSignatureDescription): what a signing client reads.
    if (r.event != fb::EventType::Unknown) op["x-event"] = fb::EnumNameEventType(r.event);
  }
  if (!params.empty()) op["parameters"] = std::move(params);
  json::object responses;
  responses[r.method == "POST" ? "201" : "200"] = json::object{
      {"description", r.method == "POST" ? "appended (200: a retry, nothing appended)" : "success"},
      {"headers",
       json::object{{kLogSizeHeader, json::object{{"$ref", std::string("#/components/headers/") +
                                                               kLogSizeHeader}}}}}};
  for (const char* code : {"400", "401", "403", "404", "409", "413", "422", "503"}) {
    responses[code] = json::object{{"$ref", "#/components/responses/Error"}};
  }
  op["responses"] = std::move(responses);
  if (!(r.roles & kPublic)) op["security"] = json::array{json::object{{"bearer", json::array{}}}};
  return op;
}

std::string Service::OpenApiJson() const {
  json::object paths;
  for (const Route& r : routes_) {
    std::string path = r.pattern;
    if (auto star = path.find("*}"); star != std::string::npos) path.erase(star, 1);
    json::value& ops = paths[path];
    json::object& methods = ops.is_object() ? *ops.if_object() : ops.emplace_object();
    methods[r.method == "POST" ? "post" : "get"] = OperationJson(r, path);
  }
  json::object doc;
  doc["openapi"] = "3.0.3";
  doc["info"] = json::object{
      {"title", "fundledger"},
      {"version", "1"},
      {"description",
       std::string("A tamper-evident ledger for public money. Amounts are integer fen; months are "
                   "yyyymm integers in event bodies and YYYY-MM in query parameters. Every "
                   "response carries the ") +
           kLogSizeHeader + " header: the log size it reflects. `as_of` takes " +
           std::string(kAsOfHelp) + "."}};
  doc["paths"] = std::move(paths);
  doc["components"] = ComponentsJson();
  return json::serialize(doc);
}

}  // namespace fundledger
