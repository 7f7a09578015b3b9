// RuleCode: every ledger rule a command can break, with its stable name and what it means.
//
// The name is the API's error code (`{"error": {"code": "duplicate_payment", ...}}`, HTTP 422)
// and never changes once released: clients, the staff console and auditors' scripts match on
// it. The table below is the single list; ledger/README.md and the OpenAPI document name every
// code in it (tests check both).
//
//   return RuleError(RuleCode::kDuplicatePayment, "beneficiary 'B1' is already paid ...",
//                    "beneficiary_id");
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/status.h"

namespace fundledger {

// X(enumerator, "name", "when it applies")
// clang-format off
#define FL_RULE_CODES(X)                                                                          \
  X(kUnknownFund, "unknown_fund", "the fund does not exist")                                       \
  X(kUnknownProgram, "unknown_program", "the program is not defined")                              \
  X(kUnknownBeneficiary, "unknown_beneficiary", "the person is not registered")                    \
  X(kUnknownBatch, "unknown_batch", "the disbursement batch does not exist")                        \
  X(kUnknownLine, "unknown_line", "the batch has no line with that number")                        \
  X(kUnknownEntry, "unknown_entry", "the entry does not exist or is not of the kind named")        \
  X(kUnknownCheckpoint, "unknown_checkpoint", "no signed checkpoint of that size precedes the entry") \
  X(kDuplicateId, "duplicate_id", "a record with that id exists")                                  \
  X(kDuplicatePerson, "duplicate_person", "the ID number is already registered (names the other record)") \
  X(kFundClosed, "fund_closed", "the fund is closed")                                              \
  X(kFundNotEmpty, "fund_not_empty", "a fund that still holds money cannot be closed")             \
  X(kInsufficientFunds, "insufficient_funds", "a fund bucket would go below zero, counting reservations") \
  X(kAmountOverflow, "amount_overflow", "a balance or total would overflow a 64-bit count of fen") \
  X(kRestrictedPurpose, "restricted_purpose", "restricted money spent, moved or granted outside its purpose") \
  X(kLotteryCategory, "lottery_category", "lottery money spent outside the fund's approved categories") \
  X(kLotteryRingFenced, "lottery_ring_fenced", "lottery money leaves its fund other than as a grant") \
  X(kNotLotteryFund, "not_lottery_fund", "a lottery grant from a fund that is not a lottery fund") \
  X(kLinesRejected, "lines_rejected", "a roll had bad lines: details list each (line, field, code)") \
  X(kDeceased, "deceased", "the person died before the period")                                   \
  X(kNotActive, "not_active", "the person is suspended or otherwise not active in the period")     \
  X(kNotEnrolled, "not_enrolled", "the person is not enrolled in the program for the period")     \
  X(kOverCap, "over_cap", "the amount is above the program's cap")                                 \
  X(kProgramNotAllowed, "program_not_allowed", "the fund may not pay that program")                \
  X(kProgramNotEffective, "program_not_effective", "the program has no standard in force in the period") \
  X(kAgeLimit, "age_limit", "the person is outside the program's age limits in the period")        \
  X(kExcludedCombination, "excluded_combination", "the program may not be combined with one the person receives") \
  X(kDuplicatePayment, "duplicate_payment", "the person is already paid for that program and period") \
  X(kDuplicateLineNo, "duplicate_line_no", "a line number appears twice in one roll")              \
  X(kBeneficiaryErased, "beneficiary_erased", "the person's personal data was erased")            \
  X(kSameMakerChecker, "same_maker_checker", "the preparer cannot approve or reject the batch")   \
  X(kBatchNotPrepared, "batch_not_prepared", "the batch was already approved or rejected")         \
  X(kBatchNotApproved, "batch_not_approved", "a correction names a batch that is not approved")   \
  X(kIncompleteBatch, "incomplete_batch", "a batch's chunks are missing or do not match")          \
  X(kLineNotPaid, "line_not_paid", "only a paid line can be returned or recovered")               \
  X(kLineNotReturned, "line_not_returned", "only a returned line can be reissued")                \
  X(kWrongBeneficiary, "wrong_beneficiary", "the line paid another person")                        \
  X(kOverRecovery, "over_recovery", "more would be recovered than remains recoverable of the payment") \
  X(kLineRecovered, "line_recovered", "money was recovered from the line: reverse the recovery before the return") \
  X(kRecoveryWithoutLine, "recovery_without_line", "a recovery must name the payment it recovers (batch and line)") \
  X(kWrongFund, "wrong_fund", "recovered money goes back to the fund and bucket that paid it")     \
  X(kCorrectionNotLatest, "correction_not_latest", "a line's corrections are reversed newest first") \
  X(kAlreadyReversed, "already_reversed", "the entry was already reversed")                       \
  X(kNotReversible, "not_reversible", "the entry moved no money that can be reversed")            \
  X(kAlreadyEnrolled, "already_enrolled", "the person is already enrolled for those months")      \
  X(kAlreadyErased, "already_erased", "the person was already erased")                             \
  X(kWrongOrganisation, "wrong_organisation", "the fund belongs to another organisation")      \
  X(kBirthMonthMismatch, "birth_month_mismatch", "the typed birth month differs from the birth date in the ID number") \
  X(kAboveEnrolledAmount, "above_enrolled_amount", "a line pays more than the amount enrolled (approved) for its month") \
  X(kPeriodAhead, "period_ahead", "a roll line's period is more than one month after the roll's period") \
  X(kOneOffLimit, "one_off_limit", "a one-off program would pay a person more often than its limit in its window, or twice in one roll") \
  X(kTekunRatio, "tekun_ratio", "a tekun standard would be below 1.3 times a dibao standard in force in the same month") \
  X(kAgeExtension, "age_extension", "an age extension on a program with no upper age limit") \
  X(kConsentRefForm, "consent_ref_form", "a release's consent_ref is not consent:<ref> or filing:<ref> (lottery money: filing:)") \
  X(kSignatureRequired, "signature_required", "the ledger requires signed commands and this one is not signed") \
  X(kBadSignature, "bad_signature", "the signature does not verify over the command, or is not bound to it") \
  X(kUnknownKey, "unknown_key", "the signing key is not registered, or is another actor's")      \
  X(kKeyRevoked, "key_revoked", "the signing key was revoked")                                   \
  X(kKeyNotForRole, "key_not_for_role", "the signing key is not registered for the role the command is made in") \
  X(kCheckerKeyIsMakers, "checker_key_is_makers", "an approval is signed by the key that signed the roll") \
  X(kDuplicateKey, "duplicate_key", "the key (or its key id) is already registered")           \
  X(kAdminOnly, "admin_only", "keys and the signing switch are registered by an admin")          \
  X(kNoAdminKey, "no_admin_key", "signing cannot be required before an admin key is registered") \
  X(kSigningAlreadyRequired, "signing_already_required", "signing is already required")   \
  X(kWeakKey, "weak_key", "the public key is of small order or outside the curve's prime-order group: anyone could sign as it")
// clang-format on

enum class RuleCode : uint8_t {
#define FL_RULE_ENUM(e, name, when) e,
  FL_RULE_CODES(FL_RULE_ENUM)
#undef FL_RULE_ENUM
};

struct RuleCodeInfo {
  RuleCode code;
  std::string_view name;  // the stable API code
  std::string_view when;  // one line for people: when the rule refuses a command
};

// Every rule, in declaration order.
inline constexpr auto kRuleCodes = std::to_array<RuleCodeInfo>({
#define FL_RULE_INFO(e, name, when) {RuleCode::e, name, when},
    FL_RULE_CODES(FL_RULE_INFO)
#undef FL_RULE_INFO
});

constexpr std::string_view RuleCodeName(RuleCode code) {
  return kRuleCodes[static_cast<size_t>(code)].name;
}
std::optional<RuleCode> RuleCodeFromName(std::string_view name);

// A rule violation (HTTP 422) carrying the code's name as its rule, and the field if given.
Status RuleError(RuleCode code, std::string message, std::string_view field = {});

}  // namespace fundledger
