#include "ledger/rule_code.h"

namespace fundledger {

static_assert(kRuleCodes.size() <= 256, "RuleCode is a uint8_t");

std::optional<RuleCode> RuleCodeFromName(std::string_view name) {
  for (const RuleCodeInfo& info : kRuleCodes) {
    if (info.name == name) return info.code;
  }
  return std::nullopt;
}

Status RuleError(RuleCode code, std::string message, std::string_view field) {
  Status s = RuleViolation(std::string(RuleCodeName(code)), std::move(message));
  if (!field.empty()) s.WithField(std::string(field));
  return s;
}

}  // namespace fundledger
