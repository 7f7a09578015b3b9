// The small text files a witness and its users are configured with (the logs it watches, a
// witness policy): read whole, bounded, and errors that name the file.
#pragma once

#include <string>
#include <string_view>

#include "crypto/status.h"

namespace fundledger {

// The file's bytes; NotFound if it cannot be opened, TooLarge above `bytes_max`.
Result<std::string> ReadTextFile(const std::string& path, size_t bytes_max, std::string_view what);
// `status` with "<path>: " before its message; its code and line are kept.
Status InFile(const std::string& path, const Status& status);

}  // namespace fundledger
