// WitnessService: a witness (witness/witness.h) over HTTP, for `fundledger witness serve`.
//
//   POST /add-checkpoint             C2SP tlog-witness add-checkpoint; the answers the spec
//                                    defines (witness/witness_protocol.h)
//   GET  /<origin hash>/checkpoint   the latest checkpoint it cosigned for that log (hex
//                                    SHA-256 of the origin line), for monitors; 404 before one
//   GET  /key                        its cosignature/v1 verifier key, one line
//   GET  /healthz                    200 "ok"
//
// No tokens: anyone may submit (a request is only cosigned when signed by a log the witness
// is configured for), and the server's small public body limit (64 KiB) is exactly the
// witness's own (kAddCheckpointBodyBytesMax). Thread safety: as Witness, any thread.
#pragma once

#include "api/http_message.h"
#include "witness/witness.h"

namespace fundledger {

class WitnessService final : public HttpHandler {
 public:
  explicit WitnessService(Witness& witness) : witness_(witness) {}

  bool Authorized(const HttpRequest&) override { return false; }
  HttpResponse Handle(const HttpRequest& request) override;
  std::optional<uint64_t> served_log_size() const override { return std::nullopt; }

 private:
  Witness& witness_;
};

}  // namespace fundledger
