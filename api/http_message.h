// HttpRequest and HttpResponse: an HTTP exchange as the Service sees it, independent of
// sockets (the Beast server converts to and from these; tests build them directly), and the
// one shape of every JSON and error response.
//
// Errors have one shape, written only by ErrorResponse:
//   {"error": {"code", "message", "field"?, "line"?, "details"?:
//   [{"code","message","field","line"}]}}
// `code` is the rule code (ledger/rule_code.h) for a rule violation (422), else the status
// code's name; the HTTP status comes from the Status code (crypto/status.h HttpStatusFor).
//
// Every response of the service says the log size it reflects (kLogSizeHeader): the number
// of durable entries its answer was computed from. Plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "crypto/status.h"

namespace fundledger {

// The response header that carries HttpResponse::log_size.
inline constexpr const char* kLogSizeHeader = "Fundledger-Log-Size";

struct HttpRequest {
  std::string method;  // "GET", "POST"
  std::string target;  // path and query
  std::string authorization;
  std::string idempotency_key;
  std::string content_type;
  std::string accept_language;  // error messages in Chinese when it prefers zh (roll_report.h)
  std::string cookie;           // a console session (staff_sessions.h)
  std::string csrf_token;       // X-CSRF-Token: a session's POSTs echo its CSRF token
  std::string signature;  // the Fundledger-Signature header (a signed command: service_commands.cc)
  std::string body;
};

// The header carrying a command's signature: "<key id>:<base64 Ed25519 signature>", over the
// message of ledger/actor_keys.h with request "POST <path>" and the SHA-256 of the body.
inline constexpr std::string_view kSignatureHeader = "Fundledger-Signature";

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string cache_control;  // e.g. immutable for full tiles
  std::string allow;          // 405: the methods the path takes (RFC 9110 requires the header)
  std::string set_cookie;     // a console session started or ended
  // The log size the answer reflects (sent as kLogSizeHeader): for a read of the domain state
  // or projections, the DomainState::next_index of its Domain::Read; for a read of the log,
  // the size it was computed at; for a command, the log size after its commit.
  std::optional<uint64_t> log_size;
  std::string retry_after;  // seconds, for a 503 the client should retry
};

HttpResponse JsonResponse(int status, std::string json);
HttpResponse TextResponse(int status, std::string body,
                          std::string content_type = "text/plain; charset=utf-8");
HttpResponse ErrorResponse(const Status& status);

// What an HttpServer serves: the ledger's Service, or a witness (witness_service.h).
// Called from many threads at once.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Whether the head of a request (no body yet) may send the large body limit.
  virtual bool Authorized(const HttpRequest& head) = 0;
  virtual HttpResponse Handle(const HttpRequest& request) = 0;
  // The log size for answers the server makes itself (413, 503); nullopt: no header.
  virtual std::optional<uint64_t> served_log_size() const = 0;
};

}  // namespace fundledger
