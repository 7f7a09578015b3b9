// The service as clients see it, without sockets: every endpoint against every role (allowed,
// or 401 / 403 as specified), every path in the OpenAPI document answering, error shapes.
#include "api/service.h"

#include <boost/json.hpp>

#include "api/demo.h"
#include "crypto/checkpoint.h"
#include "ledger/rule_code.h"
#include "replay/chain_verifier.h"
#include "tests/api/service_fixture.h"
#include "tests/http_client.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;

class ServiceTest : public ServiceFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    DemoOptions demo;
    demo.people = 40;
    demo.months = 2;
    demo.require_signing = false;  // the role matrix posts as tokens; signing: its own test
    ASSERT_TRUE(GenerateDemoCity(*ledger_, demo).ok());
    std::vector<TokenFor> tokens;
    for (const char* role : {"admin", "maker", "checker", "auditor", "public"})
      tokens.push_back({role, std::string("t.") + role, role});
    tokens.push_back({"charity", "t.charity", "charity", "charity.sunshine"});
    ServiceOptions options;
    options.open_data = {"CN-USCI-11320100MB0123456X", "bureau.civil-affairs", "", ""};
    StartService(tokens, options);
  }
};

// Where `value` breaks `schema`, each as "<path>: what", in the subset of JSON Schema the
// OpenAPI document uses (type, nullable, properties, required, items, additionalProperties). An
// object whose schema lists properties may carry no other: a field a handler writes that the
// document does not name is a drift too.
void SchemaErrors(const json::object& schema, const json::value& value, const std::string& at,
                  std::vector<std::string>& errors) {
  if (value.is_null()) {
    if (!schema.contains("nullable")) errors.push_back(at + ": null");
    return;
  }
  const json::value* type = schema.if_contains("type");
  std::string want = type ? std::string(type->as_string()) : "";
  bool fits = want.empty() || (want == "object" && value.is_object()) ||
              (want == "array" && value.is_array()) || (want == "string" && value.is_string()) ||
              (want == "boolean" && value.is_bool()) || (want == "number" && value.is_number()) ||
              (want == "integer" && (value.is_int64() || value.is_uint64()));
  if (!fits) {
    errors.push_back(at + ": not " + want + " but " + json::serialize(value));
    return;
  }
  if (const json::array* items = value.if_array(); items && schema.contains("items")) {
    for (size_t i = 0; i < items->size(); ++i)
      SchemaErrors(schema.at("items").as_object(), (*items)[i], at + "/" + std::to_string(i),
                   errors);
  }
  const json::object* object = value.if_object();
  if (object == nullptr) return;
  if (const json::value* required = schema.if_contains("required")) {
    for (const json::value& name : required->as_array()) {
      if (!object->contains(name.as_string()))
        errors.push_back(at + ": no " + std::string(name.as_string()));
    }
  }
  const json::value* properties = schema.if_contains("properties");
  const json::value* others = schema.if_contains("additionalProperties");
  for (const auto& [name, field] : *object) {
    std::string where = at + "/" + std::string(name);
    if (const json::value* p = properties ? properties->as_object().if_contains(name) : nullptr) {
      SchemaErrors(p->as_object(), field, where, errors);
    } else if (others != nullptr && others->is_object()) {
      SchemaErrors(others->as_object(), field, where, errors);
    } else if (properties != nullptr) {
      errors.push_back(where + ": not in the document");
    }
  }
}

std::vector<std::string> SchemaErrors(const json::object& schema, const std::string& body) {
  std::vector<std::string> errors;
  SchemaErrors(schema, json::parse(body), "", errors);
  return errors;
}

TEST(OpenApiSchemaCheck, CatchesAMissingAnUndocumentedAndAMistypedField) {
  json::object schema = json::parse(R"({"type":"object","properties":{
      "n":{"type":"integer"},"m":{"type":"object","additionalProperties":{"type":"string"}},
      "next":{"type":"integer","nullable":true}},"required":["n"]})")
                            .as_object();
  EXPECT_TRUE(SchemaErrors(schema, R"({"n":1,"m":{"a":"x"},"next":null})").empty());
  EXPECT_EQ(SchemaErrors(schema, R"({"m":{}})"), std::vector<std::string>{": no n"});
  EXPECT_EQ(SchemaErrors(schema, R"({"n":1,"extra":true})"),
            std::vector<std::string>{"/extra: not in the document"});
  EXPECT_EQ(SchemaErrors(schema, R"({"n":"1","m":{"a":2}})"),
            (std::vector<std::string>{"/n: not integer but \"1\"", "/m/a: not string but 2"}));
}

// The role matrix: which roles reach each route. Everything else gets 403 (with a token) and
// 401 (without one), except public routes.
TEST_F(ServiceTest, EveryRouteAnswersEachRoleAsSpecified) {
  struct Case {
    std::string method, target;
    std::set<std::string> allowed;  // roles that pass authorization; "none" = no token
  };
  std::set<std::string> staff{"admin", "maker"}, readers{"admin", "maker", "checker", "auditor"};
  auto with = [](std::set<std::string> s, std::initializer_list<const char*> more) {
    for (const char* m : more) s.insert(m);
    return s;
  };
  std::set<std::string> all{"admin", "maker", "checker", "auditor", "charity", "public", "none"};
  std::vector<Case> cases{
      {"POST", "/v1/funds", {"admin"}},
      {"POST", "/v1/funds/F-SUNSHINE/close", {"admin"}},
      {"POST", "/v1/programs", {"admin"}},
      {"POST", "/v1/programs/dibao/standards", {"admin"}},
      {"POST", "/v1/beneficiaries", staff},
      {"POST", "/v1/beneficiaries/B000001/changes", staff},
      {"POST", "/v1/enrollments", staff},
      {"POST", "/v1/enrollment-changes", staff},
      {"POST", "/v1/appropriations", staff},
      {"POST", "/v1/donations", with(staff, {"charity"})},
      {"POST", "/v1/lottery-grants", staff},
      {"POST", "/v1/disbursement-batches?batch_id=X&fund_id=F-SUBSIDY&period=2025-03", staff},
      {"GET", "/v1/roll-reports/0123", with(staff, {"checker"})},
      {"POST", "/v1/sessions", all},
      {"GET", "/v1/disbursement-batches?status=prepared", readers},
      {"GET", "/v1/programs", with(readers, {"charity"})},
      {"GET", "/v1/beneficiaries?id_number=11010519491231002X", {"admin", "maker", "checker"}},
      {"GET", "/v1/beneficiaries/B000001/payments", readers},
      {"GET", "/v1/payment-proofs?beneficiary_id=B000001&period=2025-01", readers},
      {"GET", "/v1/anomalies", {"admin", "auditor"}},
      {"GET", "/v1/access-log", {"admin", "auditor"}},
      {"GET", "/v1/audit-bundle", {"admin", "auditor"}},
      {"GET", "/console", all},
      {"GET", "/console/console.js", all},
      {"GET", "/v1/sessions/current", with(readers, {"charity"})},
      {"POST", "/v1/sessions/current/logout", with(readers, {"charity"})},
      {"GET", "/v1/accounts", {"admin"}},
      {"POST", "/v1/accounts", {"admin"}},
      {"POST", "/v1/accounts/someone/disable", {"admin"}},
      {"POST", "/v1/accounts/someone/enable", {"admin"}},
      {"POST", "/v1/accounts/someone/password", {"admin"}},
      {"GET", "/v1/actor-keys", with(readers, {"charity"})},
      {"POST", "/v1/actor-keys", {"admin"}},
      {"POST", "/v1/actor-keys/0123456789abcdef/revoke", {"admin"}},
      {"POST", "/v1/sessions/current/key", with(readers, {"charity"})},
      {"POST", "/v1/disbursement-batches/ROLL-2025-01/approve", {"admin", "checker"}},
      {"POST", "/v1/disbursement-batches/ROLL-2025-01/reject", {"admin", "checker"}},
      {"POST", "/v1/returns", staff},
      {"POST", "/v1/disbursement-batches/ROLL-2025-01/bank-file-exports", staff},
      {"POST", "/v1/disbursement-batches/ROLL-2025-01/bank-returns", staff},
      {"POST", "/v1/reissues", staff},
      {"POST", "/v1/recoveries", staff},
      {"POST", "/v1/reversals", {"admin", "checker"}},
      {"POST", "/v1/expenses", with(staff, {"charity"})},
      {"POST", "/v1/transfers", with(staff, {"charity"})},
      {"POST", "/v1/restriction-releases", with(staff, {"charity"})},
      {"GET", "/v1/funds", with(readers, {"charity"})},
      {"GET", "/v1/funds/F-SUNSHINE", with(readers, {"charity"})},
      {"GET", "/v1/balances?fund_id=F-SUNSHINE", with(readers, {"charity"})},
      {"GET", "/v1/beneficiaries/B000001", readers},
      {"GET", "/v1/disbursement-batches/ROLL-2025-01", readers},
      {"GET", "/v1/disbursement-batches/ROLL-2025-01/review", readers},
      {"GET", "/v1/disbursement-batches/ROLL-2025-01/approval-sheet", readers},
      {"GET", "/v1/entries/1", {"admin", "auditor", "maker", "checker"}},
      {"GET", "/v1/checkpoint", all},
      {"GET", "/v1/key", all},
      {"GET", "/v1/proofs/inclusion?index=1&size=2", {"admin", "auditor"}},
      {"GET", "/v1/proofs/consistency?old=1&size=2", {"admin", "auditor"}},
      {"GET", "/tlog/checkpoint", {"admin", "auditor"}},
      {"GET", "/tlog/tile/0/000.p/2", {"admin", "auditor"}},
      {"POST", "/v1/disclosures", {"admin", "charity"}},
      {"GET", "/v1/disclosures", all},
      {"GET", "/v1/disclosures/1", all},
      {"GET", "/v1/disclosures/1/evidence", all},
      {"GET", "/v1/open-data/360giving", all},
      {"GET", "/v1/open-data/iati", all},
      {"GET", "/", all},
      {"GET", "/disclosures/1", all},
      {"GET", "/static/verify.js", all},
      {"GET", "/metrics", all},
      {"GET", "/healthz", all},
      {"GET", "/v1/openapi.json", all},
  };
  int checked = 0;
  for (const Case& c : cases) {
    for (const std::string role :
         {"admin", "maker", "checker", "auditor", "charity", "public", "none"}) {
      HttpResponse r = Call(c.method, c.target, role == "none" ? "" : role, "{}");
      bool allowed = c.allowed.count(role) > 0;
      if (allowed) {
        EXPECT_NE(r.status, 401) << c.method << " " << c.target << " as " << role << ": " << r.body;
        EXPECT_NE(r.status, 403) << c.method << " " << c.target << " as " << role << ": " << r.body;
      } else {
        EXPECT_EQ(r.status, role == "none" ? 401 : 403)
            << c.method << " " << c.target << " as " << role << ": " << r.body;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()) * 7);
  // The matrix covers every route of the OpenAPI document.
  json::object paths = json::parse(service_->OpenApiJson()).at("paths").as_object();
  size_t operations = 0;
  for (const auto& p : paths) operations += p.value().as_object().size();
  EXPECT_EQ(operations, cases.size());
}

TEST_F(ServiceTest, EveryOpenApiPathAnswers) {
  json::object doc = json::parse(service_->OpenApiJson()).as_object();
  EXPECT_EQ(doc.at("openapi").as_string(), "3.0.3");
  HttpResponse published = Call("POST", "/v1/disclosures", "admin",
                                R"({"scope":"fund","id":"F-SUNSHINE","period":"2025"})");
  ASSERT_EQ(published.status, 201) << published.body;
  std::string index = std::to_string(json::parse(published.body).at("index").to_number<uint64_t>());
  HttpResponse rejected =
      Call("POST", "/v1/disbursement-batches?fund_id=F-SUBSIDY&period=2025-03", "admin",
           "beneficiary_id,program_id,amount\nNOBODY,dibao,1\n", "", "text/csv");
  ASSERT_EQ(rejected.status, 422) << rejected.body;
  std::string report(json::parse(rejected.body).at("error").at("report_id").as_string());
  std::map<std::string, std::string> sample{
      {"fund_id", "F-SUNSHINE"},    {"program_id", "dibao"}, {"beneficiary_id", "B000001"},
      {"batch_id", "ROLL-2025-01"}, {"index", index},        {"path", "0/000.p/2"},
      {"report_id", report},        {"name", "clerk.sun"},   {"file", "console.js"}};
  HttpResponse account = Call("POST", "/v1/accounts", "admin",
                              R"({"name":"clerk.sun","role":"maker","password":"long enough pw"})");
  ASSERT_EQ(account.status, 201) << account.body;
  EXPECT_EQ(doc.at("servers").as_array().at(0).at("url").as_string(), "/");
  std::set<std::string> operation_ids;
  int schema_checked = 0;
  for (const auto& [path, ops] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : ops.as_object()) {
      std::string target(path);
      for (const auto& [name, value] : sample) {
        std::string placeholder = "{" + name + "}";
        if (auto at = target.find(placeholder); at != std::string::npos)
          target.replace(at, placeholder.size(), value);
      }
      if (path == "/v1/balances") target += "?fund_id=F-SUNSHINE";
      std::string body = path == "/v1/disclosures"
                             ? R"({"scope":"fund","id":"F-SUNSHINE","period":"2025"})"
                             : "{}";
      if (path == "/v1/proofs/inclusion") target += "?index=1&size=2";
      if (path == "/v1/proofs/consistency") target += "?old=1&size=2";
      if (path == "/v1/payment-proofs") target += "?beneficiary_id=B000001&period=2025-01";
      if (path == "/v1/beneficiaries") target += "?id_number=11010519491231002X";
      if (path == "/v1/disbursement-batches/{batch_id}") target += "?lines=1";
      HttpResponse r = Call(method == "post" ? "POST" : "GET", target, "admin", body);
      EXPECT_NE(r.status, 404) << method << " " << target << ": " << r.body;
      EXPECT_NE(r.status, 405) << method << " " << target;
      EXPECT_LT(r.status, 500) << method << " " << target << ": " << r.body;
      EXPECT_TRUE(op.as_object().contains("x-roles"));
      // A URL-safe, unique operationId; security said; the success answer's media type and
      // schema, and the media type is what the route really answers with.
      std::string id(op.at("operationId").as_string());
      EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
      })) << id;
      EXPECT_TRUE(operation_ids.insert(id).second) << id << " twice";
      EXPECT_TRUE(op.as_object().contains("security")) << method << " " << path;
      for (const auto& [code, response] : op.at("responses").as_object()) {
        if (code != "200" && code != "201") continue;
        const json::object& content = response.at("content").as_object();
        ASSERT_EQ(content.size(), 1u) << method << " " << path;
        EXPECT_TRUE(content.begin()->value().as_object().contains("schema"));
        if (r.status == 200 || r.status == 201) {
          EXPECT_EQ(r.content_type.substr(0, content.begin()->key().size()), content.begin()->key())
              << method << " " << target << " answers " << r.content_type;
        }
        // A read route's JSON answer is what its schema says, field by field.
        const json::object& schema = content.begin()->value().at("schema").as_object();
        if (method == "get" && content.begin()->key() == "application/json" &&
            schema.contains("properties")) {
          EXPECT_EQ(r.status, 200) << target << ": " << r.body;
          if (r.status != 200) continue;
          std::string errors;
          for (const std::string& e : SchemaErrors(schema, r.body)) errors += "\n  " + e;
          EXPECT_EQ(errors, "") << target;
          ++schema_checked;
        }
      }
      // Every POST says what its body is: a file as saved (text/csv) for the routes that take
      // one, or a JSON object with the fields it reads; never a pointer to entry.fbs. A Memo
      // route (the bank file export) takes none: its path and query say it all.
      bool takes_no_body = path == "/v1/disbursement-batches/{batch_id}/bank-file-exports";
      EXPECT_EQ(op.as_object().contains("requestBody"), method == "post" && !takes_no_body)
          << method << " " << path;
      if (const json::value* request = op.as_object().if_contains("requestBody")) {
        std::string text = json::serialize(*request);
        EXPECT_EQ(text.find("entry.fbs"), std::string::npos) << method << " " << path;
        const json::object& content = request->at("content").as_object();
        ASSERT_EQ(content.size(), 1u) << method << " " << path;
        bool takes_a_file = path == "/v1/disbursement-batches" ||
                            path == "/v1/disbursement-batches/{batch_id}/bank-returns";
        EXPECT_EQ(content.begin()->key(), takes_a_file ? "text/csv" : "application/json")
            << method << " " << path;
        const json::object& schema = content.begin()->value().at("schema").as_object();
        EXPECT_EQ(schema.at("type").as_string(), takes_a_file ? "string" : "object") << path;
        if (!takes_a_file) {
          EXPECT_TRUE(schema.contains("properties")) << method << " " << path;
        }
      }
    }
  }
  // The read routes with a schema (the console's and more), each answer checked against it.
  EXPECT_GE(schema_checked, 19);
}

// A client learns every code a 422 may carry from the document: each rule of kRuleCodes with
// its line, in the error response's description. The log size header is documented on every
// response, and as_of says what it takes.
TEST_F(ServiceTest, TheOpenApiDocumentNamesEveryRuleCodeAndTheLogSizeHeader) {
  json::object doc = json::parse(service_->OpenApiJson()).as_object();
  json::object error = doc.at("components").at("responses").at("Error").as_object();
  std::string description(error.at("description").as_string());
  for (const RuleCodeInfo& rule : kRuleCodes) {
    EXPECT_NE(description.find("`" + std::string(rule.name) + "`: " + std::string(rule.when)),
              std::string::npos)
        << rule.name << " is not in the OpenAPI document's error description";
  }
  EXPECT_TRUE(error.at("headers").as_object().contains("Fundledger-Log-Size"));
  EXPECT_TRUE(doc.at("components").at("headers").as_object().contains("Fundledger-Log-Size"));
  for (const auto& [path, ops] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : ops.as_object()) {
      for (const auto& [code, response] : op.at("responses").as_object()) {
        if (code != "200" && code != "201") continue;
        EXPECT_TRUE(response.at("headers").as_object().contains("Fundledger-Log-Size"))
            << method << " " << path;
      }
    }
  }
  json::array params = doc.at("paths").at("/v1/balances").at("get").at("parameters").as_array();
  bool as_of_documented = false;
  for (const json::value& p : params) {
    if (p.at("name") == "as_of") {
      as_of_documented =
          p.at("description").as_string().find("China Standard Time") != json::string::npos;
    }
  }
  EXPECT_TRUE(as_of_documented);
}

TEST_F(ServiceTest, ErrorsHaveOneShapeAndTheRightStatus) {
  auto error_of = [](const HttpResponse& r) { return json::parse(r.body).at("error").as_object(); };
  HttpRequest no_key;
  no_key.method = "POST";
  no_key.target = "/v1/appropriations";
  no_key.authorization = "Bearer " + token_["maker"];
  HttpResponse r = service_->Handle(no_key);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r).at("field").as_string(), "Idempotency-Key");

  r = Call(
      "POST", "/v1/appropriations", "maker",
      R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":0,"source":"treasury","document":"d"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r).at("field").as_string(), "amount_fen");
  r = Call("POST", "/v1/appropriations", "maker",
           R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":"x"})");
  EXPECT_EQ(r.status, 400);
  r = Call(
      "POST", "/v1/expenses", "maker",
      R"({"fund_id":"F-SUNSHINE","bucket":"school-meals","payee":"p","class":"admin","purpose":"office","amount_fen":100,"document":"d"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(error_of(r).at("code").as_string(), "restricted_purpose");
  r = Call("GET", "/v1/funds/NOPE", "auditor");
  EXPECT_EQ(r.status, 404);
  r = Call("GET", "/v1/nothing", "auditor");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.allow, "");
  // A path that exists under other methods: 405, naming them in Allow and in the message.
  r = Call("GET", "/v1/enrollments", "auditor");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "POST");
  EXPECT_EQ(error_of(r).at("message").as_string(),
            "GET is not allowed on /v1/enrollments (it takes POST)");
  r = Call("DELETE", "/v1/disbursement-batches/ROLL-2025-01", "admin");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "GET");
  r = Call("GET", "/v1/funds", "", "");
  EXPECT_EQ(r.status, 401);
  HttpRequest bad_token;
  bad_token.method = "GET";
  bad_token.target = "/v1/funds";
  bad_token.authorization = "Bearer fl_" + std::string(64, '0');
  EXPECT_EQ(service_->Handle(bad_token).status, 401);
  // Same key, different body: 409.
  std::string body =
      R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":100,"source":"treasury","document":"d"})";
  EXPECT_EQ(CallWithKey("/v1/appropriations", "maker", body, "same").status, 201);
  EXPECT_EQ(CallWithKey("/v1/appropriations", "maker", body, "same").status, 200);
  r = CallWithKey(
      "/v1/appropriations", "maker",
      R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":999,"source":"treasury","document":"d"})",
      "same");
  EXPECT_EQ(r.status, 409);
  // A revoked token stops working at once.
  ASSERT_TRUE(tokens_->Revoke("t.auditor").ok());
  EXPECT_EQ(Call("GET", "/v1/funds", "auditor").status, 401);
}

TEST_F(ServiceTest, CharityTokensSeeAndTouchOnlyTheirOrganisation) {
  json::array funds = json::parse(Call("GET", "/v1/funds", "charity").body).at("funds").as_array();
  ASSERT_EQ(funds.size(), 1u);
  EXPECT_EQ(funds[0].at("fund_id").as_string(), "F-SUNSHINE");
  EXPECT_EQ(Call("GET", "/v1/funds/F-WARMHEART", "charity").status, 403);
  EXPECT_EQ(Call("GET", "/v1/balances?fund_id=F-SUBSIDY", "charity").status, 403);
  std::string mine =
      R"({"fund_id":"F-SUNSHINE","bucket":"general","payee":"p","class":"admin","purpose":"office","amount_fen":100,"document":"d"})";
  EXPECT_EQ(Call("POST", "/v1/expenses", "charity", mine).status, 201);
  std::string theirs =
      R"({"fund_id":"F-WARMHEART","bucket":"general","payee":"p","class":"admin","purpose":"office","amount_fen":100,"document":"d"})";
  EXPECT_EQ(Call("POST", "/v1/expenses", "charity", theirs).status, 403);
  std::string transfer_out =
      R"({"from_fund_id":"F-SUNSHINE","from_bucket":"general","to_fund_id":"F-WARMHEART","to_bucket":"general","amount_fen":100,"document":"d"})";
  EXPECT_EQ(Call("POST", "/v1/transfers", "charity", transfer_out).status, 403);
}

// /v1/balances reads "as of" as the CLI does (ParseAsOf): an index, a time, a date; a bad one
// is a 400 naming as_of, never a 500.
TEST_F(ServiceTest, BalancesNowAndAsOfAnIndexTimeOrDate) {
  auto get = [&](const std::string& query) {
    return Call("GET", "/v1/balances?fund_id=F-SUBSIDY" + query, "auditor");
  };
  HttpResponse now = get("");
  ASSERT_EQ(now.status, 200) << now.body;
  json::object o = json::parse(now.body).as_object();
  uint64_t size = ledger_->log().size();
  EXPECT_EQ(o.at("as_of_index").to_number<uint64_t>(), size - 1);
  int64_t posted = 0;
  for (const auto& [bucket, b] : o.at("buckets").as_object())
    posted += b.at("posted_fen").to_number<int64_t>();
  EXPECT_EQ(o.at("total").at("posted_fen").to_number<int64_t>(), posted);
  EXPECT_GT(posted, 0);
  // A "+" may come as it is or percent-encoded (as URLSearchParams sends it).
  for (const std::string& as_of :
       std::vector<std::string>{"2999-12-31", "2999-12-31T23:59:59Z", "2999-12-31T23:59:59+08:00",
                                "2999-12-31T23:59:59%2B08%3A00", std::to_string(size - 1)}) {
    HttpResponse r = get("&as_of=" + as_of);
    ASSERT_EQ(r.status, 200) << as_of << ": " << r.body;
    EXPECT_EQ(json::parse(r.body).at("buckets"), o.at("buckets")) << as_of;
    EXPECT_EQ(json::parse(r.body).at("as_of_index").to_number<uint64_t>(), size - 1) << as_of;
  }
  HttpResponse genesis = get("&as_of=0");
  ASSERT_EQ(genesis.status, 200) << genesis.body;
  EXPECT_EQ(json::parse(genesis.body).at("total").at("posted_fen").to_number<int64_t>(), 0);
  for (const std::string bad :
       {"99999999999999999999999", "yesterday", "2025-03-31T23:59:59", "2025-02-30"}) {
    HttpResponse r = get("&as_of=" + bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_EQ(json::parse(r.body).at("error").at("field").as_string(), "as_of") << r.body;
  }
  EXPECT_EQ(get("&as_of=" + std::to_string(size + 10)).status, 404);
  // Before the first entry: the answer names the time asked for (a date ends at midnight in
  // China, UTC+8) and the log's first, as UTC times.
  HttpResponse early = get("&as_of=1999-12-31");
  EXPECT_EQ(early.status, 404);
  const std::string message(json::parse(early.body).at("error").at("message").as_string());
  EXPECT_NE(message.find("no entry is as old as 1999-12-31T15:59:59.999Z: the log begins at "),
            std::string::npos)
      << message;
}

// Bad numbers and fields from a client are 400s naming the field, never a 500 from an
// exception: over-long numbers in the path, the query and the body, numbers of the wrong
// kind, fields of the wrong type.
TEST_F(ServiceTest, BadNumbersAndFieldsAre400sNamingTheField) {
  const std::string huge = "99999999999999999999999";
  auto expect_400 = [&](const HttpResponse& r, const std::string& field) {
    EXPECT_EQ(r.status, 400) << field << ": " << r.body;
    if (r.status != 400) return;
    json::value e = json::parse(r.body).at("error");
    ASSERT_TRUE(e.as_object().contains("field")) << r.body;
    EXPECT_EQ(e.at("field").as_string(), field) << r.body;
  };
  expect_400(Call("GET", "/v1/entries/" + huge, "auditor"), "index");
  expect_400(Call("GET", "/v1/proofs/inclusion?index=" + huge + "&size=2", "auditor"), "index");
  expect_400(Call("GET", "/v1/proofs/inclusion?index=1&size=" + huge, "auditor"), "size");
  expect_400(Call("GET", "/v1/proofs/consistency?old=" + huge + "&size=2", "auditor"), "old");
  expect_400(Call("GET", "/v1/proofs/consistency?old=1&size=-2", "auditor"), "size");
  expect_400(Call("GET", "/v1/disclosures/" + huge, "public"), "index");
  expect_400(Call("GET", "/v1/disclosures/" + huge + "/evidence", "public"), "index");
  expect_400(Call("GET", "/disclosures/" + huge, "public"), "index");
  expect_400(Call("GET", "/v1/balances?fund_id=F-SUBSIDY&as_of=" + huge, "auditor"), "as_of");

  auto appropriation = [&](const std::string& amount) {
    return Call("POST", "/v1/appropriations", "maker",
                R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":)" + amount +
                    R"(,"source":"treasury","document":"d"})");
  };
  for (const std::string& amount : {huge, std::string("1.5"), std::string("1e3"),
                                    std::string("9223372036854775808"), std::string("true")}) {
    expect_400(appropriation(amount), "amount_fen");
  }
  auto disclosure = [&](const std::string& extra) {
    return Call("POST", "/v1/disclosures", "admin",
                R"({"scope":"fund","id":"F-SUNSHINE","period":"2026")" + extra + "}");
  };
  expect_400(disclosure(R"(,"corrects_index":)" + huge), "corrects_index");
  expect_400(disclosure(R"(,"corrects_index":-1)"), "corrects_index");
  expect_400(disclosure(R"(,"corrects_index":"5")"), "corrects_index");
  expect_400(disclosure(R"(,"include_recipients":"yes")"), "include_recipients");
  expect_400(Call("POST", "/v1/disclosures", "admin", R"({"scope":5})"), "scope");
  expect_400(disclosure(R"(,"schedule_item":["annual"])"), "schedule_item");
  expect_400(Call("POST", "/v1/beneficiaries", "maker", R"({"person":"x"})"), "person");
  expect_400(Call("POST", "/v1/beneficiaries", "maker", R"({"person":{"name":5}})"), "person.name");
  expect_400(
      Call("POST", "/v1/disbursement-batches/ROLL-2025-01/reject", "checker", R"({"reason":7})"),
      "reason");
  // A tile index whose first entry (index x 256) does not fit 64 bits is beyond the log, not
  // a wrapped-around tile 0.
  EXPECT_EQ(Call("GET", "/tlog/tile/0/x072/x057/x594/x037/x927/936", "auditor").status, 404);
  EXPECT_EQ(Call("GET", "/tlog/tile/entries/x072/x057/x594/x037/x927/936", "auditor").status, 404);
}

// Every response says the log size it reflects (HttpResponse::log_size, sent as the
// Fundledger-Log-Size header): a read's DomainState::next_index, the tree size a proof was
// computed at, the size a checkpoint signs, the log size after a command's commit.
TEST_F(ServiceTest, EveryResponseSaysTheLogSizeItReflects) {
  const uint64_t size = ledger_->log().size();
  auto log_size = [&](const HttpResponse& r) -> uint64_t {
    EXPECT_TRUE(r.log_size.has_value()) << r.status << " " << r.body;
    return r.log_size.value_or(0);
  };
  for (const char* target :
       {"/v1/funds", "/v1/funds/F-SUNSHINE", "/v1/balances?fund_id=F-SUNSHINE&as_of=3",
        "/v1/beneficiaries/B000001", "/v1/disbursement-batches/ROLL-2025-01", "/v1/entries/1",
        "/v1/key", "/v1/disclosures", "/v1/open-data/iati", "/v1/open-data/360giving",
        "/tlog/tile/0/000.p/2", "/", "/metrics", "/healthz", "/v1/openapi.json", "/v1/funds/NOPE",
        "/v1/nothing"}) {
    EXPECT_EQ(log_size(Call("GET", target, "auditor")), size) << target;
  }
  EXPECT_EQ(log_size(Call("GET", "/v1/funds", "")), size);  // 401
  EXPECT_EQ(log_size(Call("GET", "/v1/proofs/inclusion?index=1&size=2", "auditor")), 2u);
  EXPECT_EQ(log_size(Call("GET", "/v1/proofs/consistency?old=1&size=3", "auditor")), 3u);
  HttpResponse note = Call("GET", "/v1/checkpoint", "");
  Result<Checkpoint> cp = OpenCheckpoint(note.body, ledger_->log().verifier());
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(log_size(note), cp->size);

  HttpResponse posted = Call(
      "POST", "/v1/appropriations", "maker",
      R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":100,"source":"treasury","document":"d"})");
  ASSERT_EQ(posted.status, 201) << posted.body;
  json::object body = json::parse(posted.body).as_object();
  EXPECT_EQ(log_size(posted), size + 1);
  EXPECT_EQ(body.at("log_size").to_number<uint64_t>(), size + 1);
  EXPECT_EQ(body.at("first_index").to_number<uint64_t>() + body.at("count").to_number<uint64_t>(),
            size + 1);
  EXPECT_EQ(log_size(Call("GET", "/v1/funds", "auditor")), size + 1);
}

TEST_F(ServiceTest, RegistrationKeepsPersonalDataOutOfTheEntry) {
  std::string body =
      R"({"beneficiary_id":"B-NEW","household_id":"H-NEW","region_code":"320102","birth_month":195005,
    "registered_date":20250301,"person":{"name":"周小梅","id_number":")" +
      MakeIdNumber("320102", 19500512, 7) +
      R"(","bank_account":"6217000011112222","phone":"13900001111"}})";
  HttpResponse r = Call("POST", "/v1/beneficiaries", "maker", body);
  ASSERT_EQ(r.status, 201) << r.body;
  uint64_t index = json::parse(r.body).at("first_index").to_number<uint64_t>();
  HttpResponse entry = Call("GET", "/v1/entries/" + std::to_string(index), "auditor");
  ASSERT_EQ(entry.status, 200);
  EXPECT_EQ(entry.body.find("周小梅"), std::string::npos);
  EXPECT_EQ(entry.body.find("6217000011112222"), std::string::npos);
  EXPECT_EQ(entry.body.find("13900001111"), std::string::npos);
  EXPECT_NE(entry.body.find("B-NEW"), std::string::npos);
  EXPECT_EQ(ledger_->ReadPersonalData("B-NEW")->name, "周小梅");
  HttpResponse no_person =
      Call("POST", "/v1/beneficiaries", "maker", R"({"beneficiary_id":"B-X"})");
  EXPECT_EQ(no_person.status, 400);
}

TEST_F(ServiceTest, TheConsoleServesEveryFileOfWebConsoleAndNothingElse) {
  HttpResponse page = Call("GET", "/console", "");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("/console/console.js"), std::string::npos);
  HttpResponse script = Call("GET", "/console/console.js", "");
  ASSERT_EQ(script.status, 200);
  EXPECT_EQ(script.content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(script.body.find("FLConsole"), std::string::npos);
  HttpResponse missing = Call("GET", "/console/no-such-file.js", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("no-such-file.js"), std::string::npos);
}

TEST_F(ServiceTest, TilesServeTheTreeAndTheEntries) {
  Submission memos;
  for (int i = 0; i < 200; ++i)
    memos.entries.push_back(MemoEntry("bank file " + std::to_string(i)));
  ASSERT_TRUE(ledger_->log().Append(std::move(memos)).ok());
  uint64_t size = ledger_->log().size();
  ASSERT_GE(size, 256u);
  HttpResponse tile = Call("GET", "/tlog/tile/0/000", "auditor");
  ASSERT_EQ(tile.status, 200);
  ASSERT_EQ(tile.body.size(), 256 * kHashBytes);
  for (uint64_t i = 0; i < 256; i += 51) {
    EXPECT_EQ(std::memcmp(tile.body.data() + i * 32, ledger_->log().ReadNode(0, i)->data(), 32), 0);
  }
  HttpResponse bundle = Call("GET", "/tlog/tile/entries/000", "auditor");
  ASSERT_EQ(bundle.status, 200);
  size_t off = 0;
  for (uint64_t i = 0; i < 256; ++i) {
    size_t len =
        static_cast<uint8_t>(bundle.body[off]) << 8 | static_cast<uint8_t>(bundle.body[off + 1]);
    Bytes stored = *ledger_->log().ReadEntry(i);
    ASSERT_EQ(len, stored.size());
    EXPECT_EQ(std::memcmp(bundle.body.data() + off + 2, stored.data(), len), 0);
    off += 2 + len;
  }
  EXPECT_EQ(off, bundle.body.size());
  EXPECT_EQ(Call("GET", "/tlog/tile/0/x999/999", "auditor").status, 404);
  EXPECT_EQ(Call("GET", "/tlog/tile/0/000.p/0", "auditor").status, 400);
}

}  // namespace
}  // namespace fundledger::testing

namespace fundledger::testing {
namespace {

// Issue 17 #7: `"amount_fen": 1` in the body with `?amount_fen=500000` stored 500000. A field
// has one place: a command's body (or its path); anything given twice is a 400.
TEST_F(ServiceTest, AFieldGivenTwiceIsRefusedNeverOverridden) {
  const uint64_t size = ledger_->log().size();
  const std::string body =
      R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":1,"source":"treasury","document":"d"})";
  for (const std::string target :
       {"/v1/appropriations?amount_fen=500000", "/v1/appropriations?fund_id=F-LOTTERY",
        "/v1/appropriations?note=x"}) {
    HttpResponse r = Call("POST", target, "maker", body);
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    EXPECT_NE(r.body.find("goes in the JSON body"), std::string::npos) << r.body;
  }
  HttpResponse r = Call("POST", "/v1/funds/F-SUNSHINE/close", "admin", R"({"fund_id":"F-OTHER"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("\"field\":\"fund_id\""), std::string::npos) << r.body;
  r = Call("GET", "/v1/balances?fund_id=F-SUBSIDY&fund_id=F-LOTTERY", "auditor");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("given twice"), std::string::npos) << r.body;
  r = Call("GET", "/v1/funds/F-SUBSIDY?fund_id=F-LOTTERY", "auditor");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ledger_->log().size(), size) << "nothing appended";
  r = Call("POST", "/v1/appropriations", "maker", body);  // and given once, it posts 1 fen
  EXPECT_EQ(r.status, 201) << r.body;
}

// Issue 17 #8: percent-encoded query values and path segments mean what they encode.
TEST_F(ServiceTest, QueryValuesAndPathSegmentsArePercentDecoded) {
  HttpResponse plain =
      Call("GET", "/v1/balances?fund_id=F-SUBSIDY&as_of=2999-12-06T05:16:50Z", "auditor");
  ASSERT_EQ(plain.status, 200) << plain.body;
  HttpResponse encoded =
      Call("GET", "/v1/balances?fund_id=F%2DSUBSIDY&as_of=2999-12-06T05%3A16%3A50Z", "auditor");
  EXPECT_EQ(encoded.status, 200) << encoded.body;
  EXPECT_EQ(encoded.body, plain.body);
  HttpResponse fund = Call("GET", "/v1/funds/F%2DSUBSIDY", "auditor");
  EXPECT_EQ(fund.status, 200) << fund.body;
  EXPECT_EQ(fund.body, Call("GET", "/v1/funds/F-SUBSIDY", "auditor").body);
  HttpResponse bad = Call("GET", "/v1/balances?fund_id=F%ZZ", "auditor");
  EXPECT_EQ(bad.status, 400) << bad.body;
}

}  // namespace
}  // namespace fundledger::testing

namespace fundledger::testing {
namespace {

// Issue 17 #9: command bodies are JSON by RFC 8259 and nothing looser.
TEST_F(ServiceTest, CommandBodiesAreStrictJson) {
  const uint64_t size = ledger_->log().size();
  const std::string head = R"({"fund_id":"F-SUBSIDY","bucket":"general","source":"treasury",)"
                           R"("document":"d",)";
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"a comment", head + R"(/* one fen */ "amount_fen":1})"},
      {"a line comment", head + "\"amount_fen\":1 // fen\n}"},
      {"a quoted number", head + R"("amount_fen":"500000"})"},
      {"a hex number", head + R"("amount_fen":0x7A120})"},
      {"a trailing comma", head + R"("amount_fen":1,})"},
      {"a second value", head + R"("amount_fen":1} {"amount_fen":500000})"},
      {"bytes after a NUL", head + R"("amount_fen":1})" + std::string(1, '\0') + "garbage"},
      {"a raw NUL in a string",
       R"({"fund_id":"F-SUBSIDY","bucket":"general","source":"treasury","document":"d)" +
           std::string(1, '\0') + R"(x","amount_fen":1})"},
      {"a boolean as a number", head + R"("amount_fen":true})"},
  };
  for (const auto& [what, body] : bodies) {
    HttpResponse r = Call("POST", "/v1/appropriations", "maker", body);
    EXPECT_EQ(r.status, 400) << what << ": " << r.body;
  }
  EXPECT_EQ(ledger_->log().size(), size) << "nothing appended";
  HttpResponse ok = Call("POST", "/v1/appropriations", "maker", head + R"("amount_fen":1})");
  EXPECT_EQ(ok.status, 201) << ok.body;
}

// A signing ledger over HTTP: the Fundledger-Signature header over method, target and body.
TEST_F(ServiceTest, ASigningLedgerTakesOnlyCommandsSignedOverTheirRequest) {
  RequestSigner maker{ledger_->log().origin(), "t.maker", fb::Role::maker};
  Ed25519PrivateKey k = Ed25519PrivateKey::Generate();
  auto admin_key =
      std::make_shared<const ActorSigningKey>(ActorSigningKey{ActorKeyId(k.public_key()), k});
  Actor admin{"admin.zhao", fb::Role::admin};  // the demo's admin, whose key the demo registered
  admin.key = DemoStaffKey(DemoOptions{}.seed, "admin.zhao");
  ASSERT_TRUE(
      ledger_
          ->RegisterKey(admin, "k1", "t.admin", {fb::Role::admin}, admin_key->key.public_key(), "d")
          .ok());
  ASSERT_TRUE(
      ledger_->RegisterKey(admin, "k2", "t.maker", {fb::Role::maker}, maker.key.public_key(), "d")
          .ok());
  ASSERT_TRUE(ledger_->RequireSigning(admin, "on", "d").ok());

  const std::string target = "/v1/appropriations";
  const std::string body =
      R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":100,"source":"treasury","document":"d"})";
  auto post = [&](const std::string& key, const std::string& sent, const std::string& header) {
    HttpRequest r;
    r.method = "POST";
    r.target = target;
    r.authorization = "Bearer " + token_.at("maker");
    r.idempotency_key = key;
    r.body = sent;
    r.signature = header;
    return service_->Handle(r);
  };
  HttpResponse unsigned_post = post("a1", body, "");
  EXPECT_EQ(unsigned_post.status, 422);
  EXPECT_NE(unsigned_post.body.find("signature_required"), std::string::npos) << unsigned_post.body;

  std::string header = maker.Header(fb::EventType::Appropriated, "a2", "POST", target, body);
  std::string altered = body;
  altered.replace(altered.find("100"), 3, "900");
  HttpResponse changed = post("a2", altered, header);
  EXPECT_EQ(changed.status, 422);
  EXPECT_NE(changed.body.find("bad_signature"), std::string::npos) << changed.body;
  EXPECT_EQ(post("a3", body, header).status, 422) << "the idempotency key is signed too";
  EXPECT_EQ(post("a2", body, "not-a-signature").status, 400);

  HttpResponse ok = post("a2", body, header);
  EXPECT_EQ(ok.status, 201) << ok.body;
  ASSERT_TRUE(ledger_->Close().ok());
  Result<std::unique_ptr<Log>> log = Log::Open(dir_, ReadOnlyLog());
  ASSERT_TRUE(log.ok());
  VerifyReport verified = VerifyChain(**log, {});
  EXPECT_TRUE(verified.valid) << verified.bad_index << ": " << verified.reason;
  log->reset();
  Reopen();
}

// Every money field takes yuan as a decimal string beside fen; one field given both ways, or a
// yuan amount that is not exact, is a 400 naming it. The OpenAPI document says so per field.
TEST_F(ServiceTest, AmountsAreTakenInYuanBesideFen) {
  auto fund_total = [&] {
    return json::serialize(json::parse(Call("GET", "/v1/funds/F-SUBSIDY", "admin").body));
  };
  const std::string before = fund_total();
  HttpResponse yuan = Call("POST", "/v1/appropriations", "admin",
                           R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_yuan":"1045.50",)"
                           R"("source":"treasury","document":"d"})");
  ASSERT_EQ(yuan.status, 201) << yuan.body;
  uint64_t index = json::parse(yuan.body).at("first_index").to_number<uint64_t>();
  HttpResponse entry = Call("GET", "/v1/entries/" + std::to_string(index), "admin");
  EXPECT_NE(entry.body.find("\"amount_fen\":104550"), std::string::npos) << entry.body;
  EXPECT_NE(fund_total(), before);

  HttpResponse both = Call("POST", "/v1/appropriations", "admin",
                           R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_yuan":"1.00",)"
                           R"("amount_fen":100,"source":"treasury","document":"d"})");
  EXPECT_EQ(both.status, 400) << both.body;
  EXPECT_EQ(json::parse(both.body).at("error").at("field").as_string(), "amount_yuan");
  for (const char* bad : {R"("1045.505")", R"("1,045")", "1045", R"("-3")"}) {
    HttpResponse r =
        Call("POST", "/v1/appropriations", "admin",
             std::string(R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_yuan":)") + bad +
                 R"(,"source":"treasury","document":"d"})");
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
  }
  json::object doc = json::parse(service_->OpenApiJson()).as_object();
  json::object schema = doc.at("paths")
                            .at("/v1/appropriations")
                            .at("post")
                            .at("requestBody")
                            .at("content")
                            .at("application/json")
                            .at("schema")
                            .as_object();
  EXPECT_EQ(schema.at("properties").at("amount_fen").at("type").as_string(), "integer");
  EXPECT_EQ(schema.at("properties").at("amount_yuan").at("type").as_string(), "string");
}

// Every message in one language: a request preferring zh gets Chinese sentences (codes
// unchanged), with no English inside, fields by their Chinese names; every rule has one.
TEST_F(ServiceTest, ErrorMessagesAreChineseWhenTheRequestPrefersZh) {
  for (const RuleCodeInfo& rule : kRuleCodes) {
    EXPECT_FALSE(ChineseSentence(rule.name, "").empty()) << rule.name << " has no Chinese sentence";
  }
  auto latin = [](std::string_view s) {
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
  };
  auto zh = [&](const std::string& method, const std::string& target, const std::string& role,
                const std::string& body) {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.authorization = "Bearer " + token_.at(role);
    r.idempotency_key = "zh-" + std::to_string(++calls_);
    r.accept_language = "zh-CN,zh;q=0.9,en;q=0.8";
    r.body = body;
    HttpResponse response = service_->Handle(r);
    return json::parse(response.body).at("error").as_object();
  };
  json::object denied = zh("POST", "/v1/funds", "maker", "{}");
  EXPECT_EQ(denied.at("code").as_string(), "permission_denied");
  EXPECT_FALSE(latin(denied.at("message").as_string())) << denied.at("message").as_string();
  json::object rejected =
      zh("POST", "/v1/disbursement-batches?fund_id=F-SUBSIDY&period=2025-03", "admin",
         "beneficiary_id,program_id,amount\nNOBODY,dibao,1\nB000001,dibao,x\n");
  for (const json::value& d : rejected.at("details").as_array()) {
    EXPECT_FALSE(latin(d.at("message").as_string())) << d.at("message").as_string();
  }
  EXPECT_FALSE(latin(rejected.at("message").as_string())) << rejected.at("message").as_string();
  json::object bad_field =
      zh("POST", "/v1/actor-keys", "admin", R"({"actor":"x.y","public_key":"??"})");
  EXPECT_EQ(bad_field.at("field").as_string(), "public_key");
  EXPECT_NE(bad_field.at("message").as_string().find("公钥"), json::string::npos);
  EXPECT_EQ(LocalizedMessage(InvalidArgument("x").WithField("amount"), Language::kEn), "x");
}

// The demo city's staff sign every command, so with signing required its log verifies as a
// signed ledger, every entry after the switch signed.
TEST(DemoCity, IsASignedLedgerWhoseEverySignatureVerifies) {
  TempDir tmp;
  Projections projections;
  LedgerOptions options;
  options.observers = {&projections};
  Result<std::unique_ptr<Ledger>> ledger =
      Ledger::Create(tmp.Sub("demo"), "demo.fundledger.local", options);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  DemoOptions demo;
  demo.people = 40;
  demo.months = 2;
  demo.require_signing = true;
  Result<DemoSummary> city = GenerateDemoCity(**ledger, demo);
  ASSERT_TRUE(city.ok()) << city.status().ToString();
  EXPECT_EQ(city->keys.size(), 5u);
  Result<AppendResult> unsigned_post =
      (*ledger)->Submit(Actor{"clerk.li", fb::Role::maker}, "u",
                        {Appropriation("F-SUBSIDY", "general", 1, "treasury", "d")});
  ASSERT_FALSE(unsigned_post.ok());
  EXPECT_EQ(unsigned_post.status().rule(), "signature_required");
  VerifyReport r = VerifyChain((*ledger)->log(), {});
  EXPECT_TRUE(r.valid) << r.bad_index << ": " << r.reason;
  ASSERT_TRUE(r.signing_required_from.has_value());
  EXPECT_EQ(*r.signing_required_from, 7u);  // after the genesis, five keys and the switch
  EXPECT_GT(r.signed_commands, 10u);
}

}  // namespace
}  // namespace fundledger::testing
