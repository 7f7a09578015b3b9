#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <map>
#include <vector>

#include "api/event_json.h"
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
    "route appends (its `x-event`), `<actor> <role>` as the token's, the "
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
       "a rejected roll's message and each of its problems also carry `translations` (`en`, `zh`), "
       "the same text in each language the console speaks; codes never change.";
  return d;
}

json::object ComponentsJson() {
  json::object fields{{"code", kStringSchema},
                      {"message", kStringSchema},
                      {"field", kStringSchema},
                      {"line", json::object{{"type", "integer"}}},
                      {"translations", json::object{{"type", "object"}}},
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

// A request body that is not the route's event as JSON: a file as it is saved (text/csv), or a
// small JSON object whose fields the route reads (service_test.cc checks every POST has one or
// the other). Schemas are JSON text.
struct RequestDoc {
  std::string_view media;
  std::string_view schema;
};

const std::map<std::string_view, RequestDoc>& RequestDocs() {
  static const std::map<std::string_view, RequestDoc> kDocs{
      {"/v1/disbursement-batches",
       {"text/csv",
        R"({"type":"string","description":"the roll as a spreadsheet saves it (see the summary), or JSON lines"})"}},
      {"/v1/disbursement-batches/{batch_id}/bank-returns",
       {"text/csv",
        R"({"type":"string","description":"the bank's return file (回盘文件) as the bank wrote it (UTF-8 or GBK), columns as the layout names them"})"}},
      {"/v1/disbursement-batches/{batch_id}/approve",
       {"application/json",
        R"({"type":"object","properties":{"document":{"type":"string","description":"the approval's document reference"}}})"}},
      {"/v1/disbursement-batches/{batch_id}/reject",
       {"application/json",
        R"({"type":"object","properties":{"reason":{"type":"string","description":"why the roll goes back to its maker","minLength":1}},"required":["reason"]})"}},
      {"/v1/sessions",
       {"application/json",
        R"({"type":"object","properties":{"name":{"type":"string"},"password":{"type":"string","format":"password"}},"required":["name","password"]})"}},
      {"/v1/sessions/current/logout", {"application/json", R"({"type":"object","properties":{}})"}},
      {"/v1/sessions/current/key",
       {"application/json",
        R"({"type":"object","properties":{"public_key":{"type":"string","format":"byte","description":"the browser's Ed25519 public key, 32 bytes in base64"}},"required":["public_key"]})"}},
      {"/v1/accounts",
       {"application/json",
        R"({"type":"object","properties":{"name":{"type":"string"},"role":{"type":"string","enum":["admin","maker","checker","auditor","charity"]},"org":{"type":"string","description":"a charity account's organisation; only there"},"password":{"type":"string","format":"password","minLength":10,"maxLength":256}},"required":["name","role","password"]})"}},
      {"/v1/accounts/{name}/disable", {"application/json", R"({"type":"object","properties":{}})"}},
      {"/v1/accounts/{name}/enable", {"application/json", R"({"type":"object","properties":{}})"}},
      {"/v1/accounts/{name}/password",
       {"application/json",
        R"({"type":"object","properties":{"password":{"type":"string","format":"password","minLength":10,"maxLength":256}},"required":["password"]})"}},
  };
  return kDocs;
}

json::object RequestBodyJson(const Service::Route& r) {
  auto doc = RequestDocs().find(r.pattern);
  if (doc != RequestDocs().end()) {
    json::object schema = json::parse(doc->second.schema).as_object();
    bool required = schema.contains("required") || doc->second.media != "application/json";
    return json::object{{"required", required},
                        {"content", json::object{{doc->second.media,
                                                  json::object{{"schema", std::move(schema)}}}}}};
  }
  json::object schema = r.event == fb::EventType::Unknown
                            ? json::object{{"type", "object"}, {"description", r.summary}}
                            : json::parse(EventJsonSchema(r.event)).as_object();
  return json::object{
      {"required", true},
      {"content", json::object{{"application/json", json::object{{"schema", std::move(schema)}}}}}};
}

// What a route answers with success when it is not JSON (service_test.cc checks each against
// the real answer).
std::string_view SuccessMediaType(const std::string& pattern) {
  static const std::map<std::string_view, std::string_view> kTypes{
      {"/", "text/html"},
      {"/disclosures/{index}", "text/html"},
      {"/static/verify.js", "text/javascript"},
      {"/metrics", "text/plain"},
      {"/v1/checkpoint", "text/plain"},
      {"/tlog/checkpoint", "text/plain"},
      {"/v1/key", "text/plain"},
      {"/tlog/tile/{path*}", "application/octet-stream"},
      {"/v1/roll-reports/{report_id}", "text/csv"},
      {"/v1/open-data/iati", "application/xml"},
      {"/console", "text/html"},
      {"/console/{file}", "text/javascript"},
      {"/v1/disbursement-batches/{batch_id}/approval-sheet", "text/html"},
      {"/v1/disbursement-batches/{batch_id}/bank-file-exports", "text/csv"},
      {"/v1/audit-bundle", "application/x-tar"},
      {"/v1/access-log", "application/x-ndjson"}};
  auto it = kTypes.find(pattern);
  return it == kTypes.end() ? std::string_view("application/json") : it->second;
}

// Builders of the routes' schemas below (their handlers write exactly these fields).
json::object Schema(const char* type) { return json::object{{"type", type}}; }
json::object Integer() { return json::object{{"type", "integer"}, {"format", "int64"}}; }
json::object Nullable(json::object schema) {
  schema["nullable"] = true;
  return schema;
}
json::object ArrayOf(json::object items) {
  return json::object{{"type", "array"}, {"items", std::move(items)}};
}
// An object whose keys are data (a bucket, a state), each value of `values`.
json::object MapOf(json::object values) {
  return json::object{{"type", "object"}, {"additionalProperties", std::move(values)}};
}
// An object with these properties, all required but those named in `optional` (written only
// when they apply).
json::object ObjectOf(std::vector<std::pair<const char*, json::object>> properties,
                      std::initializer_list<std::string_view> optional = {}) {
  json::object props;
  json::array required;
  for (auto& [name, schema] : properties) {
    if (std::find(optional.begin(), optional.end(), name) == optional.end())
      required.emplace_back(name);
    props[name] = std::move(schema);
  }
  return json::object{{"type", "object"}, {"properties", std::move(props)}, {"required", required}};
}

json::object BalanceSchema() {
  return ObjectOf({{"posted_fen", Integer()},
                   {"pending_fen", Integer()},
                   {"available_fen", Integer()},
                   {"posted", Schema("string")},
                   {"available", Schema("string")}});
}

std::vector<std::pair<const char*, json::object>> FundSummaryProperties() {
  return {{"fund_id", Schema("string")},
          {"name", Schema("string")},
          {"kind", Schema("string")},
          {"organisation", Schema("string")},
          {"closed", Schema("boolean")}};
}

// A person's payment per program and month (PaymentRowJson); the roll line's fields when a
// roll paid it.
json::object PaymentSchema() {
  return ObjectOf({{"program_id", Schema("string")},
                   {"period", Schema("string")},
                   {"paid_fen", Integer()},
                   {"paid", Schema("string")},
                   {"lines", Integer()},
                   {"batch_id", Schema("string")},
                   {"fund_id", Schema("string")},
                   {"line_no", Integer()},
                   {"amount_fen", Integer()},
                   {"amount", Schema("string")},
                   {"state", Schema("string")},
                   {"prepared_index", Integer()},
                   {"approved_index", Integer()}},
                  {"batch_id", "fund_id", "line_no", "amount_fen", "amount", "state",
                   "prepared_index", "approved_index"});
}

// An inclusion proof of entry `index` in the tree of `size` (InclusionProofJson).
std::vector<std::pair<const char*, json::object>> InclusionProofProperties() {
  return {{"index", Integer()},
          {"size", Integer()},
          {"leaf_hash", Schema("string")},
          {"proof", ArrayOf(Schema("string"))},
          {"root", Schema("string")}};
}

// The entry too, as exact bytes (ProvenEntry).
json::object ProvenEntrySchema() {
  std::vector<std::pair<const char*, json::object>> fields = InclusionProofProperties();
  fields.push_back({"raw", json::object{{"type", "string"}, {"format", "byte"}}});
  fields.push_back({"bytes", Integer()});
  return ObjectOf(std::move(fields));
}

json::object BatchSchema() {
  json::object line = ObjectOf({{"line_no", Integer()},
                                {"beneficiary_id", Schema("string")},
                                {"program_id", Schema("string")},
                                {"period", Schema("string")},
                                {"amount_fen", Integer()},
                                {"state", Schema("string")}});
  return ObjectOf({{"batch_id", Schema("string")},
                   {"status", Schema("string")},
                   {"maker", Schema("string")},
                   {"fund_id", Schema("string")},
                   {"bucket", Schema("string")},
                   {"period", Schema("string")},
                   {"total_fen", Integer()},
                   {"total", Schema("string")},
                   {"prepared_index", Integer()},
                   {"decided_index", Integer()},
                   {"lines_by_state", MapOf(Integer())},
                   {"line_count", Integer()},
                   {"lines", ArrayOf(std::move(line))},
                   {"lines_truncated", Schema("boolean")}},
                  {"decided_index", "lines", "lines_truncated"});
}

// A roll as its checker reviews it (BatchReviewJson, and the caller's DecisionJson).
json::object ReviewSchema() {
  auto line = [](bool with_previous) {
    std::vector<std::pair<const char*, json::object>> fields{{"beneficiary_id", Schema("string")},
                                                             {"program_id", Schema("string")},
                                                             {"region", Schema("string")},
                                                             {"region_name", Schema("string")},
                                                             {"line_no", Integer()},
                                                             {"amount", Schema("string")},
                                                             {"status", Schema("string")}};
    if (with_previous) fields.push_back({"previous_amount", Schema("string")});
    return ObjectOf(std::move(fields), {"line_no", "status"});
  };
  auto change = [&](bool with_previous) {
    return ObjectOf({{"count", Integer()},
                     {"amount", Schema("string")},
                     {"lines", ArrayOf(line(with_previous))},
                     {"truncated", Schema("boolean")}});
  };
  auto totals = [](const char* key) {
    return ArrayOf(ObjectOf({{key, Schema("string")},
                             {"name", Schema("string")},
                             {"lines", Integer()},
                             {"people", Integer()},
                             {"amount_fen", Integer()},
                             {"amount", Schema("string")}}));
  };
  json::object previous = ObjectOf({{"period", Schema("string")},
                                    {"batches", ArrayOf(Schema("string"))},
                                    {"line_count", Integer()},
                                    {"total_fen", Integer()},
                                    {"total", Schema("string")},
                                    {"people_added", Integer()},
                                    {"people_dropped", Integer()},
                                    {"added", change(false)},
                                    {"dropped", change(true)},
                                    {"changed", change(true)}});
  json::object decision = ObjectOf(
      {{"allowed", Schema("boolean")}, {"code", Schema("string")}, {"message", Schema("string")}},
      {"code", "message"});
  return ObjectOf({{"batch_id", Schema("string")},
                   {"status", Schema("string")},
                   {"fund_id", Schema("string")},
                   {"fund_name", Schema("string")},
                   {"bucket", Schema("string")},
                   {"period", Schema("string")},
                   {"line_count", Integer()},
                   {"total_fen", Integer()},
                   {"total", Schema("string")},
                   {"maker", Schema("string")},
                   {"prepared_index", Integer()},
                   {"read_at", Integer()},
                   {"decided_index", Integer()},
                   {"decided_by", Schema("string")},
                   {"by_program", totals("program_id")},
                   {"by_region", totals("region")},
                   {"previous_month", std::move(previous)},
                   {"sample", ArrayOf(line(false))},
                   {"decision", std::move(decision)}},
                  {"decided_index", "decided_by"});
}

// Whether the caller's commands must be signed, the log's origin, the caller's keys.
json::object SigningSchema() {
  return ObjectOf({{"required", Schema("boolean")},
                   {"origin", Schema("string")},
                   {"key_ids", ArrayOf(Schema("string"))}});
}

// The commit a command answers with: where its entries went in the log.
std::vector<std::pair<const char*, json::object>> CommitProperties() {
  return {{"first_index", Integer()},
          {"count", Integer()},
          {"replayed", Schema("boolean")},
          {"log_size", Integer()}};
}

// The success schemas, by "<METHOD> <pattern>", of the routes whose answer is not the plain
// commit: the read routes the console calls, the proofs, the list of disclosures, the liveness
// check, logging in and the bank's returns.
const std::map<std::string, json::object>& RouteSchemas() {
  static const std::map<std::string, json::object> kSchemas = [] {
    std::map<std::string, json::object> m;
    std::vector<std::pair<const char*, json::object>> returns{
        {"batch_id", Schema("string")},
        {"rows", Integer()},
        {"paid_rows", Integer()},
        {"returned", Integer()},
        {"already_recorded", Schema("boolean")},
        {"encoding", Schema("string")}};
    for (auto& field : CommitProperties()) returns.push_back(std::move(field));
    json::object bank_returns =
        ObjectOf(std::move(returns), {"first_index", "count", "replayed", "log_size"});
    bank_returns["description"] =
        "first_index, count, replayed and log_size only when returned lines were recorded";
    m["POST /v1/disbursement-batches/{batch_id}/bank-returns"] = std::move(bank_returns);
    json::object session_csrf{
        {"type", "string"},
        {"description", "sent back as X-CSRF-Token on every POST of the session"}};
    m["POST /v1/sessions"] = ObjectOf({{"actor", Schema("string")},
                                       {"role", Schema("string")},
                                       {"org", Schema("string")},
                                       {"csrf_token", std::move(session_csrf)},
                                       {"idle_timeout_ms", Integer()},
                                       {"signing", SigningSchema()}});
    m["GET /v1/funds"] = ObjectOf({{"funds", ArrayOf(ObjectOf(FundSummaryProperties()))}});
    std::vector<std::pair<const char*, json::object>> fund = FundSummaryProperties();
    fund.push_back({"programs", ArrayOf(Schema("string"))});
    fund.push_back({"purposes", ArrayOf(Schema("string"))});
    fund.push_back({"buckets", MapOf(BalanceSchema())});
    m["GET /v1/funds/{fund_id}"] = ObjectOf(std::move(fund));
    m["GET /v1/balances"] = ObjectOf({{"fund_id", Schema("string")},
                                      {"as_of_index", Integer()},
                                      {"buckets", MapOf(BalanceSchema())},
                                      {"total", BalanceSchema()}});
    m["GET /v1/beneficiaries/{beneficiary_id}"] = ObjectOf(
        {{"beneficiary_id", Schema("string")},
         {"household_id", Schema("string")},
         {"region_code", Schema("string")},
         {"birth_year", Integer()},
         {"payee_role", Schema("string")},
         {"erased", Schema("boolean")},
         {"status_changes",
          ArrayOf(ObjectOf({{"status", Schema("string")}, {"effective_date", Schema("string")}}))},
         {"enrollments", ArrayOf(ObjectOf({{"program_id", Schema("string")},
                                           {"from", Schema("string")},
                                           {"to", Schema("string")},
                                           {"monthly_amount_fen", Integer()},
                                           {"monthly_amount", Schema("string")}}))},
         {"paid", MapOf(ObjectOf({{"amount_fen", Integer()}, {"lines", Integer()}}))},
         {"received_fen", Integer()}});
    m["GET /v1/disbursement-batches"] =
        ObjectOf({{"batches", ArrayOf(ObjectOf({{"batch_id", Schema("string")},
                                                {"status", Schema("string")},
                                                {"maker", Schema("string")},
                                                {"fund_id", Schema("string")},
                                                {"bucket", Schema("string")},
                                                {"period", Schema("string")},
                                                {"line_count", Integer()},
                                                {"total_fen", Integer()},
                                                {"total", Schema("string")}}))},
                  {"more", Schema("boolean")}});
    m["GET /v1/disbursement-batches/{batch_id}"] = BatchSchema();
    m["GET /v1/disbursement-batches/{batch_id}/review"] = ReviewSchema();
    json::object csrf{{"type", "string"}, {"description", "a console session's only"}};
    m["GET /v1/sessions/current"] = ObjectOf({{"actor", Schema("string")},
                                              {"role", Schema("string")},
                                              {"org", Schema("string")},
                                              {"csrf_token", std::move(csrf)},
                                              {"signing", SigningSchema()}},
                                             {"csrf_token"});
    json::object enrolling = ObjectOf({{"key_id", Schema("string")},
                                       {"public_key", Schema("string")},
                                       {"since_ms", Integer()},
                                       {"registered", Schema("boolean")}});
    enrolling["description"] = "the key the account's browser handed in, until one is registered";
    m["GET /v1/accounts"] =
        ObjectOf({{"accounts", ArrayOf(ObjectOf({{"name", Schema("string")},
                                                 {"role", Schema("string")},
                                                 {"org", Schema("string")},
                                                 {"disabled", Schema("boolean")},
                                                 {"locked", Schema("boolean")},
                                                 {"created_ms", Integer()},
                                                 {"enrolling_key", std::move(enrolling)}},
                                                {"enrolling_key"}))}});
    m["GET /v1/programs"] =
        ObjectOf({{"programs", ArrayOf(ObjectOf({{"program_id", Schema("string")},
                                                 {"name", Schema("string")},
                                                 {"category", Schema("string")},
                                                 {"period", Schema("string")}}))}});
    m["GET /v1/actor-keys"] =
        ObjectOf({{"keys", ArrayOf(ObjectOf({{"key_id", Schema("string")},
                                             {"actor", Schema("string")},
                                             {"roles", ArrayOf(Schema("string"))},
                                             {"registered_index", Integer()},
                                             {"revoked_index", Integer()}},
                                            {"revoked_index"}))},
                  {"signing_required", Schema("boolean")},
                  {"signing_required_from", Integer()}},
                 {"signing_required_from"});
    m["GET /v1/beneficiaries"] =
        ObjectOf({{"beneficiaries", ArrayOf(ObjectOf({{"beneficiary_id", Schema("string")},
                                                      {"region_code", Schema("string")},
                                                      {"name_masked", Schema("string")},
                                                      {"id_number_masked", Schema("string")}}))},
                  {"more", Schema("boolean")}},
                 {"more"});  // a search by name only
    m["GET /v1/beneficiaries/{beneficiary_id}/payments"] =
        ObjectOf({{"beneficiary_id", Schema("string")},
                  {"payments", ArrayOf(PaymentSchema())},
                  {"total", Integer()},
                  {"next", Nullable(Integer())}});
    m["GET /v1/payment-proofs"] = ObjectOf({{"beneficiary_id", Schema("string")},
                                            {"checkpoint", Schema("string")},
                                            {"payment", PaymentSchema()},
                                            {"entry", ProvenEntrySchema()},
                                            {"approval", Nullable(ProvenEntrySchema())}});
    m["GET /v1/anomalies"] =
        ObjectOf({{"findings", ArrayOf(ObjectOf({{"check", Schema("string")},
                                                 {"subject", Schema("string")},
                                                 {"detail", Schema("string")},
                                                 {"translations", MapOf(Schema("string"))},
                                                 {"entries", ArrayOf(Integer())}}))},
                  {"total", Integer()},
                  {"by_check", MapOf(Integer())},
                  {"entries_read", Integer()}});
    m["GET /v1/proofs/inclusion"] = ObjectOf(InclusionProofProperties());
    m["GET /v1/proofs/consistency"] = ObjectOf({{"old", Integer()},
                                                {"size", Integer()},
                                                {"proof", ArrayOf(Schema("string"))},
                                                {"old_root", Schema("string")},
                                                {"root", Schema("string")}});
    m["GET /healthz"] = ObjectOf(
        {{"status", json::object{{"type", "string"}, {"enum", json::array{"ok", "read_only"}}}},
         {"log_size", Integer()},
         {"origin", Schema("string")},
         {"read_only_reason", Schema("string")}},
        {"read_only_reason"});
    m["GET /v1/disclosures"] = ObjectOf(
        {{"disclosures", ArrayOf(ObjectOf({{"index", Integer()},
                                           {"organisation", Schema("string")},
                                           {"fund_id", Schema("string")},
                                           {"period", Schema("string")},
                                           {"schedule_item", Schema("string")},
                                           {"sha256", Schema("string")},
                                           {"published", json::object{{"type", "string"},
                                                                      {"format", "date-time"}}},
                                           {"corrects_index", Integer()}}))}});
    m["GET /v1/entries/{index}"] = ObjectOf(
        {{"index", Integer()},
         {"stored_at_index", Integer()},
         {"timestamp_ms", Integer()},
         {"timestamp", json::object{{"type", "string"}, {"format", "date-time"}}},
         {"actor", Schema("string")},
         {"role", Schema("string")},
         {"idempotency_key", Schema("string")},
         {"event_type", Schema("string")},
         {"prev_leaf_hash", Schema("string")},
         {"leaf_hash", Schema("string")},
         {"payload",
          json::object{{"type", "object"}, {"description", "the event's fields (entry.fbs)"}}},
         {"raw", json::object{{"type", "string"}, {"format", "byte"}}}},
        {"stored_at_index"});
    return m;
  }();
  return kSchemas;
}

// The success answer's schema: a command's commit, or the route's document (the bank file an
// export command answers with).
json::object SuccessSchema(const Service::Route& r) {
  if (auto it = RouteSchemas().find(r.method + " " + r.pattern); it != RouteSchemas().end())
    return it->second;
  std::string_view media = SuccessMediaType(r.pattern);
  if (r.method == "POST" && r.event != fb::EventType::Unknown && media == "application/json")
    return ObjectOf(CommitProperties());
  if (media == "application/json") return json::object{{"type", "object"}};
  if (media == "application/octet-stream")
    return json::object{{"type", "string"}, {"format", "binary"}};
  return json::object{{"type", "string"}};
}

// "POST /v1/funds/{fund_id}/close" -> "post_v1_funds_fund_id_close": letters, digits, '_', '-'.
std::string OperationId(const Service::Route& r) {
  std::string id = r.method == "POST" ? "post" : "get";
  for (char c : r.pattern) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') {
      id += c;
    } else if (c == '/' || c == '.') {
      id += '_';
    }
  }
  while (!id.empty() && id.back() == '_') id.pop_back();
  return id;
}

}  // namespace

HttpResponse Service::OpenApi(Context&) { return JsonResponse(200, OpenApiJson()); }

json::object Service::OperationJson(const Route& r, const std::string& path) const {
  json::object op;
  op["summary"] = r.summary;
  op["operationId"] = OperationId(r);
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
    // A Memo route (the bank file export) takes no body: its path and query say it all.
    if (r.event != fb::EventType::Memo) op["requestBody"] = RequestBodyJson(r);
    // The event type a signature names (kSignatureDescription): what a signing client reads.
    if (r.event != fb::EventType::Unknown) op["x-event"] = fb::EnumNameEventType(r.event);
  }
  if (!params.empty()) op["parameters"] = std::move(params);
  json::object responses;
  json::object content;
  content[std::string(SuccessMediaType(r.pattern))] = json::object{{"schema", SuccessSchema(r)}};
  bool appends = r.method == "POST" && r.event != fb::EventType::Unknown;
  responses[appends ? "201" : "200"] = json::object{
      {"description", appends ? "appended (200: a retry, nothing appended)" : "success"},
      {"content", std::move(content)},
      {"headers",
       json::object{{kLogSizeHeader, json::object{{"$ref", std::string("#/components/headers/") +
                                                               kLogSizeHeader}}}}}};
  for (const char* code : {"400", "401", "403", "404", "409", "413", "422", "503"}) {
    responses[code] = json::object{{"$ref", "#/components/responses/Error"}};
  }
  op["responses"] = std::move(responses);
  // A public route needs no credentials; the others take a bearer token or a console session.
  op["security"] =
      (r.roles & kPublic) ? json::array{} : json::array{json::object{{"bearer", json::array{}}}};
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
       std::string(
           "A tamper-evident ledger for public money. Amounts are integer fen (every `<name>_fen` "
           "field may be given instead as `<name>_yuan`, a decimal string such as "
           "\"1045.00\"; both at once is a 400); months are "
           "yyyymm integers in event bodies and YYYY-MM in query parameters. Every "
           "response carries the ") +
           kLogSizeHeader + " header: the log size it reflects. `as_of` takes " +
           std::string(kAsOfHelp) + "."}};
  doc["servers"] = json::array{json::object{
      {"url", "/"},
      {"description", "this ledger (the document is served by the server it describes)"}}};
  doc["paths"] = std::move(paths);
  doc["components"] = ComponentsJson();
  return json::serialize(doc);
}

}  // namespace fundledger
