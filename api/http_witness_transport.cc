#include "api/http_witness_transport.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <optional>

namespace fundledger {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Target {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;  // with the query, never empty
};

Result<Target> ParseTarget(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return InvalidArgument("witness URL '" + url + "' is not a URL");
  Target t;
  std::string scheme(parsed->scheme());
  if (scheme == "https") {
    t.tls = true;
  } else if (scheme != "http") {
    return InvalidArgument("witness URL '" + url + "' is neither http nor https");
  }
  t.host = std::string(parsed->encoded_host());
  if (t.host.empty()) return InvalidArgument("witness URL '" + url + "' names no host");
  t.port = parsed->has_port() ? std::string(parsed->port()) : (t.tls ? "443" : "80");
  t.path = std::string(parsed->encoded_path());
  if (t.path.empty()) t.path = "/";
  if (parsed->has_query()) t.path += "?" + std::string(parsed->encoded_query());
  return t;
}

http::request<http::string_body> MakeRequest(const Target& t, std::string_view body) {
  http::request<http::string_body> req{http::verb::post, t.path, 11};
  req.set(http::field::host, t.host);
  req.set(http::field::user_agent, "fundledger");
  req.set(http::field::content_type, "text/plain; charset=utf-8");
  req.body() = std::string(body);
  req.prepare_payload();
  return req;
}

WitnessAnswer AnswerOf(http::response<http::string_body>& res) {
  WitnessAnswer a;
  a.status = static_cast<int>(res.result_int());
  a.content_type = std::string(res[http::field::content_type]);
  a.body = std::move(res.body());
  return a;
}

}  // namespace

Result<WitnessAnswer> HttpWitnessTransport::Post(const std::string& url, std::string_view body) {
  FL_ASSIGN_OR_RETURN(Target t, ParseTarget(url));
  asio::io_context io;
  beast::error_code ec;
  auto failed = [&](std::string_view step) {
    return Status(StatusCode::kIoError,
                  "witness " + url + ": " + std::string(step) + ": " + ec.message());
  };
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(t.host, t.port, ec);
  if (ec) return failed("resolving");
  http::response_parser<http::string_body> parser;
  parser.body_limit(options_.answer_bytes_max);
  beast::flat_buffer buffer;
  http::request<http::string_body> req = MakeRequest(t, body);
  // One deadline for the whole exchange: beast's tcp_stream enforces it on each operation
  // from the time it was set.
  auto exchange = [&](auto& stream, beast::tcp_stream& tcp_layer) -> Status {
    tcp_layer.expires_after(options_.timeout);
    tcp_layer.connect(endpoints, ec);
    if (ec) return failed("connecting");
    if constexpr (!std::is_same_v<std::decay_t<decltype(stream)>, beast::tcp_stream>) {
      if (!SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str())) {
        ec =
            beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
        return failed("TLS server name");
      }
      stream.set_verify_callback(asio::ssl::host_name_verification(t.host));
      stream.handshake(asio::ssl::stream_base::client, ec);
      if (ec) return failed("TLS handshake");
    }
    http::write(stream, req, ec);
    if (ec) return failed("sending");
    http::read(stream, buffer, parser, ec);
    if (ec) return failed("reading the answer");
    return Status::Ok();
  };
  if (t.tls) {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths(ec);
    if (ec) return failed("loading the system's certificates");
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    FL_RETURN_IF_ERROR(exchange(stream, beast::get_lowest_layer(stream)));
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  } else {
    beast::tcp_stream stream(io);
    FL_RETURN_IF_ERROR(exchange(stream, stream));
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  }
  http::response<http::string_body> res = parser.release();
  return AnswerOf(res);
}

}  // namespace fundledger
