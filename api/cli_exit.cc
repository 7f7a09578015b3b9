#include "api/cli_exit.h"

#include <fmt/core.h>

namespace fundledger {

int ExitFailure(const Status& s) {
  fmt::print(stderr, "error: {}\n", s.ToString());
  for (const Status& d : s.details())
    fmt::print(stderr, "  line {}: {} ({})\n", d.line(), d.message(),
               d.rule().empty() ? d.field() : d.rule());
  return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kNotFound
             ? kExitUnusable
             : kExitFailed;
}

}  // namespace fundledger
