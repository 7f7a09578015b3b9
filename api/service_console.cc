// The staff console (web/console): its page and scripts, embedded at build time
// (api/console_assets.h) and served at /console and /console/<file>; the page loads nothing
// from anywhere else.
#include "api/console_assets.h"
#include "api/service.h"

namespace fundledger {

const ConsoleAsset* FindConsoleAsset(std::string_view name) {
  for (const ConsoleAsset& asset : EmbeddedConsoleAssets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

std::string_view ConsoleContentType(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "text/javascript; charset=utf-8";
}

namespace {

HttpResponse AssetResponse(const ConsoleAsset& asset) {
  HttpResponse r =
      TextResponse(200, std::string(asset.bytes), std::string(ConsoleContentType(asset.name)));
  r.cache_control = "no-store";  // a console from before an upgrade must not outlive it
  return r;
}

}  // namespace

void Service::AddConsoleRoutes() {
  AddGet("/console", kPublic,
         "The staff console (Chinese by default, ?lang=en): log in, upload rolls, approve", {},
         &Service::ConsolePage);
  AddGet("/console/{file}", kPublic, "One of the staff console's scripts or style sheets", {},
         &Service::ConsoleFile);
}

HttpResponse Service::ConsolePage(Context&) {
  const ConsoleAsset* page = FindConsoleAsset("index.html");
  if (page == nullptr) return ErrorResponse(NotFound("the console was built without index.html"));
  return AssetResponse(*page);
}

HttpResponse Service::ConsoleFile(Context& c) {
  const std::string& name = c.params["file"];
  const ConsoleAsset* asset = FindConsoleAsset(name);
  if (asset == nullptr) return ErrorResponse(NotFound("no console file is called " + name));
  return AssetResponse(*asset);
}

}  // namespace fundledger
