#include <boost/json.hpp>

#include "api/service.h"

namespace fundledger {
namespace json = boost::json;

HttpResponse Service::OpenApi(Context&) { return JsonResponse(200, OpenApiJson()); }

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
    json::object& methods = ops.is_object() ? *ops.if_object() : ops.emplace_object();
    methods[method] = std::move(op);
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
