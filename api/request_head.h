// RequestHead: the checks a request's head passes before anything else happens to it, shared
// by the server (http_server.cc) and the HTTP fuzzer so both see the same rules.
//
// The server reads a request in three steps: the raw head bytes up to the blank line
// (ScanRequestHead: request line, CRLF line ends, size), Beast's parse of the header fields
// followed by CheckFraming (what Beast lets through but RFC 9112 calls request smuggling), and
// only then, with a limit chosen by who is calling (Service::MayCall), the body. A head that
// fails a check is answered 400 (413 when too large) and the connection closed.
//
// Refused: a request line other than `METHOD SP target SP HTTP/1.0|1.1 CRLF` (garbage,
// HTTP/0.9's `GET /`, HTTP/2's preface), a line ending in a bare LF, a control character other
// than tab, Content-Length given twice (even with one value) or as a list, Content-Length
// together with Transfer-Encoding, and any transfer coding but `chunked`.
//
//   HeadScan scan = ScanRequestHead(bytes_so_far, options.header_bytes_max);
//   if (scan.kind == HeadScan::kIncomplete) { /* read more */ }
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "crypto/status.h"

namespace fundledger {

struct HeadScan {
  enum Kind { kIncomplete, kComplete, kMalformed, kTooLarge };
  Kind kind = kIncomplete;
  size_t head_bytes = 0;  // kComplete: the head's length, its blank line included
  std::string reason;     // kMalformed: what is wrong, for the 400's message
};

// Looks at the bytes received so far on a connection (which may hold more than one request).
HeadScan ScanRequestHead(std::string_view bytes, size_t header_bytes_max);

// After Beast parsed the header: Content-Length given twice or as a list, Content-Length with
// Transfer-Encoding, or a transfer coding other than chunked is InvalidArgument.
Status CheckFraming(const boost::beast::http::request_header<>& header);

}  // namespace fundledger
