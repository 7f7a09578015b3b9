// HttpWitnessTransport: the WitnessTransport (witness/witness_client.h) over HTTP and HTTPS with
// Boost.Beast, for the ledger asking witnesses to cosign its checkpoints.
//
// One request per call on a fresh connection (a checkpoint is submitted at most a few times a
// second, so keeping connections buys nothing), bounded in time as a whole; HTTPS verifies
// the witness's certificate against the system's trust store and its host name (SNI too).
// Any HTTP status is an answer; only a failure to get one (a bad URL, DNS, refused, timeout,
// TLS) is an error, kIoError, naming the URL.
//
// Thread safety: Post may be called from several threads at once.
//
//   HttpWitnessTransport transport({});
//   WitnessClient client({witness_key, "https://witness.example/w"}, &transport);
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "witness/witness_client.h"

namespace fundledger {

struct HttpWitnessTransportOptions {
  std::chrono::milliseconds timeout{10'000};  // connect, send and read together
  size_t answer_bytes_max = 64 * 1024;        // a cosignature is one short line
};

class HttpWitnessTransport final : public WitnessTransport {
 public:
  explicit HttpWitnessTransport(HttpWitnessTransportOptions options) : options_(options) {}
  Result<WitnessAnswer> Post(const std::string& url, std::string_view body) override;

 private:
  HttpWitnessTransportOptions options_;
};

}  // namespace fundledger
