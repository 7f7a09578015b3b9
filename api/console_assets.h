// The staff console's files (web/console), embedded into the binary when CMake configures:
// every .html, .js and .css file of that folder, by its file name. A file added there is served
// at /console/<name> with no other change. index.html is the page served at /console.
#pragma once

#include <span>
#include <string_view>

namespace fundledger {

struct ConsoleAsset {
  std::string_view name;   // the file name in web/console, e.g. "console.js"
  std::string_view bytes;  // the file exactly as committed
};

// Generated (api/console_assets.cc.in); sorted by name.
std::span<const ConsoleAsset> EmbeddedConsoleAssets();

// The asset called `name`, or nullptr.
const ConsoleAsset* FindConsoleAsset(std::string_view name);

// The Content-Type for a console file name, by its extension.
std::string_view ConsoleContentType(std::string_view name);

}  // namespace fundledger
