// A request parsed by Boost.Beast, as the Service sees it. One conversion, used by the server
// and by the HTTP fuzzer, so the fuzzer exercises exactly what the server hands over.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "api/http_message.h"

namespace fundledger {

// Takes the request by value so that the server can move a large body in instead of copying it.
HttpRequest FromBeastRequest(boost::beast::http::request<boost::beast::http::string_body> req);

}  // namespace fundledger
