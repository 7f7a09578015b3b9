#include "api/witness_service.h"

#include <string_view>

namespace fundledger {
namespace {

constexpr size_t kOriginHashHexChars = 64;

HttpResponse FromAnswer(WitnessAnswer answer) {
  HttpResponse r;
  r.status = answer.status;
  r.content_type =
      answer.content_type.empty() ? std::string(kTextContentType) : std::move(answer.content_type);
  r.body = std::move(answer.body);
  r.cache_control = "no-store";
  return r;
}

HttpResponse WrongMethod(std::string allow) {
  HttpResponse r = ErrorResponse(Status(StatusCode::kInvalidArgument, "use " + allow));
  r.status = 405;
  r.allow = std::move(allow);
  return r;
}

// The origin hash of "/<64 lowercase hex>/checkpoint", or empty.
std::string_view OriginHashOf(std::string_view path) {
  constexpr std::string_view kSuffix = "/checkpoint";
  if (path.size() != 1 + kOriginHashHexChars + kSuffix.size() || path[0] != '/' ||
      path.substr(1 + kOriginHashHexChars) != kSuffix) {
    return {};
  }
  std::string_view hex = path.substr(1, kOriginHashHexChars);
  if (hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) return {};
  return hex;
}

}  // namespace

HttpResponse WitnessService::Handle(const HttpRequest& request) {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  if (path == kAddCheckpointPath) {
    if (request.method != "POST") return WrongMethod("POST");
    return FromAnswer(witness_.AddCheckpoint(request.body));
  }
  bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/key") {
    if (!get) return WrongMethod("GET");
    return TextResponse(200, witness_.VerifierKey() + "\n");
  }
  if (path == "/healthz") {
    if (!get) return WrongMethod("GET");
    return TextResponse(200, "ok\n");
  }
  if (std::string_view hash = OriginHashOf(path); !hash.empty()) {
    if (!get) return WrongMethod("GET");
    return FromAnswer(witness_.LatestCheckpoint(hash));
  }
  return ErrorResponse(
      NotFound("no such path: a witness answers POST /add-checkpoint, GET "
               "/<origin hash>/checkpoint, /key and /healthz"));
}

}  // namespace fundledger
