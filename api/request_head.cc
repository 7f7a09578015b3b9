#include "api/request_head.h"

#include <boost/beast/core/string.hpp>

namespace fundledger {
namespace http = boost::beast::http;
namespace {

constexpr size_t kMethodBytesMax = 16;

bool IsTokenChar(char c) {  // RFC 9110 tchar
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// "" when `line` (without its CRLF) is a request line this server takes, else why not.
std::string CheckRequestLine(std::string_view line) {
  size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos || sp1 > kMethodBytesMax)
    return "the request line is not METHOD TARGET HTTP/1.1";
  for (char c : line.substr(0, sp1)) {
    if (!IsTokenChar(c)) return "the request method is not a token";
  }
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos)
    return "the request line has no HTTP version (HTTP/0.9 is not served)";
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty()) return "the request target is empty";
  for (char c : target) {
    if (c <= ' ' || c == 0x7f) return "the request target holds a space or control character";
  }
  std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return "the HTTP version is not HTTP/1.0 or HTTP/1.1";
  return "";
}

}  // namespace

HeadScan ScanRequestHead(std::string_view bytes, size_t header_bytes_max) {
  const size_t scan = std::min(bytes.size(), header_bytes_max);
  for (size_t i = 0; i < scan; ++i) {
    const char c = bytes[i];
    if (c == '\n') {
      if (i == 0 || bytes[i - 1] != '\r')
        return {HeadScan::kMalformed, 0, "a line ends in a bare LF; HTTP needs CRLF"};
      size_t line_start = bytes.rfind('\n', i - 1);
      if (line_start == std::string_view::npos) {  // the request line
        std::string why = CheckRequestLine(bytes.substr(0, i - 1));
        if (!why.empty()) return {HeadScan::kMalformed, 0, std::move(why)};
      } else if (line_start == i - 2) {  // an empty line: the end of the head
        return {HeadScan::kComplete, i + 1, ""};
      }
    } else if (c == '\r') {
      if (i + 1 < bytes.size() && bytes[i + 1] != '\n')
        return {HeadScan::kMalformed, 0, "a bare CR in the request head"};
    } else if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
      return {HeadScan::kMalformed, 0, "a control character in the request head"};
    }
  }
  if (bytes.size() >= header_bytes_max) return {HeadScan::kTooLarge, 0, ""};
  return {HeadScan::kIncomplete, 0, ""};
}

Status CheckFraming(const http::request_header<>& header) {
  auto lengths = header.equal_range(http::field::content_length);
  size_t length_fields = static_cast<size_t>(std::distance(lengths.first, lengths.second));
  if (length_fields > 1 ||
      (length_fields == 1 && lengths.first->value().find(',') != std::string_view::npos)) {
    return InvalidArgument("Content-Length is given more than once").WithField("Content-Length");
  }
  auto codings = header.equal_range(http::field::transfer_encoding);
  if (codings.first == codings.second) return Status::Ok();
  if (length_fields > 0) {
    return InvalidArgument("a request may not carry both Content-Length and Transfer-Encoding")
        .WithField("Transfer-Encoding");
  }
  if (std::next(codings.first) != codings.second ||
      !boost::beast::iequals(codings.first->value(), "chunked")) {
    return InvalidArgument("the only transfer coding taken is chunked")
        .WithField("Transfer-Encoding");
  }
  return Status::Ok();
}

}  // namespace fundledger
