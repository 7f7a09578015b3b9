#include "api/http_server.h"

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include "api/beast_request.h"
#include "api/connection_limiter.h"
#include "api/request_head.h"

namespace fundledger {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void CloseIfIdle() = 0;
};

class HttpServer::Impl {
 public:
  Impl(HttpHandler& service, ServerOptions options)
      : service_(service),
        options_(std::move(options)),
        limiter_(options_.connections_max, options_.connections_per_client_max),
        ioc_(options_.io_threads),
        acceptor_(ioc_),
        signals_(ioc_),
        handlers_(static_cast<size_t>(options_.handler_threads)),
        ssl_(ssl::context::tls_server),
        grace_timer_(ioc_),
        accept_timer_(ioc_) {}

  Result<uint16_t> Start();
  void Run();
  void Stop();

  // Called by sessions.
  bool stopping() const { return stopping_.load(); }
  HttpHandler& service() { return service_; }
  const ServerOptions& options() const { return options_; }
  net::thread_pool& handlers() { return handlers_; }
  bool EnterRequest() {
    if (in_flight_.fetch_add(1) >= options_.in_flight_max) {
      in_flight_.fetch_sub(1);
      return false;
    }
    return true;
  }
  void LeaveRequest() { in_flight_.fetch_sub(1); }
  void Register(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.push_back(s);
  }

 private:
  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  // Every accept error is retried, after a pause that doubles while errors go on (EMFILE and
  // ENFILE last until connections close; retrying at once would spin).
  void AcceptAfterError();
  // Answers a connection past a cap 503 and closes it, holding no descriptor afterwards.
  void RefuseConnection(tcp::socket socket, const Status& why);
  void BeginShutdown();
  void WaitForQuiet();
  size_t LiveSessions() {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.remove_if([](const std::weak_ptr<SessionBase>& w) { return w.expired(); });
    return sessions_.size();
  }

  HttpHandler& service_;
  ServerOptions options_;
  ConnectionLimiter limiter_;  // before ioc_: sessions release their slots as ioc_ goes away
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  net::thread_pool handlers_;
  ssl::context ssl_;
  bool tls_ = false;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  net::steady_timer grace_timer_;
  net::steady_timer accept_timer_;
  std::chrono::milliseconds accept_backoff_{0};
  static constexpr std::chrono::milliseconds kAcceptBackoffMin{1}, kAcceptBackoffMax{1000};
  std::chrono::steady_clock::time_point grace_deadline_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> in_flight_{0};
  std::mutex mu_;
  std::list<std::weak_ptr<SessionBase>> sessions_;
};

namespace {

// "Fundledger-Log-Size: N\r\n", or nothing for a handler that serves no log.
std::string LogSizeLine(std::optional<uint64_t> size) {
  return size ? std::string(kLogSizeHeader) + ": " + std::to_string(*size) + "\r\n" : "";
}

template <typename Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <typename... Args>
  Session(HttpServer::Impl& server, ConnectionLimiter::Slot slot, Args&&... args)
      : server_(server), slot_(std::move(slot)), stream_(std::forward<Args>(args)...) {}

  void Begin() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      net::dispatch(stream_.get_executor(),
                    beast::bind_front_handler(&Session::Read, this->shared_from_this()));
    } else {
      beast::get_lowest_layer(stream_).expires_after(server_.options().read_timeout);
      stream_.async_handshake(
          ssl::stream_base::server,
          beast::bind_front_handler(&Session::OnHandshake, this->shared_from_this()));
    }
  }

  void CloseIfIdle() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->idle_) beast::get_lowest_layer(self->stream_).socket().cancel();
    });
  }

 private:
  void OnHandshake(beast::error_code ec) {
    if (ec) return;
    Read();
  }

  // One request: the head's raw bytes (ScanRequestHead), Beast's parse of its fields
  // (CheckFraming), then the body within the caller's limit.
  void Read() {
    if (server_.stopping()) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.options().header_bytes_max));
    parser_->body_limit(server_.options().body_bytes_max);
    idle_ = true;
    head_started_ = false;
    beast::get_lowest_layer(stream_).expires_after(server_.options().read_timeout);  // idle
    ReadHead();
  }

  void ReadHead() {
    if (!head_started_ && buffer_.size() > 0) {  // a slow head holds a connection no longer
      head_started_ = true;
      beast::get_lowest_layer(stream_).expires_after(server_.options().header_timeout);
    }
    std::string_view bytes(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    HeadScan scan = ScanRequestHead(bytes, server_.options().header_bytes_max);
    switch (scan.kind) {
      case HeadScan::kMalformed:
        return Refuse(InvalidArgument("malformed HTTP request: " + scan.reason));
      case HeadScan::kTooLarge:
        return Refuse(TooLarge("the request headers are larger than " +
                               std::to_string(server_.options().header_bytes_max >> 10) + " KiB"));
      case HeadScan::kComplete:
        return http::async_read_header(
            stream_, buffer_, *parser_,
            beast::bind_front_handler(&Session::OnHeader, this->shared_from_this()));
      case HeadScan::kIncomplete:
        break;
    }
    stream_.async_read_some(buffer_.prepare(kHeadReadBytes), [self = this->shared_from_this()](
                                                                 beast::error_code ec, size_t n) {
      self->buffer_.commit(n);
      if (ec) return self->Close();  // closed, timed out or shut down before a request
      self->ReadHead();
    });
  }

  void OnHeader(beast::error_code ec, size_t) {
    idle_ = false;
    if (ec == http::error::header_limit)
      return Refuse(TooLarge("the request headers are too large"));
    if (ec == http::error::body_limit)
      return Refuse(BodyTooLarge(server_.options().body_bytes_max));
    if (ec) return Refuse(InvalidArgument("malformed HTTP request: " + ec.message()));
    if (Status framing = CheckFraming(parser_->get()); !framing.ok()) return Refuse(framing);
    // Only a caller whose token may call the route gets the large limit: no one else can make
    // the server buffer more than public_body_bytes_max.
    body_limit_ = server_.service().Authorized(FromBeastRequest(parser_->get()))
                      ? server_.options().body_bytes_max
                      : server_.options().public_body_bytes_max;
    if (auto length = parser_->content_length(); length && *length > body_limit_)
      return Refuse(BodyTooLarge(body_limit_));
    parser_->body_limit(body_limit_);
    beast::get_lowest_layer(stream_).expires_after(server_.options().read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, this->shared_from_this()));
  }

  static Status BodyTooLarge(size_t limit_bytes) {
    return TooLarge("the request body is larger than " +
                    (limit_bytes >= (size_t{1} << 20) ? std::to_string(limit_bytes >> 20) + " MiB"
                                                      : std::to_string(limit_bytes >> 10) + " KiB"))
        .WithField("body");
  }

  // Answers a request that cannot be taken and closes the connection, draining what the
  // client may still be sending so that it reads the answer.
  void Refuse(const Status& why) {
    idle_ = false;
    keep_alive_ = false;
    linger_ = true;
    Write(ErrorResponse(why), 11);
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout)
      return Close();
    if (ec == http::error::body_limit)
      return Refuse(BodyTooLarge(server_.options().body_bytes_max));
    if (ec) return Refuse(InvalidArgument("malformed HTTP request body: " + ec.message()));
    http::request<http::string_body> req = parser_->release();
    keep_alive_ = req.keep_alive();
    unsigned version = req.version();
    if (!server_.EnterRequest()) {
      return Write(ErrorResponse(Overloaded("too many requests in flight; retry shortly")),
                   version);
    }
    HttpRequest request = FromBeastRequest(std::move(req));
    net::post(server_.handlers(),
              [self = this->shared_from_this(), request = std::move(request), version]() mutable {
                HttpResponse response = self->server_.service().Handle(request);
                net::post(self->stream_.get_executor(),
                          [self, response = std::move(response), version]() mutable {
                            self->Write(std::move(response), version, /*counted=*/true);
                          });
              });
  }

  void Write(HttpResponse response, unsigned version, bool counted = false) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), version);
    res->set(http::field::server, "fundledger");
    res->set(http::field::content_type, response.content_type);
    if (!response.cache_control.empty())
      res->set(http::field::cache_control, response.cache_control);
    if (!response.allow.empty()) res->set(http::field::allow, response.allow);
    if (!response.set_cookie.empty()) res->set(http::field::set_cookie, response.set_cookie);
    if (!response.retry_after.empty()) res->set(http::field::retry_after, response.retry_after);
    // The server's own answers (413, 503) carry the log size too: every response does.
    if (!response.log_size) response.log_size = server_.service().served_log_size();
    if (response.log_size) res->set(kLogSizeHeader, std::to_string(*response.log_size));
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive_ && !server_.stopping());
    res->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(server_.options().write_timeout);
    http::async_write(
        stream_, *res,
        [self = this->shared_from_this(), res, counted](beast::error_code ec, size_t) {
          if (counted) self->server_.LeaveRequest();
          if (ec || !res->keep_alive()) return self->Close();
          self->Read();
        });
  }

  void Close() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    if (linger_) Drain();
  }

  // Lingering close: after refusing a request whose body is still arriving, read and drop
  // what the client sends for a moment, so closing does not reset the connection (which
  // would destroy the error response before the client reads it).
  void Drain() {
    beast::get_lowest_layer(stream_).expires_after(kLingerTime);
    beast::get_lowest_layer(stream_).socket().async_read_some(
        net::buffer(drain_), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
          self->drained_ += n;
          if (!ec && self->drained_ < kLingerBytesMax) self->Drain();
        });
  }

  HttpServer::Impl& server_;
  ConnectionLimiter::Slot slot_;  // the connection counts against the caps while this lives
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  bool idle_ = false;
  bool head_started_ = false;
  size_t body_limit_ = 0;  // of the request being read: by who is calling
  bool linger_ = false;
  std::array<char, 16384> drain_;
  size_t drained_ = 0;
  static constexpr std::chrono::seconds kLingerTime{2};
  static constexpr size_t kLingerBytesMax = size_t{64} << 20;
  static constexpr size_t kHeadReadBytes = 4096;
};

}  // namespace

Result<uint16_t> HttpServer::Impl::Start() {
  size_t colon = options_.listen.rfind(':');
  if (colon == std::string::npos)
    return InvalidArgument("--listen takes HOST:PORT, e.g. 127.0.0.1:8080").WithField("listen");
  std::string host = options_.listen.substr(0, colon);
  int port = std::atoi(options_.listen.c_str() + colon + 1);
  if (port < 0 || port > 65535) return InvalidArgument("port must be 0..65535").WithField("listen");
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
      return InvalidArgument("TLS needs both --tls-cert and --tls-key");
    }
    beast::error_code ec;
    ssl_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ssl_.use_certificate_chain_file(options_.tls_cert_file, ec);
    if (ec)
      return InvalidArgument("cannot load the TLS certificate " + options_.tls_cert_file + ": " +
                             ec.message());
    ssl_.use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
    if (ec)
      return InvalidArgument("cannot load the TLS key " + options_.tls_key_file + ": " +
                             ec.message());
    tls_ = true;
  }
  beast::error_code ec;
  tcp::endpoint endpoint(net::ip::make_address(host, ec), static_cast<uint16_t>(port));
  if (ec) return InvalidArgument("'" + host + "' is not an IP address").WithField("listen");
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return IoError("cannot listen on " + options_.listen + ": " + ec.message());
  if (options_.handle_signals) {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait([this](beast::error_code e, int) {
      if (!e) BeginShutdown();
    });
  }
  // Measured now the store, the listening socket and the reactor's own descriptors are open.
  if (Status fit = limiter_.FitToDescriptorLimit(); !fit.ok()) return fit;
  work_.emplace(ioc_.get_executor());
  Accept();
  return acceptor_.local_endpoint().port();
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), beast::bind_front_handler(&Impl::OnAccept, this));
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping_) return;
  if (ec) return AcceptAfterError();
  accept_backoff_ = std::chrono::milliseconds(0);
  tcp::endpoint peer = socket.remote_endpoint(ec);
  Result<ConnectionLimiter::Slot> slot = limiter_.Admit(ec ? "" : peer.address().to_string());
  if (!slot.ok()) {
    RefuseConnection(std::move(socket), slot.status());
    return Accept();
  }
  socket.set_option(tcp::no_delay(true), ec);
  if (tls_) {
    auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
        *this, std::move(slot).value(), std::move(socket), ssl_);
    Register(s);
    s->Begin();
  } else {
    auto s = std::make_shared<Session<beast::tcp_stream>>(*this, std::move(slot).value(),
                                                          std::move(socket));
    Register(s);
    s->Begin();
  }
  Accept();
}

void HttpServer::Impl::AcceptAfterError() {
  accept_backoff_ = std::clamp(accept_backoff_ * 2, kAcceptBackoffMin, kAcceptBackoffMax);
  accept_timer_.expires_after(accept_backoff_);
  accept_timer_.async_wait([this](beast::error_code ec) {
    if (!ec && !stopping_) Accept();
  });
}

void HttpServer::Impl::RefuseConnection(tcp::socket socket, const Status& why) {
  HttpResponse response = ErrorResponse(why);
  std::string bytes =
      "HTTP/1.1 503 Service Unavailable\r\nServer: fundledger\r\n"
      "Content-Type: application/json\r\nConnection: close\r\n"
      "Retry-After: 1\r\n" +
      LogSizeLine(service_.served_log_size()) +
      "Content-Length: " + std::to_string(response.body.size()) + "\r\n\r\n" + response.body;
  beast::error_code ec;
  socket.non_blocking(true, ec);  // a client that does not read cannot hold the accept loop
  socket.write_some(net::buffer(bytes), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  // What the client already sent is read and dropped: closing with unread data would reset the
  // connection and could destroy the 503 before the client reads it.
  std::array<char, 4096> drop;
  for (int i = 0; i < 16 && socket.read_some(net::buffer(drop), ec) > 0;) ++i;
  socket.close(ec);
}

void HttpServer::Impl::Run() {
  std::vector<std::thread> threads;
  for (int i = 1; i < options_.io_threads; ++i) threads.emplace_back([this] { ioc_.run(); });
  ioc_.run();
  for (auto& t : threads) t.join();
  handlers_.join();
}

void HttpServer::Impl::Stop() {
  net::post(ioc_, [this] { BeginShutdown(); });
}

void HttpServer::Impl::BeginShutdown() {
  if (stopping_.exchange(true)) return;
  beast::error_code ec;
  acceptor_.close(ec);
  signals_.cancel(ec);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& w : sessions_) {
      if (auto s = w.lock()) s->CloseIfIdle();
    }
  }
  grace_deadline_ = std::chrono::steady_clock::now() + options_.shutdown_grace;
  WaitForQuiet();
}

void HttpServer::Impl::WaitForQuiet() {
  if ((in_flight_.load() == 0 && LiveSessions() == 0) ||
      std::chrono::steady_clock::now() >= grace_deadline_) {
    work_.reset();
    ioc_.stop();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& w : sessions_) {
      if (auto s = w.lock()) s->CloseIfIdle();
    }
  }
  grace_timer_.expires_after(std::chrono::milliseconds(10));
  grace_timer_.async_wait([this](beast::error_code) { WaitForQuiet(); });
}

HttpServer::HttpServer(HttpHandler& service, ServerOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {}
HttpServer::~HttpServer() = default;
Result<uint16_t> HttpServer::Start() { return impl_->Start(); }
void HttpServer::Run() { impl_->Run(); }
void HttpServer::Stop() { impl_->Stop(); }

HttpRequest FromBeastRequest(http::request<http::string_body> req) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  r.authorization = std::string(req[http::field::authorization]);
  r.idempotency_key = std::string(req["Idempotency-Key"]);
  r.content_type = std::string(req[http::field::content_type]);
  r.accept_language = std::string(req[http::field::accept_language]);
  r.cookie = std::string(req[http::field::cookie]);
  r.csrf_token = std::string(req["X-CSRF-Token"]);
  r.signature = std::string(req[kSignatureHeader]);
  r.body = std::move(req.body());
  return r;
}

}  // namespace fundledger
