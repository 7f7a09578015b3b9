#include "api/http_message.h"

#include <boost/json.hpp>

namespace fundledger {
namespace json = boost::json;
namespace {

json::object StatusJson(const Status& s) {
  json::object e;
  e["code"] = s.rule().empty() ? std::string(StatusCodeName(s.code())) : s.rule();
  e["message"] = s.message();
  if (!s.field().empty()) e["field"] = s.field();
  if (s.line() != 0) e["line"] = s.line();
  return e;
}

}  // namespace

HttpResponse JsonResponse(int status, std::string json) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(json);
  return r;
}

HttpResponse TextResponse(int status, std::string body, std::string content_type) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
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

}  // namespace fundledger
