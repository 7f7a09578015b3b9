// The staff console (web/console): one page and one script, embedded at build time and served
// at /console; the page loads nothing from anywhere else.
#include "api/service.h"

namespace fundledger {

std::string_view EmbeddedConsoleHtml();    // console_assets.cc, generated from web/console
std::string_view EmbeddedConsoleScript();  // console_assets.cc, generated from web/console

void Service::AddConsoleRoutes() {
  AddGet("/console", kPublic,
         "The staff console (Chinese by default, ?lang=en): log in, upload rolls, approve", {},
         &Service::ConsolePage);
  AddGet("/console/console.js", kPublic, "The staff console's script", {}, &Service::ConsoleScript);
}

HttpResponse Service::ConsolePage(Context&) {
  HttpResponse r =
      TextResponse(200, std::string(EmbeddedConsoleHtml()), "text/html; charset=utf-8");
  r.cache_control = "no-store";
  return r;
}

HttpResponse Service::ConsoleScript(Context&) {
  HttpResponse r =
      TextResponse(200, std::string(EmbeddedConsoleScript()), "text/javascript; charset=utf-8");
  r.cache_control = "no-store";
  return r;
}

}  // namespace fundledger
