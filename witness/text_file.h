// The small line-based text files a witness and its users are configured with (the logs it
// watches, a witness policy): read whole and bounded, walked line by line, errors naming the
// file and the line.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "crypto/status.h"

namespace fundledger {

// The file's bytes; NotFound if it cannot be opened, TooLarge above `bytes_max`.
Result<std::string> ReadTextFile(const std::string& path, size_t bytes_max, std::string_view what);
// Calls `visit(line, number)` for each line of `text` without its newline (numbers from 1;
// the last line may lack one) and returns the first error.
Status ForEachLine(std::string_view text,
                   const std::function<Status(std::string_view line, uint64_t number)>& visit);
// `status` with "<path>: " before its message; its code and line are kept.
Status InFile(const std::string& path, const Status& status);

}  // namespace fundledger
